import { roleNames, type RoleNames } from '../config/role-names.ts';
import type { TargetKind } from '../config/target-settings.ts';
import { withConnection, type Sql } from '../db/connect.ts';
import type { ConnectionSettings } from '../db/url.ts';
import { UserError } from '../errors.ts';
import type { Migration } from '../migrations/files.ts';
import { performance } from 'node:perf_hooks';
import { readLedger } from '../migrations/ledger.ts';
import type { AppliedRow } from '../migrations/plan.ts';
import { diffSnapshots } from './diff.ts';
import { OBJECT_TYPES, type CatalogObject, type DriftFinding, type ObjectType, type Snapshot } from './model.ts';
import { withReference, type ReferencePlace } from './reference.ts';
import { readSnapshot } from './snapshot.ts';

export interface DetectDriftInput {
  /** What kind of target the live database is: `prod` builds the reference on an ephemeral local cluster, never on the server. */
  kind: TargetKind;
  /** Administrative connection to the live server's maintenance database (Target.admin). */
  admin: ConnectionSettings;
  /** The live database. */
  database: string;
  /** The project's migrations (the reference applies those the live ledger records as applied). */
  migrations: readonly Migration[];
  /** The live database's five roles; default roleNames(database). */
  roles?: RoleNames | undefined;
  /** Bin folder for prod's ephemeral cluster (LOCAL_PG_BIN); default the embedded binaries. */
  binDir?: string | undefined;
  tempRoot?: string | undefined;
  onProgress?: ((message: string) => void) | undefined;
  /** Sees every statement sent to the live database (to count them, or to prove they only read). */
  onLiveQuery?: ((text: string) => void) | undefined;
}

export interface DriftReport {
  findings: DriftFinding[];
  /** What the comparison could not cover, e.g. migrations not applied yet. */
  notes: string[];
  reference: ReferencePlace;
  /** Migrations the reference applied: those the live ledger records. */
  migrationsApplied: number;
  objects: { live: number; reference: number };
  /** Objects per type on each side, for "what was compared" (in OBJECT_TYPES order, types neither side has left out). */
  objectTypes: Array<{ type: ObjectType; live: number; reference: number }>;
  /** SQL statements the comparison sent to each side (building the reference excluded). */
  queries: { live: number; reference: number };
  /**
   * Where the time went, in ms: reading the live catalog (ledger included), building the
   * reference (scratch database or cluster, migrations, setup), reading the reference, and
   * the diff. `comparison` is what the cost target is about: everything but `referenceBuild`.
   */
  timings: { liveRead: number; referenceBuild: number; referenceRead: number; diff: number; comparison: number };
}

/** How many objects of each type two snapshots hold. Pure. */
export function countByType(live: Map<string, CatalogObject>, reference: Map<string, CatalogObject>): DriftReport['objectTypes'] {
  const counts = new Map<ObjectType, { live: number; reference: number }>();
  const add = (o: CatalogObject, side: 'live' | 'reference') => {
    let c = counts.get(o.type);
    if (!c) counts.set(o.type, (c = { live: 0, reference: 0 }));
    c[side]++;
  };
  for (const o of live.values()) add(o, 'live');
  for (const o of reference.values()) add(o, 'reference');
  return OBJECT_TYPES.filter((t) => counts.has(t)).map((type) => ({ type, ...counts.get(type)! }));
}

/** Which local migrations make the reference: exactly those the live ledger records as applied. Pure. */
export function migrationsForReference(local: readonly Migration[], applied: readonly AppliedRow[]): { migrations: Migration[]; notes: string[] } {
  const notes: string[] = [];
  const byVersion = new Map(local.map((m) => [m.version, m]));
  const missingFiles = applied.filter((r) => r.success && !byVersion.has(r.version));
  if (missingFiles.length) {
    const v = missingFiles.map((r) => String(r.version)).join(', ');
    throw new UserError(`migration${missingFiles.length > 1 ? 's' : ''} ${v} applied to the database but not in the migrations folder`, 'restore the missing files from version control (see the migration-state check); drift is measured against the files that built the database');
  }
  const failed = applied.filter((r) => !r.success);
  if (failed.length) notes.push(`migration ${failed.map((r) => String(r.version)).join(', ')} is marked failed in _sqlx_migrations and was left out of the reference`);
  const done = new Set(applied.filter((r) => r.success).map((r) => r.version));
  const migrations = local.filter((m) => done.has(m.version));
  const changed = migrations.filter((m) => !applied.find((r) => r.version === m.version)!.checksum.equals(m.checksum));
  if (changed.length) notes.push(`migration ${changed.map((m) => m.file).join(', ')} changed after it was applied; the reference uses the file as it is now`);
  const pending = local.filter((m) => !done.has(m.version) && !failed.some((r) => r.version === m.version));
  if (pending.length) notes.push(`${pending.length} migration(s) not applied yet (${pending.map((m) => m.file).join(', ')}) are not part of the comparison; setup-db applies them`);
  return { migrations, notes };
}

