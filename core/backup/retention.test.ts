import { describe, expect, it } from 'vitest';
import type { RetentionPolicy } from '../config/ops-config.ts';
import { backupName } from './file-names.ts';
import { dayKey, isoWeekKey, monthKey, planRetention, type RetentionCandidate } from './retention.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** One backup every `stepMs` from `from` up to and including `to`. */
function timeline(from: string, to: string, stepMs: number, verified: (d: Date) => boolean = () => false): RetentionCandidate[] {
  const out: RetentionCandidate[] = [];
  for (let t = Date.parse(from); t <= Date.parse(to); t += stepMs) {
    const d = new Date(t);
    out.push({ name: backupName('local', d), startedAt: d, verified: verified(d) });
  }
  return out;
}

const named = (iso: string) => backupName('local', new Date(iso));
const policy = (p: Partial<RetentionPolicy>): RetentionPolicy => ({ keepLast: 1, daily: 0, weekly: 0, monthly: 0, minAgeHours: 0, ...p });
const kept = (plan: ReturnType<typeof planRetention>) => new Set(plan.keep.map((k) => k.name));

describe('calendar keys', () => {
  it('uses ISO weeks, including the week-numbering year at year ends', () => {
    expect(isoWeekKey(new Date('2026-11-25T03:15:00Z'))).toBe('2026-W48');
    expect(isoWeekKey(new Date('2027-01-01T00:00:00Z'))).toBe('2026-W53');
    expect(isoWeekKey(new Date('2024-12-30T00:00:00Z'))).toBe('2025-W01');
    expect(isoWeekKey(new Date('2026-04-26T23:59:59Z'))).toBe('2026-W17'); // a Sunday ends its week
    expect(isoWeekKey(new Date('2026-04-27T00:00:00Z'))).toBe('2026-W18');
    expect(dayKey(new Date('2026-02-28T23:59:59Z'))).toBe('2026-02-28');
    expect(monthKey(new Date('2026-02-28T23:59:59Z'))).toBe('2026-02');
  });
});

