import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { readHistory, lastRuns } from './history.ts';
import { Scheduler, type JobSpec } from './runner.ts';
import { nextRun, validateSchedule } from './schedule.ts';

function setup(jobs: JobSpec[]) {
  const historyFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'pgsteward-cron-')), 'history.jsonl');
  const lines: string[] = [];
  const stream = new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
  const logger = createLogger({ name: 'cron', stream, pretty: false, level: 'debug' });
  const scheduler = new Scheduler({ jobs, timezone: 'UTC', historyFile, target: 'local', database: 'app', logger });
  return { scheduler, historyFile, logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('cron expressions', () => {
  it('refuses invalid expressions with the field at fault', () => {
    expect(() => validateSchedule('cron.jobs.backup.schedule', '61 * * * *')).toThrow(/cron.jobs.backup.schedule "61 \* \* \* \*" is not a valid cron expression: "61" is not valid in the minute field/);
    expect(() => validateSchedule('x', '* * *')).toThrow(/has 3 field\(s\)/);
    expect(() => validateSchedule('x', 'daily')).toThrow(/has 1 field/);
    expect(() => validateSchedule('x', '0 25 * * *')).toThrow(/hour field/);
    expect(() => validateSchedule('x', '15 3 * * *')).not.toThrow();
    expect(() => validateSchedule('x', '*/10 * * * * *')).not.toThrow();
  });

  it('refuses a reversed range, which node-cron would quietly wrap around', () => {
    expect(() => validateSchedule('cron.jobs.checks.schedule', '5-1 * * * *')).toThrow(/^cron.jobs.checks.schedule "5-1 \* \* \* \*" is not a valid cron expression: "5-1" is a reversed range in the minute field$/);
    expect(() => validateSchedule('x', '0 0 31-1 * *')).toThrow(/"31-1" is a reversed range in the day-of-month field/);
    expect(() => validateSchedule('x', '0 3 * * SAT-SUN')).toThrow(/"SAT-SUN" is a reversed range in the day-of-week field/);
    expect(() => validateSchedule('x', '0 3 * dec-jan *')).toThrow(/"dec-jan" is a reversed range in the month field/);
    expect(() => validateSchedule('x', '30-10/5 * * * * *')).toThrow(/"30-10\/5" is a reversed range in the second field/);
    expect(() => validateSchedule('x', '0 9-17,22-2 * * *')).toThrow(/"22-2" is a reversed range in the hour field/);
    try {
      validateSchedule('x', '5-1 * * * *');
    } catch (e) {
      expect((e as { fix?: string }).fix).toMatch(/write ranges low-high; for one that wraps, list both parts, e\.g\. "55-59,0-5"/);
    }
    for (const ok of ['1-5/2 * * * *', '0 3 * * MON-FRI', '0 3 * JAN-MAR *', '0 3 * * 0-7', '5-5 * * * *', '0 3 * * sunday', '*/15 0-23 1-31 1-12 0-6']) {
      expect(() => validateSchedule('x', ok)).not.toThrow();
    }
  });

  it('computes the next run in the configured time zone', () => {
    const utc = nextRun('15 3 * * *', 'UTC')!;
    expect(utc.getUTCHours()).toBe(3);
    expect(utc.getUTCMinutes()).toBe(15);
    expect(utc.getTime()).toBeGreaterThan(Date.now());
    expect(utc.getTime() - Date.now()).toBeLessThanOrEqual(24 * 3_600_000);
    const tokyo = nextRun('15 3 * * *', 'Asia/Tokyo')!; // UTC+9, no daylight saving
    expect(tokyo.getUTCHours()).toBe(18);
  });

  it('a scheduler refuses a bad expression at construction, before anything is scheduled', () => {
    expect(() => setup([{ name: 'backup', schedule: '* * * * 8', enabled: true, run: async () => ({ outcome: 'ok', summary: '' }) }])).toThrow(/day-of-week|dayOfWeek|weekday/i);
    // a disabled job's schedule is not used, so it is not judged
    expect(() => setup([{ name: 'backup', schedule: 'nonsense', enabled: false, run: async () => ({ outcome: 'ok', summary: '' }) }])).not.toThrow();
  });
});

describe('Scheduler', () => {
  it('skips and logs a trigger that overlaps a running job, then runs the next one', async () => {
    const gate = deferred();
    let runs = 0;
    const { scheduler, historyFile, logs } = setup([{ name: 'backup', schedule: '0 3 * * *', enabled: true, run: async () => (runs++, await gate.promise, { outcome: 'ok', summary: 'done' }) }]);
    const first = scheduler.trigger('backup', 'scheduled');
    const second = await scheduler.trigger('backup', 'scheduled');
    expect(second.outcome).toBe('skipped');
    expect(second.summary).toBe('the previous run is still going');
    expect(logs().some((l) => l.job === 'backup' && l.msg === 'skipped: the previous run is still going' && l.level === 40)).toBe(true);
    gate.resolve();
    expect((await first).outcome).toBe('ok');
    expect((await scheduler.trigger('backup')).outcome).toBe('ok');
    expect(runs).toBe(2);
    expect(readHistory(historyFile).map((r) => r.outcome)).toEqual(['skipped', 'ok', 'ok']);
  });

  it('on a real schedule: a job slower than its interval is never run twice at once', async () => {
    let active = 0;
    let maxActive = 0;
    const { scheduler, historyFile } = setup([
      { name: 'slow', schedule: '* * * * * *', enabled: true, run: async () => { active++; maxActive = Math.max(maxActive, active); await sleep(1500); active--; return { outcome: 'ok', summary: 'slow done' }; } },
    ]);
    scheduler.start();
    try {
      await sleep(2300);
    } finally {
      await scheduler.stop();
    }
    const outcomes = readHistory(historyFile).map((r) => r.outcome);
    expect(maxActive).toBe(1);
    expect(outcomes).toContain('skipped');
    expect(outcomes).toContain('ok');
  });

  it('a failing job is recorded and never stops the scheduler', async () => {
    let fails = 0;
    let oks = 0;
    const { scheduler, historyFile, logs } = setup([
      { name: 'backup', schedule: '* * * * * *', enabled: true, run: async () => { fails++; throw new Error('pg_dump exploded'); } },
      { name: 'checks', schedule: '* * * * * *', enabled: true, run: async () => (oks++, { outcome: 'findings', summary: '1 failed' }) },
    ]);
    scheduler.start();
    try {
      await sleep(2600);
    } finally {
      await scheduler.stop();
    }
    expect(fails).toBeGreaterThanOrEqual(2);
    expect(oks).toBeGreaterThanOrEqual(2);
    const h = readHistory(historyFile);
    expect(h.filter((r) => r.job === 'backup').every((r) => r.outcome === 'failed' && r.summary === 'pg_dump exploded')).toBe(true);
    expect(logs().filter((l) => l.msg === 'job failed: pg_dump exploded' && l.level === 50).length).toBe(fails);
    expect(lastRuns(h, 'local', 'app').get('checks')!.outcome).toBe('findings');
  });

  it('stop() stops scheduling and waits for the running job to finish', async () => {
    const gate = deferred();
    let finished = false;
    let starts = 0;
    const { scheduler, historyFile } = setup([{ name: 'verify', schedule: '* * * * * *', enabled: true, run: async () => { starts++; await gate.promise; finished = true; return { outcome: 'ok', summary: 'verified' }; } }]);
    scheduler.start();
    while (starts === 0) await sleep(20);
    let stopped = false;
    const stopping = scheduler.stop().then(() => (stopped = true));
    await sleep(1500);
    expect(stopped).toBe(false);
    expect(starts).toBe(1);
    gate.resolve();
    await stopping;
    expect(finished).toBe(true);
    expect(readHistory(historyFile).filter((r) => r.outcome !== 'skipped').map((r) => r.outcome)).toEqual(['ok']);
    expect((await scheduler.trigger('verify')).outcome).toBe('skipped');
  });
});
