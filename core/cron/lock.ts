import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pidAlive } from '../backup/files.ts';

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

/**
 * Removes `file` only if it still holds `raw`: moved aside first (atomic), put back if it
 * turned out to be someone else's. Used only for a takeover marker whose maker died.
 */
function removeIfStill(file: string, raw: string, grave: string): void {
  try {
    renameSync(file, grave);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (readFileSync(grave, 'utf8') !== raw) tryLink(grave, file);
  rmSync(grave, { force: true });
}

type Takeover = { retry: true } | { heldBy: number };

/**
 * Replaces the lock of a dead holder. Only the maker of `<lock>.break` may remove the lock
 * file, so two processes that both found the same dead holder cannot both remove it (the
 * second would be removing the first one's fresh lock).
 */
function takeOver(file: string, stale: Holder, mine: string, grave: string): Takeover {
  const marker = `${file}.break`;
  if (!tryLink(mine, marker)) {
    const breaker = readHolder(marker);
    if (breaker === undefined) return { retry: true };
    if (alive(breaker)) return { heldBy: breaker.pid };
    removeIfStill(marker, breaker.raw, grave);
    return { retry: true };
  }
  try {
    // While we hold the marker the lock file cannot change: its holder is dead, a new one can
    // only link over an absent file, and every other breaker waits for the marker.
    if (readHolder(file)?.raw === stale.raw) rmSync(file, { force: true });
  } finally {
    rmSync(marker, { force: true });
  }
  return { retry: true };
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
  const grave = `${file}.${token}.old`;
  writeFileSync(mine, content, { mode: 0o600, flag: 'wx' });
  let last = -1;
  try {
    for (let attempt = 0; attempt < 8; attempt++) {
      if (tryLink(mine, file)) return { release: () => releaseIfOurs(file, token) };
      const holder = readHolder(file);
      if (holder === undefined) continue; // released between our link and our read
      if (alive(holder)) return { heldBy: holder.pid };
      last = holder.pid;
      const t = takeOver(file, holder, mine, grave);
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