describe('planRetention on generated timelines', () => {
  it('daily backups Jan-Apr: keeps exactly the last 2, 5 days, 3 weeks and 3 months', () => {
    const backups = timeline('2026-01-01T03:15:00Z', '2026-04-30T03:15:00Z', DAY);
    expect(backups).toHaveLength(120);
    const plan = planRetention(backups, policy({ keepLast: 2, daily: 5, weekly: 3, monthly: 3 }), new Date('2026-04-30T12:00:00Z'));
    // 2026-04-30 is a Thursday: weeks W18 (Apr 27-30), W17 (ends Sun Apr 26), W16 (ends Sun Apr 19).
    const expected = ['04-30', '04-29', '04-28', '04-27', '04-26', '04-19', '03-31', '02-28'].map((d) => named(`2026-${d}T03:15:00Z`));
    expect([...kept(plan)].sort()).toEqual(expected.sort());
    expect(plan.keep.length + plan.remove.length).toBe(120);
    const why = Object.fromEntries(plan.keep.map((k) => [k.name.slice(6, 14), k.reasons]));
    expect(why['20260430']).toEqual(['last 1', 'daily 2026-04-30', 'weekly 2026-W18', 'monthly 2026-04']);
    expect(why['20260419']).toEqual(['weekly 2026-W16']);
    expect(why['20260228']).toEqual(['monthly 2026-02']);
  });

  it('hourly backups: each day, week and month keeps its newest backup, not its first', () => {
    const backups = timeline('2026-03-01T00:30:00Z', '2026-03-10T23:30:00Z', HOUR);
    const plan = planRetention(backups, policy({ keepLast: 3, daily: 3, weekly: 2, monthly: 2 }), new Date('2026-03-11T00:00:00Z'));
    const expected = [
      '2026-03-10T23:30:00Z', '2026-03-10T22:30:00Z', '2026-03-10T21:30:00Z', // last 3
      '2026-03-09T23:30:00Z', '2026-03-08T23:30:00Z', // daily (the 10th is already kept); the 8th is a Sunday: W10's newest
    ].map(named);
    expect([...kept(plan)].sort()).toEqual(expected.sort());
    // only one month has backups: monthly finds nothing older to keep
    expect(plan.keep.find((k) => k.reasons.includes('monthly 2026-03'))!.name).toBe(named('2026-03-10T23:30:00Z'));
  });

  it('counts days that have backups, so a gap does not use up the daily quota', () => {
    const backups = [...timeline('2026-05-01T02:00:00Z', '2026-05-03T02:00:00Z', DAY), ...timeline('2026-05-20T02:00:00Z', '2026-05-21T02:00:00Z', DAY)];
    const plan = planRetention(backups, policy({ keepLast: 1, daily: 4 }), new Date('2026-05-22T00:00:00Z'));
    expect([...kept(plan)].sort()).toEqual(['05-02', '05-03', '05-20', '05-21'].map((d) => named(`2026-${d}T02:00:00Z`)).sort());
  });

  it('never deletes the newest verified backup, however old', () => {
    const backups = timeline('2026-01-01T03:00:00Z', '2026-02-19T03:00:00Z', DAY, (d) => dayKey(d) === '2026-01-05' || dayKey(d) === '2026-01-02');
    const plan = planRetention(backups, policy({ keepLast: 3 }), new Date('2026-03-01T00:00:00Z'));
    expect([...kept(plan)].sort()).toEqual(['2026-01-05', '2026-02-17', '2026-02-18', '2026-02-19'].map((d) => named(`${d}T03:00:00Z`)).sort());
    expect(plan.keep.find((k) => k.name === named('2026-01-05T03:00:00Z'))!.reasons).toEqual(['newest verified']);
    expect(kept(plan).has(named('2026-01-02T03:00:00Z'))).toBe(false);
  });

  it('never deletes a backup younger than the minimum age', () => {
    const now = new Date('2026-06-10T12:00:00Z');
    const backups = timeline('2026-06-09T00:00:00Z', '2026-06-10T11:00:00Z', HOUR);
    const plan = planRetention(backups, policy({ keepLast: 1, minAgeHours: 6 }), now);
    // ages 1h..6h are kept by age, the 6h-old exactly is not younger than 6h
    const young = ['11', '10', '09', '08', '07'].map((h) => named(`2026-06-10T${h}:00:00Z`));
    expect([...kept(plan)].sort()).toEqual(young.sort());
    expect(plan.remove).toHaveLength(backups.length - 5);
  });

  it('property: on random timelines every rule holds and pruning the kept set again removes nothing', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let run = 0; run < 200; run++) {
      const n = Math.floor(rnd() * 120);
      const start = Date.parse('2025-01-01T00:00:00Z') + Math.floor(rnd() * 400) * DAY;
      const backups: RetentionCandidate[] = [];
      let t = start;
      for (let i = 0; i < n; i++) {
        t += Math.floor(rnd() * 3 * DAY) + 60_000;
        const d = new Date(t);
        backups.push({ name: backupName('prod', d), startedAt: d, verified: rnd() < 0.1 });
      }
      const p = policy({ keepLast: 1 + Math.floor(rnd() * 4), daily: Math.floor(rnd() * 8), weekly: Math.floor(rnd() * 5), monthly: Math.floor(rnd() * 7), minAgeHours: Math.floor(rnd() * 72) });
      const now = new Date(t + Math.floor(rnd() * 5 * DAY));
      const plan = planRetention(backups, p, now);
      const keep = kept(plan);
      expect(plan.keep.length + plan.remove.length).toBe(backups.length);
      const newestFirst = [...backups].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
      newestFirst.slice(0, p.keepLast).forEach((b) => expect(keep.has(b.name)).toBe(true));
      const newestVerified = newestFirst.find((b) => b.verified);
      if (newestVerified) expect(keep.has(newestVerified.name)).toBe(true);
      for (const b of backups) if (now.getTime() - b.startedAt.getTime() < p.minAgeHours * HOUR) expect(keep.has(b.name)).toBe(true);
      for (const [count, key] of [[p.daily, dayKey], [p.weekly, isoWeekKey], [p.monthly, monthKey]] as const) {
        const buckets = [...new Set(newestFirst.map((b) => key(b.startedAt)))].slice(0, count);
        for (const k of buckets) expect(keep.has(newestFirst.find((b) => key(b.startedAt) === k)!.name)).toBe(true);
      }
      // upper bound: nothing is kept without a rule
      const bound = p.keepLast + p.daily + p.weekly + p.monthly + 1 + backups.filter((b) => now.getTime() - b.startedAt.getTime() < p.minAgeHours * HOUR).length;
      expect(plan.keep.length).toBeLessThanOrEqual(bound);
      // idempotent: what survives survives the next run at the same moment
      const again = planRetention(backups.filter((b) => keep.has(b.name)), p, now);
      expect(again.remove).toEqual([]);
    }
  });
});
