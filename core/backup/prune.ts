import type { RetentionPolicy } from '../config/ops-config.ts';
import { silentLogger, type Logger } from '../log.ts';
import { planRetention, type RetentionDecision } from './retention.ts';
import type { BackupStorage, IncompleteBackup } from './storage/index.ts';

export interface PruneReport {
  storage: string;
  dryRun: boolean;
  policy: RetentionPolicy;
  keep: RetentionDecision[];
  /** Deleted, or with --dry-run, what would be. */
  remove: RetentionDecision[];
  /** Leftovers of interrupted runs, removed once older than the minimum age (never less than an hour). */
  leftovers: IncompleteBackup[];
  /** Backups whose manifest cannot be read: never deleted automatically, shown so a person looks. */
  unreadable: IncompleteBackup[];
}

const LEFTOVER_MIN_AGE_MS = 3_600_000;

/** Applies the retention policy to one storage; with `dryRun` only reports. */
export async function pruneBackups(storage: BackupStorage, policy: RetentionPolicy, opts: { dryRun?: boolean; now?: Date; logger?: Logger } = {}): Promise<PruneReport> {
  const now = opts.now ?? new Date();
  const log = opts.logger ?? silentLogger();
  const dryRun = Boolean(opts.dryRun);
  const listing = await storage.list();
  const plan = planRetention(
    listing.backups.map((b) => ({ name: b.name, startedAt: new Date(b.manifest.startedAt), verified: b.manifest.verified })),
    policy,
    now,
  );
  const leftoverAge = Math.max(LEFTOVER_MIN_AGE_MS, policy.minAgeHours * 3_600_000);
  const leftovers = listing.incomplete.filter((i) => i.kind !== 'unreadable' && i.modifiedAt && now.getTime() - i.modifiedAt.getTime() >= leftoverAge);
  const unreadable = listing.incomplete.filter((i) => i.kind === 'unreadable');
  for (const u of unreadable) log.warn({ backup: u.name, reason: u.reason }, 'backup with an unreadable manifest left alone');
  if (!dryRun) {
    for (const r of [...plan.remove, ...leftovers]) {
      await storage.remove(r.name);
      log.info({ backup: r.name, storage: storage.location }, 'backup deleted by retention');
    }
  }
  log.info({ storage: storage.location, kept: plan.keep.length, removed: plan.remove.length, leftovers: leftovers.length, dryRun }, dryRun ? 'retention dry run' : 'retention applied');
  return { storage: storage.location, dryRun, policy, keep: plan.keep, remove: plan.remove, leftovers, unreadable };
}
