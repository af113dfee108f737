import { roleNames } from '../../config/role-names.ts';
import type { OpsConfig } from '../../config/ops-config.ts';
import { withConnection, type Sql } from '../../db/connect.ts';
import { databaseExists, dropDatabase, requireNoSessions, swapDatabases } from '../../db/databases.ts';
import { serverInfo } from '../../db/server.ts';
import { Interrupted, UserError, interruptSignal, isUserError } from '../../errors.ts';
import { silentLogger, type Logger } from '../../log.ts';
import { adminConnection, type Target } from '../../open-target.ts';
import { checksTarget, type ChecksRunner, type ChecksSummary } from '../checks.ts';
import type { BackupManifest } from '../manifest.ts';
import { maintenanceConnection } from '../settings.ts';
import { keepWayBack, type WayBack } from '../way-back.ts';
import { createDestination, dropWhenAborted, fillDestination, keepDestination, locatePgRestore, roleExists } from './destination.ts';
import { restoreGuard, roleModelFor, type RestoreDestination, type RoleModel } from './guard.ts';
import { examineRestore, type PostRestoreReport } from './proof.ts';
import { scratchDatabaseName, sweepAbandoned } from './scratch.ts';
import { openBackup, type BackupSource } from './source.ts';

export { restoreGuard, roleModelFor, type RestoreDestination, type RoleModel } from './guard.ts';
export { checkIntegrity, openBackup, resolveBackup, type BackupSource, type ResolvedBackup } from './source.ts';
export { examineRestore, type PostRestoreReport } from './proof.ts';
export { describeWayBack, type WayBack } from '../way-back.ts';

