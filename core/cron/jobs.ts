import { backupDatabase, backupPreflight, storageFor } from '../backup/backup.ts';
import { checksTarget, summarizeChecks, type ChecksRunner } from '../backup/checks.ts';
import { formatBytes } from '../backup/files.ts';
import { pruneBackups } from '../backup/prune.ts';
import { verifyBackup } from '../backup/verify.ts';
import type { JobName, OpsConfig } from '../config/ops-config.ts';
import type { TargetConfig } from '../config/target-settings.ts';
import { UserError, isUserError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { adminConnection, openTarget } from '../open-target.ts';
import type { JobResult, JobSpec } from './runner.ts';

export interface JobContext {
  config: TargetConfig;
  ops: OpsConfig;
  checks: ChecksRunner;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
}

/**
 * Backup, then retention. The preflight (server reachable as the backup role, a pg_dump at
 * least as new as the server) runs on every run and fails the run with its one-line reason,
 * so a missing pg_dump shows up in every history line rather than as a crash.
 */
export async function backupJob(ctx: JobContext): Promise<JobResult> {
  const log = ctx.logger.child({ job: 'backup' });
  const target = await openTarget(ctx.config);
  try {
    await backupPreflight(target, { ops: ctx.ops, env: ctx.env });
  } catch (e) {
    if (isUserError(e)) throw new UserError(`backup preflight failed: ${e.message}`, e.fix);
    throw e;
  }
  const { manifest, location } = await backupDatabase(target, { ops: ctx.ops, logger: log, env: ctx.env });
  const prune = await pruneBackups(storageFor(target, ctx.ops, ctx.env), ctx.ops.targets[ctx.config.kind].retention, { logger: log });
  const rows = Object.values(manifest.tables).reduce((a, b) => a + b, 0);
  return {
    outcome: 'ok',
    summary: `${manifest.name} (${formatBytes(manifest.bytes)}, ${Object.keys(manifest.tables).length} tables, ${rows} rows); retention kept ${prune.keep.length}, deleted ${prune.remove.length + prune.leftovers.length}`,
    details: { location, sha256: manifest.sha256, bytes: manifest.bytes, kept: prune.keep.map((k) => k.name), deleted: [...prune.remove, ...prune.leftovers].map((r) => r.name) },
  };
}

/** Restore test of the newest backup. */
export async function verifyJob(ctx: JobContext): Promise<JobResult> {
  const target = await openTarget(ctx.config);
  const r = await verifyBackup(target, { storage: storageFor(target, ctx.ops, ctx.env), checks: ctx.checks, ops: ctx.ops, logger: ctx.logger.child({ job: 'verify' }), env: ctx.env });
  const v = r.verification;
  const detail = v.error ?? `checks ${v.checks?.passed ?? 0} passed, ${v.checks?.failed ?? 0} failed; ${v.rowCounts?.mismatches.length ?? 0} row-count mismatch(es)`;
  return { outcome: v.ok ? 'ok' : 'findings', summary: `${r.backup} ${v.ok ? 'verified' : 'FAILED verification'}: ${detail}`, details: v };
}

/** The checks suite against the live database. */
export async function checksJob(ctx: JobContext): Promise<JobResult> {
  const target = await openTarget(ctx.config);
  const s = summarizeChecks(
    await ctx.checks({ connection: adminConnection(target), roles: target.roles, target: checksTarget(target) }),
  );
  return {
    outcome: s.ok ? 'ok' : 'findings',
    summary: `${s.passed} passed, ${s.failed} failed, ${s.warnings} warnings${s.failures.length ? `: ${s.failures.slice(0, 3).join('; ')}${s.failures.length > 3 ? '; …' : ''}` : ''}`,
    details: { failures: s.failures },
  };
}

const RUNNERS: Record<JobName, (ctx: JobContext) => Promise<JobResult>> = { backup: backupJob, verify: verifyJob, checks: checksJob };

/** The three jobs with their configured schedules. */
export function buildJobs(ctx: JobContext): JobSpec[] {
  return (Object.keys(RUNNERS) as JobName[]).map((name) => ({
    name,
    schedule: ctx.ops.cron.jobs[name].schedule,
    enabled: ctx.ops.cron.jobs[name].enabled,
    run: () => RUNNERS[name](ctx),
  }));
}
