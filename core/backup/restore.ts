import { spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { roleNames } from '../config/role-names.ts';
import type { OpsConfig } from '../config/ops-config.ts';
import { connectChecked, ident, type Sql } from '../db/connect.ts';
import type { ConnectionSettings } from '../db/url.ts';
import { UserError, isUserError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { invocation, locateTool, type PgTool } from '../pgtools/invoke.ts';
import { appConnectionLimit } from '../config/target-settings.ts';
import { convergeCluster, convergeRoles } from '../roles/converge.ts';
import { roleModel } from '../roles/model.ts';
import { scrub } from '../secrets.ts';
import { dropSchema } from '../setup.ts';
import { copyDatabase } from '../db/copy.ts';
import { adminConnection, type Target } from '../open-target.ts';
import { opsFor, placementFor, serverInfo } from './backup.ts';
import { summarizeChecks, type ChecksRunner, type ChecksSummary } from './checks.ts';
import { sha256File } from './files.ts';
import { parseManifest, type BackupManifest, type RowCountMismatch } from './manifest.ts';
import { DATABASE_IDENTIFIER, manifestNameFor, scratchDatabaseName } from './names.ts';
import { takeSafetyBackup } from './safety.ts';
import type { BackupStorage, OpenedDump, StoredBackup } from './storage/index.ts';
import { compareRowCounts, countRows, listTables } from './tables.ts';

/** A backup in storage (newest when no name is given), or a dump file with its manifest beside it. */
export type BackupSource = { storage: BackupStorage; name?: string | undefined } | { file: string };

export type RestoreDestination = { kind: 'new'; database?: string | undefined } | { kind: 'existing' };

export interface RestoreGuardInput {
  targetKind: Target['config']['kind'];
  database: string;
  into: RestoreDestination;
  /** The database name the operator typed. */
  confirm?: string | undefined;
  force?: boolean | undefined;
}

/**
 * Overwriting a database is allowed only when asked for by name; on prod only with --force as
 * well. Pure, and checked before anything is read or touched.
 */
export function restoreGuard(g: RestoreGuardInput): void {
  if (g.into.kind !== 'existing') return;
  if (g.confirm === undefined) {
    throw new UserError(`restoring over the existing database ${g.database} needs a typed confirmation`, `pass --confirm ${g.database} (or run it on a terminal and type the name)`);
  }
  if (g.confirm !== g.database) {
    throw new UserError(`confirmation "${g.confirm.slice(0, 64)}" does not match the database name ${g.database}`, `type the name exactly: --confirm ${g.database}`);
  }
  if (g.targetKind === 'prod' && !g.force) {
    throw new UserError(`refusing to restore over the prod database ${g.database} without --force`, 'add --force if you really mean to replace production data (a safety backup is taken first)');
  }
}

export interface ResolvedBackup {
  backup: StoredBackup;
  dump: OpenedDump;
}

/** Finds the backup and makes its dump readable locally (downloading it from S3). */
export async function resolveBackup(source: BackupSource): Promise<ResolvedBackup> {
  if ('file' in source) {
    const file = path.resolve(source.file);
    if (!existsSync(file)) throw new UserError(`backup file ${file} does not exist`, 'check the path');
    const mf = path.join(path.dirname(file), manifestNameFor(path.basename(file)));
    if (!existsSync(mf)) throw new UserError(`backup file ${file} has no manifest beside it (${path.basename(mf)})`, 'without a manifest its integrity cannot be checked; copy the .json next to the dump');
    const manifest = parseManifest(await readFile(mf, 'utf8'), mf);
    return { backup: { name: path.basename(file), manifest, location: file }, dump: { file, release: async () => {} } };
  }
  let name = source.name;
  if (!name) {
    const { backups } = await source.storage.list();
    const newest = backups.at(-1);
    if (!newest) throw new UserError(`no backups in ${source.storage.location}`, 'take one with npm run backup-db');
    name = newest.name;
  }
  const backup = await source.storage.get(name);
  return { backup, dump: await source.storage.open(name) };
}

/** The SHA-256 check that comes before anything else: a damaged or altered dump is never restored. */
export async function checkIntegrity(r: ResolvedBackup): Promise<void> {
  const got = r.dump.sha256 !== undefined && r.dump.bytes !== undefined ? { sha256: r.dump.sha256, bytes: r.dump.bytes } : await sha256File(r.dump.file);
  const m = r.backup.manifest;
  if (got.sha256 !== m.sha256 || got.bytes !== m.bytes) {
    throw new UserError(
      `backup ${r.backup.name} failed its integrity check: SHA-256 ${got.sha256.slice(0, 16)}… (${got.bytes} bytes) does not match the manifest's ${m.sha256.slice(0, 16)}… (${m.bytes} bytes); nothing was restored`,
      'the file is damaged or was altered: restore another backup (retention --dry-run lists them)',
    );
  }
}

function lastErrorLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const err = [...lines].reverse().find((l) => /error|fatal|failed/i.test(l)) ?? lines.at(-1) ?? 'no output';
  return scrub(err.replace(/^pg_restore: (error: )?/, ''));
}

/** pg_restore in one transaction: it all lands, or nothing does. */
export async function runPgRestore(tool: PgTool, conn: ConnectionSettings, file: string, opts: { onItem?: (count: number) => void; env?: NodeJS.ProcessEnv } = {}): Promise<void> {
  const viaStdin = tool.placement.kind === 'docker';
  const args = ['--exit-on-error', '--single-transaction', '--no-password', '--verbose', `--dbname=${conn.database}`, ...(viaStdin ? [] : [file])];
  const inv = invocation(tool, args, conn, 'pgsteward restore', opts.env);
  const child = spawn(inv.file, inv.args, { env: inv.env, stdio: [viaStdin ? 'pipe' : 'ignore', 'ignore', 'pipe'], detached: true });
  if (viaStdin) createReadStream(file).pipe(child.stdin!);
  let stderr = '';
  let items = 0;
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    stderr = (stderr + d).slice(-16_384);
    const n = (d.match(/^pg_restore: (creating|processing|executing)/gm) ?? []).length;
    if (n) opts.onItem?.((items += n));
  });
  const exit = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  }).catch((e: NodeJS.ErrnoException) => {
    throw new UserError(`cannot run ${inv.file}: ${e.code ?? e.message}`, 'install the PostgreSQL client tools or set PG_BIN');
  });
  if (exit !== 0) throw new UserError(`pg_restore failed: ${lastErrorLine(stderr)}`, 'the restore was rolled back; see the message for the cause');
}

