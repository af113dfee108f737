import { describe, expect, it } from 'vitest';
import { JOB_NAMES } from '../config/ops-config.ts';
import { METRIC, metricDimensions, metricFor } from './metrics-contract.ts';

describe('job metrics contract', () => {
  it('publishes a success metric per successful backup and verify, and nothing for a failed backup', () => {
    expect(metricFor('backup', 'ok')).toBe(METRIC.backupSucceeded);
    expect(metricFor('backup', 'failed')).toBeUndefined();
    expect(metricFor('backup', 'findings')).toBeUndefined();
    expect(metricFor('verify', 'ok')).toBe(METRIC.verifySucceeded);
    expect(metricFor('verify', 'findings')).toBe(METRIC.verifyFailed);
    expect(metricFor('verify', 'failed')).toBe(METRIC.verifyFailed);
    for (const job of JOB_NAMES) expect(metricFor(job, 'skipped')).toBeUndefined();
    expect(metricFor('checks', 'ok')).toBeUndefined();
  });

  it('names the stack and the database as dimensions, in the order the alarms use', () => {
    expect(metricDimensions('prod', 'app')).toEqual([
      { Name: 'Stack', Value: 'prod' },
      { Name: 'Database', Value: 'app' },
    ]);
  });
});
