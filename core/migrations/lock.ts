import { crc32 } from 'node:zlib';
import { UserError } from '../errors.ts';

/**
 * sqlx's advisory lock key: 1026731422 × CRC-32(database name), so that this runner and an
 * application's `sqlx::migrate!().run()` exclude each other on the same database. The sqlx CLI
 * (`sqlx migrate run`) takes no lock at all, so nothing excludes it: see docs/migrations.md.
 */
export function sqlxLockKey(database: string): bigint {
  return 1026731422n * BigInt(crc32(Buffer.from(database, 'utf8')));
}

/** How long the runner waits for the migration lock unless told otherwise (`--lock-wait-timeout`). */
export const DEFAULT_LOCK_WAIT_TIMEOUT_MS = 60_000;

/** PostgreSQL's lock_timeout is an int of milliseconds. */
const MAX_MS = 2_147_483_647;
const UNIT_MS: Record<string, number> = { '': 1000, ms: 1, s: 1000, min: 60_000 };

/** Pure: a `--lock-wait-timeout` value in milliseconds; a bare number is seconds. */
export function parseLockWaitTimeout(text: string, flag = '--lock-wait-timeout'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|)\s*$/.exec(text);
  const ms = m ? Math.round(Number(m[1]) * UNIT_MS[m[2]!]!) : NaN;
  if (!(ms >= 1 && ms <= MAX_MS)) {
    throw new UserError(`${flag} "${text.slice(0, 40)}" is not a duration between 1 ms and 24 days`, 'give seconds (60), or a number with ms, s or min (500ms, 30s, 2min)');
  }
  return ms;
}
