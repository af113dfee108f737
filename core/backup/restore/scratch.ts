import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { dropDatabase } from '../../db/databases.ts';
import type { Sql } from '../../db/connect.ts';
import { otherSessions } from '../../db/sessions.ts';
import type { Logger } from '../../log.ts';
import { pidAlive } from '../files.ts';
import { compactStamp } from '../file-names.ts';

/**
 * Databases a restore or a verification creates for itself. Each carries a marker in its
 * COMMENT (who made it: host, pid, when), so that what a killed run (SIGKILL, power cut)
 * left behind is found by the next restore or verification and removed: only databases with
 * the marker, only when the process that made them is gone, and never a database someone is
 * connected to.
 */

export type ScratchPurpose = 'restore' | 'verify';

/** `<db>_verify_20261125t031500z_1a2b`: lower case and under PostgreSQL's 63 bytes whatever the source name. */
export function scratchDatabaseName(database: string, purpose: ScratchPurpose, at: Date = new Date()): string {
  return `${database.slice(0, 24)}_${purpose}_${compactStamp(at).toLowerCase()}_${randomBytes(2).toString('hex')}`;
}

const PREFIX = 'pgsteward scratch database ';

export interface ScratchMarker {
  purpose: ScratchPurpose;
  host: string;
  pid: number;
  startedAt: string;
}

/** Pure: the COMMENT text. */
export function scratchMarker(m: ScratchMarker): string {
  return PREFIX + JSON.stringify({ purpose: m.purpose, host: m.host, pid: m.pid, startedAt: m.startedAt });
}

export function markerForThisRun(purpose: ScratchPurpose, now = new Date()): string {
  return scratchMarker({ purpose, host: os.hostname(), pid: process.pid, startedAt: now.toISOString() });
}

/** Pure: the marker in a comment, or undefined for any comment we did not write. */
export function parseScratchMarker(comment: string | null | undefined): ScratchMarker | undefined {
  if (!comment?.startsWith(PREFIX)) return undefined;
  try {
    const m = JSON.parse(comment.slice(PREFIX.length)) as Partial<ScratchMarker>;
    if ((m.purpose !== 'restore' && m.purpose !== 'verify') || typeof m.host !== 'string' || !Number.isInteger(m.pid) || typeof m.startedAt !== 'string') return undefined;
    return m as ScratchMarker;
  } catch {
    return undefined;
  }
}

/**
 * Pure: whether a marked database was abandoned. Only a run on this host can tell whether the
 * process that made it is gone; one made on another host is left for that host to clean.
 */
export function isAbandoned(m: ScratchMarker, here: { host: string; alive: (pid: number) => boolean }): boolean {
  return m.host === here.host && !here.alive(m.pid);
}

/** Drops the scratch databases earlier runs on this host abandoned; returns their names. */
export async function sweepAbandoned(sql: Sql, log: Logger): Promise<string[]> {
  const rows = await sql<{ name: string; comment: string | null }[]>`
    select datname as name, shobj_description(oid, 'pg_database') as comment from pg_database where not datistemplate order by 1`;
  const removed: string[] = [];
  for (const r of rows) {
    const m = parseScratchMarker(r.comment);
    if (!m || !isAbandoned(m, { host: os.hostname(), alive: pidAlive })) continue;
    if ((await otherSessions(sql, r.name)).length > 0) continue;
    await dropDatabase(sql, r.name);
    log.warn({ database: r.name, purpose: m.purpose, pid: m.pid, startedAt: m.startedAt }, 'dropped a scratch database an interrupted run left behind');
    removed.push(r.name);
  }
  return removed;
}
