import { describe, expect, it } from 'vitest';
import { TYPES } from '../resource-types.ts';
import { stackViolations, type FakeResource } from '../testing.ts';
import { scheduledJobsAlarmed } from './scheduled-jobs-alarmed.ts';

const schedule = (name: string): FakeResource => ({ type: TYPES.schedule, name: `${name}-schedule`, props: { name } });
const alarm = (schedule: string, treatMissingData?: string): FakeResource => ({ type: TYPES.metricAlarm, name: `${schedule}-alarm`, props: { tags: { 'pgsteward:schedule': schedule }, ...(treatMissingData ? { treatMissingData } : {}) } });

describe(scheduledJobsAlarmed.name, () => {
  it('passes schedules each watched by an alarm that says what silence means', async () => {
    expect(await stackViolations(scheduledJobsAlarmed, [schedule('p-backup'), alarm('p-backup', 'breaching'), schedule('p-verify'), alarm('p-verify', 'notBreaching')])).toEqual([]);
    expect(await stackViolations(scheduledJobsAlarmed, [])).toEqual([]);
  });

  it('flags a schedule nobody watches, even when another schedule has alarms', async () => {
    expect(await stackViolations(scheduledJobsAlarmed, [schedule('p-backup'), alarm('p-backup', 'breaching'), schedule('p-verify')])).toEqual([
      'p-verify-schedule: schedule p-verify has no alarm; add a CloudWatch alarm tagged pgsteward:schedule=p-verify.',
    ]);
  });

  it('flags alarms that leave missing data as "missing", so a job that stops is never noticed', async () => {
    expect(await stackViolations(scheduledJobsAlarmed, [schedule('p-backup'), alarm('p-backup')])).toEqual([expect.stringMatching(/leave treatMissingData at "missing"/)]);
    expect(await stackViolations(scheduledJobsAlarmed, [schedule('p-backup'), alarm('p-backup', 'missing')])).toHaveLength(1);
  });
});