export interface PostRestoreReport {
  checks: ChecksSummary;
  rowCounts: { ok: boolean; tables: number; mismatches: RowCountMismatch[] };
}

/** The proof a restore worked: the checks suite (against the source's role names) and the manifest's row counts. */
export async function examineRestore(conn: ConnectionSettings, manifest: BackupManifest, checks: ChecksRunner): Promise<PostRestoreReport> {
  const sql = await connectChecked(conn, { max: 1, applicationName: 'pgsteward restore' });
  let actual: Record<string, number>;
  try {
    actual = await countRows(sql, await listTables(sql));
  } finally {
    await sql.end({ timeout: 5 });
  }
  const mismatches = compareRowCounts(manifest.tables, actual);
  const report = await checks({ connection: conn, roles: manifest.roles ?? roleNames(manifest.database) });
  return { checks: summarizeChecks(report), rowCounts: { ok: mismatches.length === 0, tables: Object.keys(manifest.tables).length, mismatches } };
}

async function databaseExists(sql: Sql, name: string): Promise<boolean> {
  return (await sql`select 1 from pg_database where datname = ${name}`).length > 0;
}

/** The source's roles must exist where its objects land, as the model has them; missing ones get no password (no login until setup-db gives them one). */
async function ensureRoles(sql: Sql, manifest: BackupManifest, target: Target): Promise<string[]> {
  return convergeRoles(sql, roleModel({ database: manifest.database, roles: manifest.roles, appConnectionLimit: appConnectionLimit(target.config.pool) }), { passwords: {} });
}

/** Creates the database a backup is restored into, owned and fenced like the original. */
export async function createRestoreDatabase(sql: Sql, name: string, manifest: BackupManifest, target: Target): Promise<void> {
  if (!DATABASE_IDENTIFIER.test(name)) {
    throw new UserError(`invalid database name "${name.slice(0, 64)}"`, 'use lower-case letters, digits and underscores, not starting with a digit');
  }
  if (await databaseExists(sql, name)) {
    throw new UserError(`database ${name} already exists`, 'choose another name with --as, or restore over it with --into-existing');
  }
  await convergeCluster(sql, roleModel({ database: name, roles: manifest.roles, appConnectionLimit: appConnectionLimit(target.config.pool) }), { passwords: {} });
}

