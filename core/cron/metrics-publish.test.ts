import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LOOPBACK_AWS_ENV, startLoopbackAws, TARGET, type LoopbackAws } from '../../test/loopback-aws.ts';
import { createLogger } from '../log.ts';
import { readHistory, type RunRecord } from './history.ts';
import { METRIC } from './metrics-contract.ts';
import { plannedMetric, publishRunMetric } from './metrics-publish.ts';
import { Scheduler } from './runner.ts';

const ON = { PGSTEWARD_METRICS: 'cloudwatch', PGSTEWARD_METRICS_STACK: 'acme-prod' };

function record(job: string, outcome: RunRecord['outcome'], over: Partial<RunRecord> = {}): RunRecord {
  return {
    job,
    target: 'prod',
    database: 'shop',
    trigger: 'manual',
    outcome,
    startedAt: '2026-03-01T03:15:00.000Z',
    finishedAt: '2026-03-01T03:16:40.500Z',
    durationMs: 100_500,
    summary: 's',
    pid: 1,
    ...over,
  };
}

function capture() {
  const lines: string[] = [];
  const stream = new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
  const logger = createLogger({ name: 'cron', stream, pretty: false, level: 'debug' });
  return { logger, logs: () => lines.map((l) => JSON.parse(l) as { level: number; msg: string }) };
}

describe('plannedMetric: which data point a finished run publishes (pure)', () => {
  it('follows the contract: one point, value 1, unit Count, the stack and database as dimensions, at the finish time', () => {
    expect(plannedMetric(record('backup', 'ok'), ON)).toEqual({
      publish: true,
      point: {
        Namespace: 'pgsteward',
        MetricData: [
          {
            MetricName: 'BackupSucceeded',
            Dimensions: [
              { Name: 'Stack', Value: 'acme-prod' },
              { Name: 'Database', Value: 'shop' },
            ],
            Value: 1,
            Unit: 'Count',
            Timestamp: new Date('2026-03-01T03:16:40.500Z'),
          },
        ],
      },
    });
    const v = (o: RunRecord['outcome']) => {
      const d = plannedMetric(record('verify', o), ON);
      return d.publish ? d.point.MetricData[0].MetricName : d.reason;
    };
    expect([v('ok'), v('findings'), v('failed'), v('skipped')]).toEqual([METRIC.verifySucceeded, METRIC.verifyFailed, METRIC.verifyFailed, 'no-metric']);
  });

  it('publishes nothing for a failed or skipped backup, the checks job, or an unknown job', () => {
    for (const r of [record('backup', 'failed'), record('backup', 'findings'), record('backup', 'skipped'), record('checks', 'ok'), record('nightly', 'ok')]) {
      expect(plannedMetric(r, ON)).toEqual({ publish: false, reason: 'no-metric' });
    }
  });

  it('is off unless PGSTEWARD_METRICS is exactly cloudwatch, and refuses to publish without the Stack dimension', () => {
    expect(plannedMetric(record('backup', 'ok'), {})).toEqual({ publish: false, reason: 'off' });
    expect(plannedMetric(record('backup', 'ok'), { PGSTEWARD_METRICS: 'CloudWatch', PGSTEWARD_METRICS_STACK: 'x' })).toEqual({ publish: false, reason: 'off' });
    expect(plannedMetric(record('backup', 'ok'), { PGSTEWARD_METRICS: 'cloudwatch' })).toEqual({
      publish: false,
      reason: 'misconfigured',
      problem: 'PGSTEWARD_METRICS=cloudwatch but PGSTEWARD_METRICS_STACK is not set',
    });
  });
});

