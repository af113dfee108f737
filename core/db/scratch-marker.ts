import os from 'node:os';

/**
 * The one way a run marks what it creates for itself on a server or a disk (a restore's or a
 * verification's scratch database, schema-drift's reference database and roles, its
 * ephemeral cluster's folder): who made it (host, pid) and when. The next run removes only
 * objects carrying a marker whose maker is gone, so a SIGKILL or a power cut leaves nothing
 * behind for long, and nothing unmarked (a user's database) is ever touched.
 */

export interface ScratchMarker {
  /** What the object is for, e.g. `verify`, `drift reference`. */
  purpose: string;
  host: string;
  pid: number;
  startedAt: string;
}

const PREFIX = 'pgsteward scratch ';

/** Pure: the marker's text (a COMMENT, or a file's content). */
export function markerText(m: ScratchMarker): string {
  return PREFIX + JSON.stringify({ purpose: m.purpose, host: m.host, pid: m.pid, startedAt: m.startedAt });
}

export function markerForThisRun(purpose: string, now = new Date()): string {
  return markerText({ purpose, host: os.hostname(), pid: process.pid, startedAt: now.toISOString() });
}

/** Pure: the marker in a text, or undefined for anything we did not write. */
export function parseMarker(text: string | null | undefined): ScratchMarker | undefined {
  if (!text?.startsWith(PREFIX)) return undefined;
  try {
    const m = JSON.parse(text.slice(PREFIX.length)) as Partial<ScratchMarker>;
    if (typeof m.purpose !== 'string' || typeof m.host !== 'string' || !Number.isInteger(m.pid) || typeof m.startedAt !== 'string') return undefined;
    return { purpose: m.purpose, host: m.host, pid: m.pid!, startedAt: m.startedAt };
  } catch {
    return undefined;
  }
}

/** What another machine made is left alone for a day: its process may be alive where we cannot see it. */
export const FOREIGN_SCRATCH_MAX_AGE_MS = 24 * 3600_000;

/** Pure: whether the run that made a marked object is gone. */
export function isAbandoned(m: ScratchMarker, here: { host: string; now: Date; alive: (pid: number) => boolean }): boolean {
  if (m.host !== here.host) return here.now.getTime() - Date.parse(m.startedAt) > FOREIGN_SCRATCH_MAX_AGE_MS;
  return !here.alive(m.pid);
}
