import type { OpsConfig } from '../config/ops-config.ts';
import { connectChecked } from '../db/connect.ts';
import { isUserError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { locateTool } from '../pgtools/invoke.ts';
import { scrub } from '../secrets.ts';
import { adminConnection, type Target } from '../open-target.ts';
import { opsFor, placementFor } from './backup.ts';
import type { ChecksRunner } from './checks.ts';
import { withVerification, type BackupManifest, type VerificationRecord } from './manifest.ts';
import { scratchDatabaseName } from './names.ts';
import { checkIntegrity, createRestoreDatabase, dropDatabase, examineRestore, maintenanceConnection, resolveBackup, runPgRestore, type ResolvedBackup } from './restore.ts';
import type { BackupStorage } from './storage/index.ts';

export interface VerifyOptions {
  storage: BackupStorage;
  /** Default: the newest backup. */
  name?: string | undefined;
  checks: ChecksRunner;
  ops?: OpsConfig;
  logger?: Logger;
  onProgress?: (message: string) => void;
  env?: NodeJS.ProcessEnv;
}

export interface VerifyReport {
  backup: string;
  location: string;
  verification: VerificationRecord;
  manifest: BackupManifest;
}

/**
 * Proves a backup restores: into a scratch database on the target's server, checks suite,
 * row counts against the manifest. The outcome is written into the manifest either way, and
 * the scratch database is always dropped. Throws only when there is no backup to test or its
 * manifest cannot be updated; every other failure is a recorded, failed verification.
 */
export async function verifyBackup(target: Target, opts: VerifyOptions): Promise<VerifyReport> {
  const started = Date.now();
  const log = opts.logger ?? silentLogger();
  const progress = opts.onProgress ?? (() => {});
  const env = opts.env ?? process.env;
  const resolved: ResolvedBackup = await resolveBackup({ storage: opts.storage, name: opts.name });
  const { manifest, name, location } = resolved.backup;
  const scratch = scratchDatabaseName(manifest.database, 'verify');
  let record: VerificationRecord;
  log.info({ backup: name, scratchDatabase: scratch }, 'verification started');
  try {
    progress('checking integrity');
    await checkIntegrity(resolved);
    const pgRestore = locateTool('pg_restore', manifest.pgDump.major, manifest.pgDump.version, placementFor(opsFor(target, opts.ops, env)), env);
    const maint = await connectChecked(maintenanceConnection(target), { max: 1, applicationName: 'pgsteward verify' });
    try {
      await createRestoreDatabase(maint, scratch, manifest, target);
    } finally {
      await maint.end({ timeout: 5 });
    }
    progress('restoring into a scratch database');
    await runPgRestore(pgRestore, adminConnection(target, scratch), resolved.dump.file, { onItem: (n) => progress(`restoring: ${n} items`), env });
    progress('running checks');
    const post = await examineRestore(adminConnection(target, scratch), manifest, opts.checks);
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
    const why = isUserError(e) ? e.line : ((e as Error)?.message ?? String(e)).split('\n')[0]!;
    record = { ok: false, at: new Date().toISOString(), scratchDatabase: scratch, checks: undefined, rowCounts: undefined, error: scrub(why), durationMs: Date.now() - started };
  } finally {
    await dropDatabase(maintenanceConnection(target), scratch).catch((e: unknown) => log.error({ err: e, scratchDatabase: scratch }, 'could not drop the scratch database'));
    await resolved.dump.release();
  }
  const updated = withVerification(manifest, record);
  await opts.storage.writeManifest(updated);
  log[record.ok ? 'info' : 'warn']({ backup: name, ok: record.ok, error: record.error, checksFailed: record.checks?.failed, rowCountMismatches: record.rowCounts?.mismatches.length, durationMs: record.durationMs }, record.ok ? 'backup verified' : 'backup verification failed');
  return { backup: name, location, verification: record, manifest: updated };
}
