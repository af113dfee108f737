import { isUserError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { OpsConfig } from '../config/ops-config.ts';
import { scrub } from '../secrets.ts';
import type { Target } from '../open-target.ts';
import { backupDatabase } from './backup.ts';
import { validateLabel } from './names.ts';

export type SafetyBackupResult = { ok: true; location: string } | { ok: false; reason: string };

/** `pre-reset`, `pre restore!` → `pre-reset`, `pre-restore`: a reason becomes a file-name label. */
export function reasonLabel(reason: string): string {
  const label = reason.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'safety';
  return validateLabel(label);
}

/**
 * A backup taken before destructive work, into the target's normal backup storage with the
 * reason in its name (`local-20261125T031500Z-pre-reset.dump`), with a manifest like any
 * other. Taken as the administrator: a way back must be complete even where the backup
 * role's grants lag behind the schema. Never throws: when no backup can be taken (no compatible pg_dump, say) the caller
 * is told plainly why and decides what to do.
 */
export async function takeSafetyBackup(target: Target, reason: string, opts: { logger?: Logger; ops?: OpsConfig } = {}): Promise<SafetyBackupResult> {
  try {
    const { location } = await backupDatabase(target, { label: reasonLabel(reason), as: 'admin', ...(opts.logger ? { logger: opts.logger } : {}), ...(opts.ops ? { ops: opts.ops } : {}) });
    return { ok: true, location };
  } catch (e) {
    const why = isUserError(e) ? e.line : ((e as Error)?.message ?? String(e)).split('\n')[0]!;
    return { ok: false, reason: scrub(why) };
  }
}
