import { errorLine } from '../errors.ts';
import type { Logger } from '../log.ts';
import { JOB_NAMES, type JobName } from '../config/ops-config.ts';
import type { RunRecord } from './history.ts';
import { METRIC_NAMESPACE, METRICS_ENV, metricDimensions, metricFor, type MetricDimension, type MetricName } from './metrics-contract.ts';

/**
 * Publishing the contract's data point for a finished run (see metrics-contract.ts). The
 * decision is pure (`plannedMetric`); `publishRunMetric` does the one PutMetricData call and
 * never throws: a metric that could not be sent is logged, and the run's outcome and exit code
 * stay what the job made them. The endpoint is the SDK's own (the CloudWatch VPC endpoint in
 * prod); AWS_ENDPOINT_URL_CLOUDWATCH overrides it, which is how the tests reach a loopback
 * server.
 */

/** The PutMetricData input for one run: exactly one datum, value 1, unit Count. */
export interface MetricPoint {
  Namespace: string;
  MetricData: [{ MetricName: MetricName; Dimensions: MetricDimension[]; Value: 1; Unit: 'Count'; Timestamp: Date }];
}

export type MetricDecision =
  | { publish: true; point: MetricPoint }
  | { publish: false; reason: 'off' | 'no-metric' }
  /** Publishing is on but cannot be done right: logged as an error. */
  | { publish: false; reason: 'misconfigured'; problem: string };

function isJobName(s: string): s is JobName {
  return (JOB_NAMES as readonly string[]).includes(s);
}

/** Which data point, if any, a finished run publishes. Pure. */
export function plannedMetric(record: Pick<RunRecord, 'job' | 'outcome' | 'database' | 'finishedAt'>, env: Readonly<Record<string, string | undefined>>): MetricDecision {
  if (env[METRICS_ENV.sink] !== 'cloudwatch') return { publish: false, reason: 'off' };
  const name = isJobName(record.job) ? metricFor(record.job, record.outcome) : undefined;
  if (!name) return { publish: false, reason: 'no-metric' };
  const stack = env[METRICS_ENV.stack];
  // Without the Stack dimension the alarms (which always name it) would never see the point.
  if (!stack) return { publish: false, reason: 'misconfigured', problem: `${METRICS_ENV.sink}=cloudwatch but ${METRICS_ENV.stack} is not set` };
  return {
    publish: true,
    point: {
      Namespace: METRIC_NAMESPACE,
      MetricData: [{ MetricName: name, Dimensions: metricDimensions(stack, record.database), Value: 1, Unit: 'Count', Timestamp: new Date(record.finishedAt) }],
    },
  };
}

export type PublishResult = { published: MetricName } | { skipped: 'off' | 'no-metric' } | { failed: string };

export interface PublishOptions {
  env?: Readonly<Record<string, string | undefined>>;
  logger: Logger;
}

/** Sends what `plannedMetric` decided. Never throws. */
export async function publishRunMetric(record: RunRecord, opts: PublishOptions): Promise<PublishResult> {
  const env = opts.env ?? process.env;
  const log = opts.logger.child({ job: record.job });
  const decision = plannedMetric(record, env);
  if (!decision.publish) {
    if (decision.reason !== 'misconfigured') return { skipped: decision.reason };
    log.error({ outcome: record.outcome }, `metric not published: ${decision.problem}`);
    return { failed: decision.problem };
  }
  const datum = decision.point.MetricData[0];
  try {
    const cw = await import('@aws-sdk/client-cloudwatch');
    const endpoint = env.AWS_ENDPOINT_URL_CLOUDWATCH || env.AWS_ENDPOINT_URL || undefined;
    const client = new cw.CloudWatchClient({
      ...(endpoint ? { endpoint } : {}),
      // The SDK retries throttling and 5xx itself; the timeouts keep an unreachable endpoint from holding the task.
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 15_000 },
    });
    try {
      await client.send(new cw.PutMetricDataCommand(decision.point));
    } finally {
      client.destroy();
    }
    log.info({ namespace: decision.point.Namespace, metric: datum.MetricName, dimensions: datum.Dimensions }, `metric published: ${datum.MetricName}`);
    return { published: datum.MetricName };
  } catch (e) {
    const why = errorLine(e);
    log.error({ namespace: decision.point.Namespace, metric: datum.MetricName }, `metric not published (the run's outcome stands): ${why}`);
    return { failed: why };
  }
}