export interface RestoreOptions {
  source: BackupSource;
  into: RestoreDestination;
  checks: ChecksRunner;
  /** For restores over an existing database: the typed name, and --force for prod. */
  confirm?: string | undefined;
  force?: boolean | undefined;
  /** Keep the replaced database as the way back (default true); false drops it once the restore has landed. */
  safetyBackup?: boolean;
  ops?: OpsConfig;
  logger?: Logger;
  onProgress?: (message: string) => void;
  /** Aborting (reason: the signal's name) stops the restore, drops what it created, and throws Interrupted. */
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

export interface RestoreReport {
  /** `server` and `pgDump`: the versions that made the dump, from its manifest. */
  backup: { name: string; location: string; target: string; database: string; startedAt: string; sha256: string; lastMigration: string | null; server: string; pgDump: string };
  /** The server restored into and the pg_restore that did it: across versions, these differ from the backup's. */
  restoredWith: { server: string; pgRestore: string };
  /** The database the dump was taken of, and whether it is another one than the destination. */
  source: { database: string; differs: boolean };
  destination: { database: string; created: boolean };
  /** Whose role model the result has; `adopted` when the dump's own owners and grants were replaced by it. */
  roles: { owner: string; adopted: boolean };
  /** The way back over an existing database: the replaced database, kept. */
  safetyBackup: WayBack | undefined;
  checks: ChecksSummary;
  rowCounts: PostRestoreReport['rowCounts'];
  ok: boolean;
  durationMs: number;
}

function checkpoint(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new UserError('interrupted');
}

/**
 * Restores a backup, in this order: the guard (confirmation by name, --force on prod), the
 * source (found, SHA-256 checked), the destination (a new database, fenced and marked as
 * this run's, filled by pg_restore), the proof (row counts against the manifest, the checks
 * suite), then, over an existing database, the swap: the restored database takes the name in
 * one transaction and the replaced one is kept as the way back. A failure or an interruption
 * before the swap drops the new database; the existing one is never touched until then.
 */
export async function restoreBackup(target: Target, opts: RestoreOptions): Promise<RestoreReport> {
  const started = Date.now();
  const log = opts.logger ?? silentLogger();
  const progress = opts.onProgress ?? (() => {});
  const env = opts.env ?? process.env;
  const signal = opts.signal;
  const replacing = opts.into.kind === 'existing';
  restoreGuard({ targetKind: target.config.kind, database: target.config.database, into: opts.into, confirm: opts.confirm, force: opts.force });

  progress('checking integrity');
  const resolved = await openBackup(opts.source);
  const { manifest } = resolved.backup;
  log.info({ backup: resolved.backup.name, sha256: manifest.sha256, bytes: manifest.bytes }, 'backup integrity verified');
  const database = opts.into.kind === 'existing' ? target.config.database : (opts.into.database ?? scratchDatabaseName(manifest.database, 'restore'));
  const staged = replacing ? scratchDatabaseName(database, 'restore') : database;
  let landed = false;
  try {
    return await withConnection(maintenanceConnection(target), { applicationName: 'pgsteward restore' }, async (maint) => {
      await sweepAbandoned(maint, log);
      const pgRestore = locatePgRestore(target, manifest, opts.ops, env);
      const restoredWith = { server: (await serverInfo(maint)).version, pgRestore: pgRestore.version };
      const model = await checkDestination(maint, manifest, database, replacing);
      if (manifest.database !== database) log.info({ source: manifest.database, destination: database, roles: model.roles.owner, adopted: model.adopt }, 'restoring a dump of another database');

      checkpoint(signal);
      progress('creating the database to restore into');
      const cleanup = dropWhenAborted(maint, staged, signal);
      try {
        await createDestination(maint, target, staged, model, 'restore');
        checkpoint(signal);
        progress('restoring');
        log.info({ backup: resolved.backup.name, database: staged }, 'restore started');
        await fillDestination(pgRestore, target, adminConnection(target, staged), resolved.dump.file, model, { signal, env, onItem: (n) => progress(`restoring: ${n} items`) });
        checkpoint(signal);
        progress('running checks');
        const proof = await examineRestore(adminConnection(target, staged), manifest, model.roles, opts.checks, checksTarget(target));
        checkpoint(signal);
        const wayBack = replacing ? await replaceExisting(maint, target, staged, proof, opts, log) : await keepDestination(maint, database).then(() => undefined);
        cleanup.keep();
        landed = true;
        const ok = proof.checks.ok && proof.rowCounts.ok;
        log[ok ? 'info' : 'warn']({ database, checksFailed: proof.checks.failed, rowCountMismatches: proof.rowCounts.mismatches.length }, ok ? 'restore finished and verified' : 'restore finished with findings');
        return {
          backup: { name: resolved.backup.name, location: resolved.backup.location, target: manifest.target, database: manifest.database, startedAt: manifest.startedAt, sha256: manifest.sha256, lastMigration: manifest.lastMigration, server: manifest.server.version, pgDump: manifest.pgDump.version },
          restoredWith,
          source: { database: manifest.database, differs: manifest.database !== database },
          destination: { database, created: !replacing },
          roles: { owner: model.roles.owner, adopted: model.adopt },
          safetyBackup: wayBack,
          checks: proof.checks,
          rowCounts: proof.rowCounts,
          ok,
          durationMs: Date.now() - started,
        };
      } catch (e) {
        if (!landed) await cleanup.drop();
        throw e;
      }
    });
  } catch (e) {
    if (signal?.aborted && !landed) {
      const sig = interruptSignal(signal);
      throw new Interrupted(sig, replacing ? `restore interrupted (${sig}); ${database} is as it was, and the database being restored into was dropped` : `restore interrupted (${sig}); the new database ${database} was dropped`);
    }
    if (replacing && !landed && isUserError(e) && !/nothing was changed|was not replaced/.test(e.line)) {
      throw new UserError(`${e.message}; ${database} was not changed`, e.fix);
    }
    throw e;
  } finally {
    await resolved.dump.release();
  }
}

/** The destination is usable (exists when replacing, is free otherwise, nobody on it), and whose role model it gets. */
async function checkDestination(maint: Sql, manifest: BackupManifest, database: string, replacing: boolean): Promise<RoleModel> {
  if (replacing) {
    if (!(await databaseExists(maint, database))) throw new UserError(`database ${database} does not exist`, `restore into a new database instead: --as ${database}`);
    await requireNoSessions(maint, database, 'replaced');
  } else if (await databaseExists(maint, database)) {
    throw new UserError(`database ${database} already exists`, 'choose another name with --as, or restore over it with --into-existing');
  }
  return roleModelFor({ source: manifest, destination: database, replacing, destinationHasRoles: await roleExistsFor(maint, database) });
}

/**
 * The swap, once the restored data matches the manifest: `staged` takes the target database's
 * name in one transaction, and the replaced database is kept as the way back (or dropped, with
 * --no-safety-backup).
 */
async function replaceExisting(maint: Sql, target: Target, staged: string, proof: PostRestoreReport, opts: RestoreOptions, log: Logger): Promise<WayBack | undefined> {
  const database = target.config.database;
  if (!proof.rowCounts.ok) {
    const diff = proof.rowCounts.mismatches.slice(0, 3).map((m) => `${m.table}: ${m.expected ?? 'absent'} expected, ${m.actual ?? 'absent'} restored`);
    throw new UserError(`the restored data does not match the backup's manifest (${diff.join('; ')}); ${database} was not replaced`, 'restore another backup');
  }
  const wayBack = await keepWayBack(target, 'pre-restore', { logger: log, ...(opts.ops ? { ops: opts.ops } : {}), ...(opts.env ? { env: opts.env } : {}) });
  const kept = (wayBack as { database: string }).database;
  opts.onProgress?.('putting the restored database in place');
  await swapDatabases(maint, { live: database, replacement: staged, keepAs: kept });
  log.info({ database, kept }, 'restored database in place; the replaced one is kept');
  if (opts.safetyBackup !== false) return wayBack;
  // The restore has landed; a failure to drop the old database only leaves the way back in place.
  try {
    await dropDatabase(maint, kept);
    log.warn({ database, dropped: kept }, 'replaced database dropped (--no-safety-backup)');
    return undefined;
  } catch (e) {
    log.error({ database: kept, err: e }, 'could not drop the replaced database; drop it by hand');
    return wayBack;
  }
}

/** Whether the destination name has a role model of its own on this server. */
async function roleExistsFor(sql: Sql, database: string): Promise<boolean> {
  try {
    return await roleExists(sql, roleNames(database).owner);
  } catch {
    return false; // not a name setup-db could manage (too long for the role suffixes)
  }
}
