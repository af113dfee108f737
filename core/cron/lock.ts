import { createHash, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pidAlive } from '../processes.ts';

/** Who holds a lock file: `<pid> <process start time> <token>`; older files hold a bare pid. */
interface Holder {
  pid: number;
  /** The kernel's start time of that process (Linux), so a recycled pid is not taken for the holder. */
  start: string | undefined;
  token: string | undefined;
  raw: string;
}

/** Start time of a process in clock ticks since boot, from /proc; undefined where there is no /proc. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22; the command name (field 2) may hold spaces and parentheses, so count from its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function parseHolder(raw: string): Holder {
  const [pid, start, token] = raw.trim().split(/\s+/);
  return { pid: /^\d+$/.test(pid ?? '') ? Number(pid) : NaN, start: start === '-' ? undefined : start, token, raw };
}

function readHolder(file: string): Holder | undefined {
  try {
    return parseHolder(readFileSync(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * A holder is alive while its pid runs and, where the start time is known on both sides, is
 * still the same process. A bare pid equal to ours is a previous run of this program in the
 * same pid slot (a restarted container), not us.
 */
function alive(h: Holder): boolean {
  if (!pidAlive(h.pid)) return false;
  const now = processStart(h.pid);
  if (h.start !== undefined && now !== undefined) return h.start === now;
  return h.pid !== process.pid;
}

function tryLink(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

type Takeover = { retry: true } | { heldBy: number };

/** The takeover markers of one stale holder: `<lock>.break.<id>.<generation>`. */
function markerPrefix(file: string, stale: Holder): string {
  return `${file}.break.${createHash('sha256').update(stale.raw).digest('hex').slice(0, 16)}.`;
}

/**
 * Replaces the lock of a dead holder. Only the maker of a marker may remove the lock file, so
 * two processes that both found the same dead holder cannot both remove it (the second would
 * be removing the first one's fresh lock). Markers are named after the stale content, and a
 * dead maker's marker is passed over to the next generation rather than removed: a marker can
 * then never be removed from under its live maker, the race that left markers behind. Once
 * the stale content is gone it never returns (its token was random), so a late breaker finds
 * nothing to remove.
 */
function takeOver(file: string, stale: Holder, mine: string): Takeover {
  const prefix = markerPrefix(file, stale);
  for (let generation = 0; generation < 64; generation++) {
    const marker = `${prefix}${generation}`;
    if (tryLink(mine, marker)) {
      try {
        if (readHolder(file)?.raw === stale.raw) rmSync(file, { force: true });
      } finally {
        rmSync(marker, { force: true });
      }
      return { retry: true };
    }
    const breaker = readHolder(marker);
    if (breaker === undefined) return { retry: true };
    if (alive(breaker)) return { heldBy: breaker.pid };
  }
  return { retry: true };
}

/**
 * Markers left by breakers that died. Safe once we hold the lock: every marker names an older
 * content, and its breaker (if alive) removes the lock only while the lock still holds that.
 */
function clearMarkers(file: string): void {
  const base = `${path.basename(file)}.break`;
  for (const name of readdirSync(path.dirname(file))) {
    if (name === base || name.startsWith(`${base}.`)) rmSync(path.join(path.dirname(file), name), { force: true });
  }
}

/**
 * A job lock across processes. The pid, process start time and a random token are written
 * to a private file first and then hard-linked into place, so the lock file appears whole or
 * not at all and exactly one of any number of racers creates it. A lock whose holder is gone
 * (crash, SIGKILL) is taken over. Returns a release function, or the live holder's pid.
 */
export function acquireJobLock(file: string): { release: () => void } | { heldBy: number } {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const token = randomBytes(8).toString('hex');
  const content = `${process.pid} ${processStart(process.pid) ?? '-'} ${token}\n`;
  const mine = `${file}.${token}.tmp`;
  writeFileSync(mine, content, { mode: 0o600, flag: 'wx' });
  let last = -1;
  try {
    for (let attempt = 0; attempt < 8; attempt++) {
      if (tryLink(mine, file)) {
        clearMarkers(file);
        return { release: () => releaseIfOurs(file, token) };
      }
      const holder = readHolder(file);
      if (holder === undefined) continue; // released between our link and our read
      if (alive(holder)) return { heldBy: holder.pid };
      last = holder.pid;
      const t = takeOver(file, holder, mine);
      if ('heldBy' in t) return t;
    }
    return { heldBy: last };
  } finally {
    rmSync(mine, { force: true });
  }
}

/** Removes the lock only while it is still ours; nobody else removes a live holder's file, so the check stays true. */
function releaseIfOurs(file: string, token: string): void {
  if (readHolder(file)?.token === token) rmSync(file, { force: true });
}