/**
 * The administrative connection on a database other than the target's own: creating,
 * copying and clearing a database cannot be done from a session inside it.
 */
export function maintenanceConnection(target: Target): ConnectionSettings {
  return target.admin.database === target.config.database ? { ...target.admin, database: 'postgres' } : target.admin;
}

export async function dropDatabase(admin: ConnectionSettings, name: string): Promise<void> {
  const sql = await connectChecked(admin, { max: 1, applicationName: 'pgsteward restore' });
  try {
    await sql.unsafe(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export interface RestoreOptions {
  source: BackupSource;
  into: RestoreDestination;
  checks: ChecksRunner;
  /** For restores over an existing database: the typed name, and --force for prod. */
  confirm?: string | undefined;
  force?: boolean | undefined;
  /** Take a safety backup of a non-empty destination first (default true); without one the restore is refused. */
  safetyBackup?: boolean;
  ops?: OpsConfig;
  logger?: Logger;
  onProgress?: (message: string) => void;
  env?: NodeJS.ProcessEnv;
}

export interface RestoreReport {
  backup: { name: string; location: string; target: string; database: string; startedAt: string; sha256: string; lastMigration: string | null };
  destination: { database: string; created: boolean };
  safetyBackup: WayBack | undefined;
  checks: ChecksSummary;
  rowCounts: PostRestoreReport['rowCounts'];
  ok: boolean;
  durationMs: number;
}

/**
 * Restores a backup: integrity first, then (by default) into a new database; over an
 * existing one only when confirmed by name, on prod only with force, and only after a safety
 * backup. Afterwards the checks suite and the manifest's row counts prove the result.
 */
export async function restoreBackup(target: Target, opts: RestoreOptions): Promise<RestoreReport> {
  const started = Date.now();
  const log = opts.logger ?? silentLogger();
  const progress = opts.onProgress ?? (() => {});
  const env = opts.env ?? process.env;
  restoreGuard({ targetKind: target.config.kind, database: target.config.database, into: opts.into, confirm: opts.confirm, force: opts.force });

  progress('checking integrity');
  const resolved = await resolveBackup(opts.source);
  try {
    await checkIntegrity(resolved);
    const { manifest } = resolved.backup;
    log.info({ backup: resolved.backup.name, sha256: manifest.sha256, bytes: manifest.bytes }, 'backup integrity verified');

    const admin = maintenanceConnection(target);
    const maint = await connectChecked(admin, { max: 1, applicationName: 'pgsteward restore' });
    let destination: string;
    let created = false;
    let safety: WayBack | undefined;
    try {
      const server = await serverInfo(maint);
      const pgRestore = locateTool('pg_restore', manifest.pgDump.major, manifest.pgDump.version, placementFor(opsFor(target, opts.ops, env)), env);
      log.info({ pgRestore: pgRestore.version, server: server.version }, 'restore preflight passed');

      if (opts.into.kind === 'new') {
        destination = opts.into.database ?? scratchDatabaseName(manifest.database, 'restore');
        await createRestoreDatabase(maint, destination, manifest, target);
        created = true;
      } else {
        destination = target.config.database;
        if (!(await databaseExists(maint, destination))) {
          throw new UserError(`database ${destination} does not exist`, `restore into a new database instead: --as ${destination}`);
        }
        await ensureRoles(maint, manifest, target);
      }
      const destConn = adminConnection(target, destination);

      try {
        if (opts.into.kind === 'existing') {
          safety = await prepareExisting(target, destConn, opts, log, progress);
        }
        progress('restoring');
        log.info({ backup: resolved.backup.name, database: destination }, 'restore started');
        await runPgRestore(pgRestore, destConn, resolved.dump.file, { onItem: (n) => progress(`restoring: ${n} items`), env });
      } catch (e) {
        if (created) await dropDatabase(admin, destination).catch(() => {});
        if (safety && isUserError(e)) throw new UserError(e.message, `the previous contents are kept: ${describeWayBack(safety, destination)}`);
        throw e;
      }
    } finally {
      await maint.end({ timeout: 5 });
    }

    progress('running checks');
    const post = await examineRestore(adminConnection(target, destination), manifest, opts.checks);
    const ok = post.checks.ok && post.rowCounts.ok;
    const report: RestoreReport = {
      backup: { name: resolved.backup.name, location: resolved.backup.location, target: manifest.target, database: manifest.database, startedAt: manifest.startedAt, sha256: manifest.sha256, lastMigration: manifest.lastMigration },
      destination: { database: destination, created },
      safetyBackup: safety,
      checks: post.checks,
      rowCounts: post.rowCounts,
      ok,
      durationMs: Date.now() - started,
    };
    log[ok ? 'info' : 'warn']({ database: destination, checksFailed: post.checks.failed, rowCountMismatches: post.rowCounts.mismatches.length }, ok ? 'restore finished and verified' : 'restore finished with findings');
    return report;
  } finally {
    await resolved.dump.release();
  }
}

/**
 * Refuses to overwrite a database other clients are using. A session that just closed can
 * linger for a moment while its backend exits, so this waits a few seconds before deciding.
 */
async function waitForOtherSessions(sql: Sql, database: string, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const [r] = await sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'`;
    if (r!.n === 0) return;
    if (Date.now() > until) throw new UserError(`database ${database} has ${r!.n} other open connection(s)`, 'stop the applications using it, then run the restore again; nothing was changed');
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** What was kept of an overwritten database: a dump in backup storage, or a server-side copy. */
export type WayBack = { kind: 'dump'; location: string } | { kind: 'copy'; database: string };

export function describeWayBack(w: WayBack, database: string): string {
  return w.kind === 'dump'
    ? `safety backup ${w.location} (restore-db ${path.basename(w.location)} --into-existing --confirm ${database})`
    : `server-side copy in database ${w.database} (drop it when no longer needed)`;
}

/** Before overwriting: no other sessions, and a safety backup of anything that is there. */
async function prepareExisting(target: Target, destConn: ConnectionSettings, opts: RestoreOptions, log: Logger, progress: (m: string) => void): Promise<WayBack | undefined> {
  const sql = await connectChecked(destConn, { max: 1, applicationName: 'pgsteward restore' });
  let relations: number;
  try {
    await waitForOtherSessions(sql, destConn.database);
    const [r] = await sql<{ n: number }[]>`select count(*)::int as n from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname <> 'information_schema' and n.nspname !~ '^pg_' and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')`;
    relations = r!.n;
  } finally {
    await sql.end({ timeout: 5 });
  }
  let safety: WayBack | undefined;
  if (relations > 0) {
    if (opts.safetyBackup === false) {
      log.warn({ database: destConn.database }, 'overwriting without a safety backup (--no-safety-backup)');
    } else {
      progress('safety backup');
      const s = await takeSafetyBackup(target, 'pre-restore', { logger: log, ...(opts.ops ? { ops: opts.ops } : {}) });
      if (s.ok) {
        safety = { kind: 'dump', location: s.location };
      } else {
        // No usable pg_dump (a PostgreSQL 17 server here): keep the way back on the server itself.
        log.warn({ database: destConn.database, reason: s.reason }, 'no pg_dump safety backup; copying the database on the server instead');
        try {
          safety = { kind: 'copy', database: await copyDatabase(maintenanceConnection(target), destConn.database, roleNames(destConn.database)) };
        } catch (e) {
          const why = isUserError(e) ? e.line : String((e as Error)?.message ?? e);
          throw new UserError(`no safety backup of ${destConn.database} could be taken (${s.reason}; server-side copy: ${why}); nothing was changed`, 'fix that first, or pass --no-safety-backup to overwrite without a way back');
        }
      }
      log.info({ database: destConn.database, safety }, 'safety backup taken');
    }
  }
  progress('clearing the schema');
  // Our own probes above have closed their sessions, but a backend takes a moment to exit.
  const again = await connectChecked(destConn, { max: 1, applicationName: 'pgsteward restore' });
  try {
    await waitForOtherSessions(again, destConn.database);
  } finally {
    await again.end({ timeout: 5 });
  }
  await dropSchema(target.admin, destConn.database);
  return safety;
}
