import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { dropDatabase } from '../../db/databases.ts';
import type { Sql } from '../../db/connect.ts';
import { otherSessions } from '../../db/sessions.ts';
import type { Logger } from '../../log.ts';
import { isAbandoned, parseMarker } from '../../db/scratch-marker.ts';
import { pidAlive } from '../../processes.ts';
import { compactStamp } from '../file-names.ts';

/**
 * Databases a restore or a verification creates for itself. Each carries the scratch marker
 * (core/db/scratch-marker.ts) in its COMMENT, so that what a killed run (SIGKILL, power cut)
 * left behind is found by the next restore or verification and removed: only databases with
 * the marker, only when the process that made them is gone, and never a database someone is
 * connected to.
 */

export type ScratchPurpose = 'restore' | 'verify';

/** `<db>_verify_20261125t031500z_1a2b`: lower case and under PostgreSQL's 63 bytes whatever the source name. */
export function scratchDatabaseName(database: string, purpose: ScratchPurpose, at: Date = new Date()): string {
  return `${database.slice(0, 24)}_${purpose}_${compactStamp(at).toLowerCase()}_${randomBytes(2).toString('hex')}`;
}

/** Drops the scratch databases killed runs abandoned (see isAbandoned); returns their names. */
export async function sweepAbandoned(sql: Sql, log: Logger): Promise<string[]> {
  const rows = await sql<{ name: string; comment: string | null }[]>`
    select datname as name, shobj_description(oid, 'pg_database') as comment from pg_database where not datistemplate order by 1`;
  const removed: string[] = [];
  for (const r of rows) {
    const m = parseMarker(r.comment);
    if (!m || !isAbandoned(m, { host: os.hostname(), now: new Date(), alive: pidAlive })) continue;
    if ((await otherSessions(sql, r.name)).length > 0) continue;
    await dropDatabase(sql, r.name);
    log.warn({ database: r.name, purpose: m.purpose, pid: m.pid, startedAt: m.startedAt }, 'dropped a scratch database an interrupted run left behind');
    removed.push(r.name);
  }
  return removed;
}
