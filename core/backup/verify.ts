import type { OpsConfig } from '../config/ops-config.ts';
import { withConnection } from '../db/connect.ts';
import { serverInfo } from '../db/server.ts';
import { Interrupted, errorLine, interruptSignal } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { scrub } from '../secrets.ts';
import { adminConnection, type Target } from '../open-target.ts';
import { checksTarget, type ChecksRunner } from './checks.ts';
import { withVerification, type BackupManifest, type VerificationRecord } from './manifest.ts';
import { createDestination, dropWhenAborted, fillDestination, locatePgRestore } from './restore/destination.ts';
import { examineRestore } from './restore/proof.ts';
import { scratchDatabaseName, sweepAbandoned } from './restore/scratch.ts';
import { checkIntegrity, resolveBackup } from './restore/source.ts';
import { maintenanceConnection } from './settings.ts';
import type { BackupStorage } from './storage/index.ts';

export interface VerifyOptions {
  storage: BackupStorage;
  /** Default: the newest backup. */
  name?: string | undefined;
  checks: ChecksRunner;
  ops?: OpsConfig;
  logger?: Logger;
  onProgress?: (message: string) => void;
  /** Aborting (reason: the signal's name) drops the scratch database and throws Interrupted; the manifest is left as it was. */
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

export interface VerifyReport {
  backup: string;
  location: string;
  verification: VerificationRecord;
  manifest: BackupManifest;
  /** Where the restore ran, once it got that far: the scratch database's server and the pg_restore used. */
  restoredWith: { server: string; pgRestore: string } | undefined;
}

/**
 * Proves a backup restores: into a scratch database on the target's server (marked as this
 * run's), checks suite, row counts against the manifest. The outcome is written into the
 * manifest either way, and the scratch database is always dropped. Throws only when there is
 * no backup to test, its manifest cannot be updated, or the run is interrupted; every other
 * failure is a recorded, failed verification.
 */
export async function verifyBackup(target: Target, opts: VerifyOptions): Promise<VerifyReport> {
  const started = Date.now();
  const log = opts.logger ?? silentLogger();
  const progress = opts.onProgress ?? (() => {});
  const env = opts.env ?? process.env;
  const signal = opts.signal;
  const resolved = await resolveBackup({ storage: opts.storage, name: opts.name });
  const { manifest, name, location } = resolved.backup;
  const scratch = scratchDatabaseName(manifest.database, 'verify');
  const model = { roles: manifest.roles, adopt: false };
  let record: VerificationRecord;
  let restoredWith: VerifyReport['restoredWith'];
  log.info({ backup: name, scratchDatabase: scratch }, 'verification started');
  try {
    progress('checking integrity');
    await checkIntegrity(resolved);
    const pgRestore = locatePgRestore(target, manifest, opts.ops, env);
    const post = await withConnection(maintenanceConnection(target), { applicationName: 'pgsteward verify' }, async (maint) => {
      await sweepAbandoned(maint, log);
      restoredWith = { server: (await serverInfo(maint)).version, pgRestore: pgRestore.version };
      const scratchDb = dropWhenAborted(maint, scratch, signal);
      try {
        await createDestination(maint, target, scratch, model, 'verify');
        progress('restoring into a scratch database');
        await fillDestination(pgRestore, target, adminConnection(target, scratch), resolved.dump.file, model, { signal, env, onItem: (n) => progress(`restoring: ${n} items`) });
        progress('running checks');
        return await examineRestore(adminConnection(target, scratch), manifest, model.roles, opts.checks, checksTarget(target));
      } finally {
        await scratchDb.drop();
      }
    });
    if (signal?.aborted) throw new Error('interrupted');
    record = {
      ok: post.checks.ok && post.rowCounts.ok,
      at: new Date().toISOString(),
      scratchDatabase: scratch,
      checks: { passed: post.checks.passed, failed: post.checks.failed, warnings: post.checks.warnings, failures: post.checks.failures },
      rowCounts: { tables: post.rowCounts.tables, mismatches: post.rowCounts.mismatches },
      error: undefined,
      durationMs: Date.now() - started,
    };
  } catch (e) {
    if (signal?.aborted) {
      const sig = interruptSignal(signal);
      throw new Interrupted(sig, `verification interrupted (${sig}); the scratch database ${scratch} was dropped and the manifest left as it was`, 'run verify-backup again');
    }
    record = { ok: false, at: new Date().toISOString(), scratchDatabase: scratch, checks: undefined, rowCounts: undefined, error: scrub(errorLine(e)), durationMs: Date.now() - started };
  } finally {
    await resolved.dump.release();
  }
  const updated = withVerification(manifest, record);
  await opts.storage.writeManifest(updated);
  log[record.ok ? 'info' : 'warn']({ backup: name, ok: record.ok, error: record.error, checksFailed: record.checks?.failed, failures: record.checks?.failures.slice(0, 20), rowCountMismatches: record.rowCounts?.mismatches.length, durationMs: record.durationMs }, record.ok ? 'backup verified' : 'backup verification failed');
  return { backup: name, location, verification: record, manifest: updated, restoredWith };
}