/** A session that cannot write, whatever it is asked. */
const READ_ONLY = { default_transaction_read_only: 'on' };

/** Reads the live side: its ledger (which migrations built it) and its snapshot. */
async function readLive(input: DetectDriftInput, roles: RoleNames): Promise<{ snapshot: Snapshot; ledger: AppliedRow[]; queries: number }> {
  let queries = 0;
  return withConnection(
    { ...input.admin, database: input.database },
    {
      applicationName: 'pgsteward drift',
      parameters: READ_ONLY,
      onQuery: (text) => {
        queries++;
        input.onLiveQuery?.(text);
      },
    },
    async (sql: Sql) => {
      const [exists] = await sql.unsafe<{ t: string | null }[]>(`SELECT to_regclass('_sqlx_migrations')::text AS t`);
      if (!exists?.t) {
        throw new UserError(`database ${input.database} has no migration ledger (_sqlx_migrations)`, 'run setup-db first: drift is measured against the migrations that built the database');
      }
      const ledger = await readLedger(sql);
      const snapshot = await readSnapshot(sql, { roles });
      return { snapshot, ledger, queries };
    },
  ).then((r) => ({ ...r, queries }));
}

/** Opens a read-only session on one side, counting its statements. */
function readSide(c: ConnectionSettings, opts: Parameters<typeof readSnapshot>[1], onQuery?: (text: string) => void): Promise<{ snapshot: Snapshot; queries: number }> {
  let queries = 0;
  return withConnection(c, { applicationName: 'pgsteward drift', parameters: READ_ONLY, onQuery: (text) => (queries++, onQuery?.(text)) }, (sql) => readSnapshot(sql, opts)).then(
    (snapshot) => ({ snapshot, queries }),
  );
}

/** Reads both sides at once and compares them: the part of a drift run whose cost the benchmark measures. */
export async function compareDatabases(
  live: { connection: ConnectionSettings; roles: RoleNames },
  reference: { connection: ConnectionSettings; roles: RoleNames },
): Promise<{ findings: DriftFinding[]; live: Snapshot; reference: Snapshot; queries: { live: number; reference: number } }> {
  const [l, r] = await Promise.all([readSide(live.connection, { roles: live.roles }), readSide(reference.connection, { roles: reference.roles, aliases: [live.roles] })]);
  return {
    findings: diffSnapshots(r.snapshot.objects, l.snapshot.objects, l.snapshot.roleNames),
    live: l.snapshot,
    reference: r.snapshot,
    queries: { live: l.queries, reference: r.queries },
  };
}

/**
 * Schema drift: the live database against the same migrations applied, with the same
 * setup, to an empty database (see reference.ts for where). Read-only on the live database.
 * Returns one finding per differing object; never changes either side to fix one.
 */
export async function detectDrift(input: DetectDriftInput): Promise<DriftReport> {
  const roles = input.roles ?? roleNames(input.database);
  const progress = input.onProgress ?? (() => {});
  progress(`reading the catalog of ${input.database}`);
  const t0 = performance.now();
  const live = await readLive(input, roles);
  const liveRead = performance.now() - t0;
  const { migrations, notes } = migrationsForReference(input.migrations, live.ledger);
  const t1 = performance.now();
  return withReference(
    { kind: input.kind, admin: input.admin, database: input.database, major: live.snapshot.major, migrations, binDir: input.binDir, tempRoot: input.tempRoot, onProgress: progress },
    async (ref) => {
      const t2 = performance.now();
      progress('reading the reference catalog');
      const reference = await readSide(ref.connection, { roles: ref.roles, aliases: [roles] });
      const t3 = performance.now();
      const findings = diffSnapshots(reference.snapshot.objects, live.snapshot.objects, live.snapshot.roleNames);
      const t4 = performance.now();
      const ms = (x: number) => Math.round(x * 10) / 10;
      return {
        findings,
        notes,
        reference: ref.place,
        migrationsApplied: migrations.length,
        objects: { live: live.snapshot.objects.size, reference: reference.snapshot.objects.size },
        objectTypes: countByType(live.snapshot.objects, reference.snapshot.objects),
        queries: { live: live.queries, reference: reference.queries },
        timings: { liveRead: ms(liveRead), referenceBuild: ms(t2 - t1), referenceRead: ms(t3 - t2), diff: ms(t4 - t3), comparison: ms(liveRead + (t4 - t2)) },
      };
    },
  );
}
