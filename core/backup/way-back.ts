import path from 'node:path';
import type { OpsConfig } from '../config/ops-config.ts';
import { withConnection } from '../db/connect.ts';
import { copyDatabase, databaseExists } from '../db/databases.ts';
import { UserError, errorLine } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { scrub } from '../secrets.ts';
import type { Target } from '../open-target.ts';
import { backupDatabase } from './backup.ts';
import { validateLabel } from './file-names.ts';
import { maintenanceConnection } from './settings.ts';

/**
 * Destructive work keeps a way back first: a complete copy of the database as it was, made
 * before anything changes, or the work is refused with nothing changed. The rules, in one place:
 *
 * - The database is replaced as a whole (restore-db --into-existing): the replaced database
 *   itself is the way back. The restore lands in a new database, which then takes the name in
 *   one transaction, and the old one keeps `<db>_before_<stamp>`: exact, immediate, and it
 *   needs no client tools.
 * - The database is changed in place (reset-db): a pg_dump safety backup into the target's
 *   configured backup storage when a pg_dump at least as new as the server exists; otherwise
 *   a server-side copy, `CREATE DATABASE <db>_bak_<stamp> TEMPLATE <db>`; when neither can be
 *   made, the work is refused.
 */

export type WayBack =
  /** A safety backup in the backup storage. */
  | { kind: 'dump'; location: string }
  /** A database on the same server holding the previous contents. */
  | { kind: 'copy'; database: string };

export type WayBackReason = 'pre-reset' | 'pre-restore';

export interface WayBackOptions {
  ops?: OpsConfig;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
  now?: Date;
}

/** `<db>_<kind>_<base36 seconds>`: sorts by time and stays within 63 bytes for any valid name (48 + 8 + 7). */
export function wayBackDatabaseName(database: string, kind: 'bak' | 'before', now = new Date(), attempt = 1): string {
  return `${database}_${kind}_${Math.floor(now.getTime() / 1000).toString(36)}${attempt > 1 ? attempt : ''}`;
}

export function describeWayBack(w: WayBack, database: string): string {
  return w.kind === 'dump'
    ? `safety backup ${w.location} (restore-db ${path.basename(w.location)} --into-existing --confirm ${database})`
    : `previous contents kept in database ${w.database} (drop it when no longer needed)`;
}

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
 * role's grants lag behind the schema. Never throws: when no backup can be taken (no
 * compatible pg_dump, say) the caller is told plainly why.
 */
export async function takeSafetyBackup(target: Target, reason: string, opts: WayBackOptions = {}): Promise<SafetyBackupResult> {
  try {
    const { location } = await backupDatabase(target, { label: reasonLabel(reason), as: 'admin', ...(opts.logger ? { logger: opts.logger } : {}), ...(opts.ops ? { ops: opts.ops } : {}), ...(opts.env ? { env: opts.env } : {}) });
    return { ok: true, location };
  } catch (e) {
    return { ok: false, reason: scrub(errorLine(e)) };
  }
}

/** A database name for the way back that is not taken yet. */
async function freeName(target: Target, kind: 'bak' | 'before', now: Date): Promise<string> {
  const database = target.config.database;
  return withConnection(maintenanceConnection(target), { applicationName: 'pgsteward way back' }, async (sql) => {
    for (let i = 1; i < 10; i++) {
      const name = wayBackDatabaseName(database, kind, now, i);
      if (!(await databaseExists(sql, name))) return name;
    }
    throw new UserError(`too many ${kind === 'bak' ? 'copies' : 'kept databases'} of ${database} made this second`, 'wait a second and try again; nothing was changed');
  });
}

/**
 * Keeps a way back for `target`'s database before `reason`'s destructive work, by the rules
 * above, or throws (nothing was changed). For `pre-restore` it names the database the
 * replaced one will be kept as; the restore's swap keeps it there.
 */
export async function keepWayBack(target: Target, reason: WayBackReason, opts: WayBackOptions = {}): Promise<WayBack> {
  const log = opts.logger ?? silentLogger();
  const now = opts.now ?? new Date();
  const database = target.config.database;
  if (reason === 'pre-restore') return { kind: 'copy', database: await freeName(target, 'before', now) };

  const dump = await takeSafetyBackup(target, reason, opts);
  if (dump.ok) {
    log.info({ database, location: dump.location }, 'safety backup taken');
    return { kind: 'dump', location: dump.location };
  }
  log.warn({ database, reason: dump.reason }, 'no pg_dump safety backup; copying the database on the server instead');
  try {
    const name = await freeName(target, 'bak', now);
    await withConnection(maintenanceConnection(target), { applicationName: 'pgsteward way back' }, (sql) => copyDatabase(sql, database, name, target.roles.owner));
    log.info({ database, copy: name }, 'server-side copy taken');
    return { kind: 'copy', database: name };
  } catch (e) {
    throw new UserError(`no way back for ${database} could be kept (safety backup: ${dump.reason}; server-side copy: ${scrub(errorLine(e))}); nothing was changed`, 'fix one of those first');
  }
}
