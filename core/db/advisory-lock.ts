import { UserError } from '../errors.ts';
import type { Sql } from './connect.ts';

/** One session, or a pool of one: an advisory lock belongs to the session that took it. */
type Session = Pick<Sql, 'unsafe'>;

export interface LockHolder {
  pid: number;
  applicationName: string;
  user: string;
  /** `active`, `idle`, `idle in transaction`, … */
  state: string | null;
  /** When the holder's current state began (for an idle holder: since it went idle). */
  since: Date | null;
}

/** Pure: a bigint advisory key as pg_locks shows it (classid = high 32 bits, objid = low 32 bits, objsubid = 1). */
export function lockKeyParts(key: bigint): { classid: number; objid: number } {
  const unsigned = BigInt.asUintN(64, key);
  return { classid: Number(unsigned >> 32n), objid: Number(unsigned & 0xffffffffn) };
}

/** Sessions holding the session-level advisory lock `key` in the current database. */
export async function lockHolders(sql: Session, key: bigint): Promise<LockHolder[]> {
  const { classid, objid } = lockKeyParts(key);
  const rows = (await sql.unsafe(
    `select a.pid, a.application_name, coalesce(a.usename, '') as usename, a.state, a.state_change
       from pg_locks l join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.granted and l.classid = $1 and l.objid = $2 and l.objsubid = 1
        and l.database = (select oid from pg_database where datname = current_database())`,
    [classid, objid],
  )) as unknown as { pid: number; application_name: string; usename: string; state: string | null; state_change: Date | null }[];
  return rows.map((r) => ({ pid: r.pid, applicationName: r.application_name, user: r.usename, state: r.state, since: r.state_change }));
}

/** Pure: `pid 4242 (sqlx-cli, user app_migrator, idle since 2026-12-01T10:00:00Z)`. */
export function describeHolder(h: LockHolder): string {
  const since = h.since ? ` since ${h.since.toISOString().replace(/\.\d+Z$/, 'Z')}` : '';
  return `pid ${h.pid} (${h.applicationName || 'no application name'}, user ${h.user || '?'}, ${h.state ?? 'unknown state'}${since})`;
}

/** SQLSTATE 40P01. */
const DEADLOCK_DETECTED = '40P01';

export interface AcquireOptions {
  /** How long to wait for the lock before giving up. */
  timeoutMs: number;
  /** What the lock guards, for the message: `the migration lock on database app`. */
  what: string;
  /** Extra advice when the holder is idle (a crashed or stuck client can keep a session lock forever). */
  idleHint?: string;
}

/**
 * Takes the session-level advisory lock `key`, waiting in PostgreSQL's own queue (so
 * concurrent callers are served in order) for at most `timeoutMs`. When the wait runs out
 * the error names who holds it.
 */
export async function acquireAdvisoryLock(sql: Session, key: bigint, opts: AcquireOptions): Promise<void> {
  const timeout = Math.max(1, Math.trunc(opts.timeoutMs));
  await sql.unsafe(`SET lock_timeout = ${timeout}`);
  try {
    await sql.unsafe(`SELECT pg_advisory_lock(${key.toString()})`);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === DEADLOCK_DETECTED) {
      const holders = await lockHolders(sql, key).catch(() => [] as LockHolder[]);
      // By now the holder has usually finished: PostgreSQL ended this wait so that it could.
      const who = holders.length ? `, held by ${holders.map(describeHolder).join(', ')}` : '';
      throw new UserError(
        `deadlock detected while waiting for ${opts.what}${who}: the holder ran a statement that waits for this session (CREATE INDEX CONCURRENTLY waits for every older snapshot, and a session waiting for a lock holds one), so PostgreSQL ended this wait and the holder went on`,
        'run again once the holder has finished',
      );
    }
    if (code !== '55P03') throw e;
    const holders = await lockHolders(sql, key).catch(() => [] as LockHolder[]);
    const who = holders.length ? `held by ${holders.map(describeHolder).join(', ')}` : 'its holder could not be read';
    const idle = holders.some((h) => h.state === 'idle') && opts.idleHint ? `; ${opts.idleHint}` : '';
    throw new UserError(`timed out after ${timeout < 1000 ? `${timeout} ms` : `${Math.round(timeout / 1000)} s`} waiting for ${opts.what}, ${who}`, `wait for it to finish and try again, or end that session with SELECT pg_terminate_backend(<pid>)${idle}`);
  } finally {
    await sql.unsafe('RESET lock_timeout').catch(() => {});
  }
}

export async function releaseAdvisoryLock(sql: Session, key: bigint): Promise<void> {
  await sql.unsafe(`SELECT pg_advisory_unlock(${key.toString()})`);
}

/** Runs `fn` holding the advisory lock `key` on `sql` (one session), and always releases it. */
export async function withAdvisoryLock<T>(sql: Session, key: bigint, opts: AcquireOptions, fn: () => Promise<T>): Promise<T> {
  await acquireAdvisoryLock(sql, key, opts);
  try {
    return await fn();
  } finally {
    await releaseAdvisoryLock(sql, key).catch(() => {});
  }
}