describe('publishRunMetric: the real CloudWatch client against a loopback server', () => {
  let aws: LoopbackAws;
  let status = 200;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    // The SDK's default chain reads credentials and region from the process environment.
    for (const [k, v] of Object.entries(LOOPBACK_AWS_ENV)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    aws = await startLoopbackAws({ [TARGET.putMetricData]: () => (status === 200 ? { body: {} } : { status, body: { __type: 'InternalFailure', message: 'loopback says no' } }) });
  });
  afterAll(async () => {
    await aws?.close();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  beforeEach(() => {
    aws.requests.length = 0;
    status = 200;
  });
  const env = () => ({ ...ON, AWS_ENDPOINT_URL_CLOUDWATCH: aws.url });

  it('sends exactly the contract data point over the protocol the client uses (awsJson1_0)', async () => {
    const { logger, logs } = capture();
    const r = await publishRunMetric(record('backup', 'ok'), { env: env(), logger });
    expect(r).toEqual({ published: 'BackupSucceeded' });
    expect(aws.requests).toHaveLength(1);
    const req = aws.requests[0]!;
    expect(req.target).toBe(TARGET.putMetricData);
    expect(req.contentType).toBe('application/x-amz-json-1.0');
    // Signed as CloudWatch in the configured region.
    expect(String(req.headers.authorization)).toMatch(/Credential=S3RVER\/\d{8}\/eu-west-1\/monitoring\/aws4_request/);
    expect(req.body).toEqual({
      Namespace: 'pgsteward',
      MetricData: [
        {
          MetricName: 'BackupSucceeded',
          Dimensions: [
            { Name: 'Stack', Value: 'acme-prod' },
            { Name: 'Database', Value: 'shop' },
          ],
          Value: 1,
          Unit: 'Count',
          Timestamp: Date.parse('2026-03-01T03:16:40.500Z') / 1000,
        },
      ],
    });
    expect(logs().some((l) => l.msg === 'metric published: BackupSucceeded')).toBe(true);
  });

  it('sends VerifyFailed for a verify with findings, and nothing at all for a failed backup', async () => {
    const { logger } = capture();
    expect(await publishRunMetric(record('verify', 'findings'), { env: env(), logger })).toEqual({ published: 'VerifyFailed' });
    expect(await publishRunMetric(record('backup', 'failed'), { env: env(), logger })).toEqual({ skipped: 'no-metric' });
    expect(await publishRunMetric(record('backup', 'ok'), { env: { AWS_ENDPOINT_URL_CLOUDWATCH: aws.url }, logger })).toEqual({ skipped: 'off' });
    expect(aws.requests.map((r) => (r.body as { MetricData: Array<{ MetricName: string }> }).MetricData[0]!.MetricName)).toEqual(['VerifyFailed']);
  });

  it('logs a refused or unreachable endpoint as an error and returns instead of throwing', async () => {
    status = 500;
    const a = capture();
    const r = await publishRunMetric(record('backup', 'ok'), { env: env(), logger: a.logger });
    expect(r).toEqual({ failed: expect.stringMatching(/loopback says no/) });
    // The SDK retried the 5xx: three attempts, then the error.
    expect(aws.requests).toHaveLength(3);
    expect(a.logs().filter((l) => l.level === 50).map((l) => l.msg)).toEqual([expect.stringMatching(/^metric not published \(the run's outcome stands\): .*loopback says no/)]);

    const b = capture();
    const closed = await startLoopbackAws({});
    await closed.close();
    const u = await publishRunMetric(record('backup', 'ok'), { env: { ...ON, AWS_ENDPOINT_URL_CLOUDWATCH: closed.url }, logger: b.logger });
    expect(u).toEqual({ failed: expect.stringMatching(/ECONNREFUSED/) });
  });

  it('in the scheduler: a publishing failure neither changes the outcome nor the history', async () => {
    status = 500;
    const historyFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'pgsteward-metrics-')), 'history.jsonl');
    const { logger } = capture();
    const published: unknown[] = [];
    const scheduler = new Scheduler({
      jobs: [{ name: 'backup', schedule: '0 3 * * *', enabled: false, run: async () => ({ outcome: 'ok', summary: 'dumped' }) }],
      timezone: 'UTC',
      historyFile,
      target: 'prod',
      database: 'shop',
      logger,
      onFinished: async (r) => published.push(await publishRunMetric(r, { env: env(), logger })),
    });
    const r = await scheduler.trigger('backup', 'manual');
    expect(r.outcome).toBe('ok');
    expect(published).toEqual([{ failed: expect.stringMatching(/loopback says no/) }]);
    expect(aws.of(TARGET.putMetricData).length).toBeGreaterThan(0);
    expect(readHistory(historyFile).map((h) => h.outcome)).toEqual(['ok']);

    // A hook that throws is logged, and the record still comes back.
    const s2 = new Scheduler({
      jobs: [{ name: 'verify', schedule: '0 3 * * *', enabled: false, run: async () => ({ outcome: 'findings', summary: 'row counts differ' }) }],
      timezone: 'UTC',
      historyFile,
      target: 'prod',
      database: 'shop',
      logger,
      onFinished: async () => {
        throw new Error('hook broke');
      },
    });
    expect((await s2.trigger('verify')).outcome).toBe('findings');
  });
});
