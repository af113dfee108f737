import type { JobName } from '../config/ops-config.ts';

/**
 * The custom metrics the scheduled jobs publish and the prod stack's alarms read: one
 * contract, imported by both sides, so a renamed metric or dimension cannot silently leave an
 * alarm watching nothing. Pure data; the publishing code lives with the jobs, the alarms in
 * infra/prod/alarms.ts.
 *
 * Each finished run publishes at most one data point, value 1, unit Count, to CloudWatch
 * (PutMetricData, namespace METRIC_NAMESPACE) with the dimensions of `metricDimensions`:
 * - a successful backup (outcome ok): BackupSucceeded;
 * - a successful verify (outcome ok): VerifySucceeded;
 * - a verify that ran and did not succeed (outcome findings or failed): VerifyFailed.
 * A failed backup publishes nothing: silence is what its alarm watches for. Runs that were
 * skipped publish nothing. Publishing is on only when METRICS_ENV.sink is `cloudwatch`
 * (the prod task definitions set it); a failure to publish is logged and does not change the
 * run's outcome or exit code.
 */

export const METRIC_NAMESPACE = 'pgsteward';

export const METRIC = {
  backupSucceeded: 'BackupSucceeded',
  verifySucceeded: 'VerifySucceeded',
  verifyFailed: 'VerifyFailed',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

export const DIMENSION = {
  /** The Pulumi stack (several stacks may share an account and a database name). */
  stack: 'Stack',
  database: 'Database',
} as const;

/** Environment the job process reads to publish. */
export const METRICS_ENV = {
  /** `cloudwatch` to publish; anything else (or unset) publishes nothing. */
  sink: 'PGSTEWARD_METRICS',
  /** The value of the Stack dimension. */
  stack: 'PGSTEWARD_METRICS_STACK',
} as const;

export interface MetricDimension {
  Name: string;
  Value: string;
}

export function metricDimensions(stack: string, database: string): MetricDimension[] {
  return [
    { Name: DIMENSION.stack, Value: stack },
    { Name: DIMENSION.database, Value: database },
  ];
}

/** The metric a finished run publishes, if any. */
export function metricFor(job: JobName, outcome: 'ok' | 'findings' | 'failed' | 'skipped'): MetricName | undefined {
  if (outcome === 'skipped') return undefined;
  if (job === 'backup') return outcome === 'ok' ? METRIC.backupSucceeded : undefined;
  if (job === 'verify') return outcome === 'ok' ? METRIC.verifySucceeded : METRIC.verifyFailed;
  return undefined;
}
