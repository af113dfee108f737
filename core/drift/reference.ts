import { roleNames, type RoleNames } from '../config/role-names.ts';
import type { TargetKind } from '../config/target-settings.ts';
import { withConnection, type Sql } from '../db/connect.ts';
import { redactedUrl, type ConnectionSettings } from '../db/url.ts';
import type { Migration } from '../migrations/files.ts';
import { setupDatabase } from '../setup.ts';
import { startEphemeralCluster, sweepAbandonedClusters, type EphemeralCluster } from './ephemeral.ts';
import { removedEvenOnSignals } from './interrupt.ts';
import { createScratch, dropScratch, newScratch, sweepAbandonedScratch } from './scratch.ts';

/**
 * The reference: the same migrations, with the same setup (roles, privileges, default
 * privileges), applied to an empty database on a server of the same major version.
 * - local and dev: a scratch database on the live server itself;
 * - prod: never on prod. An ephemeral cluster from the local binaries, in a temp folder.
 * Either is removed when the caller's function returns or throws, and on SIGINT/SIGTERM.
 */

export type ReferencePlace =
  | { kind: 'scratch-database'; server: string; database: string }
  | { kind: 'ephemeral-cluster'; port: number; dataDir: string; version: string; database: string };

export interface Reference {
  /** Superuser connection to the reference database. */
  connection: ConnectionSettings;
  roles: RoleNames;
  place: ReferencePlace;
}

export interface ReferenceInput {
  kind: TargetKind;
  /** Administrative connection to the live server's maintenance database. */
  admin: ConnectionSettings;
  /** The live database's name. */
  database: string;
  /** The live server's major version. */
  major: number;
  migrations: readonly Migration[];
  /** For prod: the PostgreSQL bin folder of the ephemeral cluster (default: the embedded binaries). */
  binDir?: string | undefined;
  /** Parent folder of the ephemeral cluster's temp folder (default os.tmpdir()). */
  tempRoot?: string | undefined;
  onProgress?: ((message: string) => void) | undefined;
}

const POOL = { max: 10, min: 2, instances: 1 };

/** Builds the reference, runs `fn` with it, and always removes it. */
export async function withReference<T>(input: ReferenceInput, fn: (ref: Reference) => Promise<T>): Promise<T> {
  return input.kind === 'prod' ? onEphemeralCluster(input, fn) : onSameServer(input, fn);
}

async function onEphemeralCluster<T>(input: ReferenceInput, fn: (ref: Reference) => Promise<T>): Promise<T> {
  const progress = input.onProgress ?? (() => {});
  const swept = await sweepAbandonedClusters(input.tempRoot);
  if (swept.length) progress(`removed ${swept.length} reference cluster(s) an interrupted run left`);
  let starting: Promise<EphemeralCluster> | undefined;
  return removedEvenOnSignals(
    'the reference cluster',
    // A signal during initdb or pg_ctl start waits for them, then stops what they made.
    async () => (await starting?.catch(() => undefined))?.remove(),
    async () => {
      progress(`starting an ephemeral PostgreSQL ${input.major} cluster for the reference`);
      starting = startEphemeralCluster({ major: input.major, binDir: input.binDir, tempRoot: input.tempRoot });
      const eph = await starting;
      progress(`reference cluster running in ${eph.root} on port ${eph.cluster.port}`);
      const admin = eph.cluster.adminSettings();
      progress(`applying ${input.migrations.length} migration(s) to the reference`);
      await setupDatabase({ admin, database: input.database, pool: POOL, passwords: {}, migrations: input.migrations });
      return fn({
        connection: { ...admin, database: input.database },
        roles: roleNames(input.database),
        place: { kind: 'ephemeral-cluster', port: eph.cluster.port, dataDir: eph.cluster.dataDir, version: eph.cluster.bins.version, database: input.database },
      });
    },
  );
}

async function onSameServer<T>(input: ReferenceInput, fn: (ref: Reference) => Promise<T>): Promise<T> {
  const progress = input.onProgress ?? (() => {});
  const maintenance = <R>(work: (sql: Sql) => Promise<R>) => withConnection(input.admin, { applicationName: 'pgsteward drift' }, work);
  const swept = await maintenance((sql) => sweepAbandonedScratch(sql));
  if (swept.length) progress(`removed ${swept.length} scratch database(s) an interrupted run left: ${swept.join(', ')}`);
  const scratch = newScratch();
  return removedEvenOnSignals(
    `the reference scratch database ${scratch.database}`,
    () => maintenance((sql) => dropScratch(sql, scratch.database)),
    async () => {
      await maintenance((sql) => createScratch(sql, scratch, `drift reference for ${input.database}`));
      progress(`reference scratch database ${scratch.database} on ${redactedUrl(input.admin)}`);
      progress(`applying ${input.migrations.length} migration(s) to the reference`);
      await setupDatabase({ admin: input.admin, database: scratch.database, pool: POOL, passwords: {}, migrations: input.migrations });
      return fn({
        connection: { ...input.admin, database: scratch.database },
        roles: scratch.roles,
        place: { kind: 'scratch-database', server: redactedUrl(input.admin), database: scratch.database },
      });
    },
  );
}
