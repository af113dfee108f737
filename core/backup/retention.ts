import type { RetentionPolicy } from '../config/ops-config.ts';

export interface RetentionCandidate {
  name: string;
  startedAt: Date;
  /** Its latest restore test succeeded. */
  verified: boolean;
}

export interface RetentionDecision {
  name: string;
  startedAt: Date;
  /** Why it stays, e.g. `last 2`, `daily 2026-11-25`, `weekly 2026-W48`, `monthly 2026-11`, `newest verified`, `younger than 24h`. Empty for deletions. */
  reasons: string[];
}

export interface RetentionPlan {
  keep: RetentionDecision[];
  remove: RetentionDecision[];
}

const pad = (n: number) => String(n).padStart(2, '0');

export function dayKey(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

export function monthKey(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}`;
}

/** ISO 8601 week, Monday first, the week-numbering year included: 2026-W48. */
export function isoWeekKey(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const dow = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - dow);
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((t.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${t.getUTCFullYear()}-W${pad(week)}`;
}

/**
 * Grandfather-father-son retention, as restic and borg count it: the newest `keepLast`
 * backups, plus the newest backup of each of the last `daily` days, `weekly` ISO weeks and
 * `monthly` months that have backups (all in UTC). On top of that, two guards that no count
 * overrides: the newest verified backup stays, and nothing younger than `minAgeHours` goes.
 * Pure: the same inputs always give the same plan.
 */
export function planRetention(backups: readonly RetentionCandidate[], policy: RetentionPolicy, now: Date): RetentionPlan {
  const newestFirst = [...backups].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || b.name.localeCompare(a.name));
  const reasons = new Map<string, string[]>(newestFirst.map((b) => [b.name, []]));
  const because = (b: RetentionCandidate, why: string) => reasons.get(b.name)!.push(why);

  newestFirst.slice(0, policy.keepLast).forEach((b, i) => because(b, `last ${i + 1}`));

  const buckets = (count: number, kind: string, key: (d: Date) => string) => {
    const seen = new Set<string>();
    for (const b of newestFirst) {
      if (seen.size >= count) break;
      const k = key(b.startedAt);
      if (seen.has(k)) continue;
      seen.add(k);
      because(b, `${kind} ${k}`);
    }
  };
  buckets(policy.daily, 'daily', dayKey);
  buckets(policy.weekly, 'weekly', isoWeekKey);
  buckets(policy.monthly, 'monthly', monthKey);

  const newestVerified = newestFirst.find((b) => b.verified);
  if (newestVerified) because(newestVerified, 'newest verified');

  const minAgeMs = policy.minAgeHours * 3_600_000;
  for (const b of newestFirst) {
    if (now.getTime() - b.startedAt.getTime() < minAgeMs) because(b, `younger than ${policy.minAgeHours}h`);
  }

  const plan: RetentionPlan = { keep: [], remove: [] };
  for (const b of newestFirst) {
    const r = reasons.get(b.name)!;
    (r.length ? plan.keep : plan.remove).push({ name: b.name, startedAt: b.startedAt, reasons: r });
  }
  return plan;
}
