import { performance } from 'node:perf_hooks';
import { UserError, errorLine, isUserError } from '../errors.ts';
import { ident, type Sql } from '../db/connect.ts';
import { acquireAdvisoryLock, releaseAdvisoryLock } from '../db/advisory-lock.ts';
import type { Migration, MigrationSource } from './files.ts';
import { DEFAULT_LOCK_WAIT_TIMEOUT_MS, sqlxLockKey } from './lock.ts';
import { CREATE_LEDGER, INSERT_LEDGER_ROW, SET_EXECUTION_TIME, readLedger } from './ledger.ts';
import { plan, split, type AppliedRow, type PlanOptions } from './plan.ts';
import { failureAdvice, INVALID_INDEXES } from './failure.ts';

export interface MigrateResult {
  applied: Array<{ version: bigint; file: string; nanos: bigint }>;
  alreadyApplied: number;
  /** Applied versions with no local file, passed over because of `ignoreMissing`. */
  ignoredMissing: bigint[];
}

export interface MigrateOptions extends PlanOptions {
  /** Role to SET before anything runs, so every object is owned by it rather than by the login role. */
  runAs?: string | undefined;
  onApply?: (m: Migration) => void;
  /** How long to wait for the migration lock; default DEFAULT_LOCK_WAIT_TIMEOUT_MS (60 s). */
  lockWaitTimeoutMs?: number | undefined;
}

/**
 * sqlx's `Migrator::run` takes the lock and returns early with `?` on every error after it, so
 * the lock stays with the connection, and a pooled connection keeps it for as long as the
 * application runs.
 */
const IDLE_HOLDER =
  'an idle holder is often an application whose startup migration failed: sqlx::migrate!().run() returns on an error without releasing this lock, and its pooled connection keeps it until the application stops';

/**
 * Applies pending migrations with sqlx's semantics: its advisory lock, its ledger, one
 * transaction per file (unless `-- no-transaction`). Everything is validated under the lock
 * before the first file runs, so a refused run applies nothing.
 */
export async function migrate(pool: Sql, database: string, source: MigrationSource, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const conn = await pool.reserve();
  try {
    // The key comes from the session's own database, as sqlx computes it, so the two always meet.
    const [{ db }] = (await conn.unsafe('SELECT current_database() AS db')) as unknown as [{ db: string }];
    const key = sqlxLockKey(db);
    // Taken before SET ROLE: the holder is then read as the login role, which may see a
    // same-role holder's state (pg_stat_activity hides it from others).
    await lockForMigration(conn, key, database, opts.lockWaitTimeoutMs ?? DEFAULT_LOCK_WAIT_TIMEOUT_MS);
    try {
      if (opts.runAs) await conn.unsafe(`SET ROLE ${ident(opts.runAs)}`);
      await conn.unsafe(CREATE_LEDGER);
      const { pending, applied, missing } = plan(source, await readLedger(conn), opts);
      const result: MigrateResult = { applied: [], alreadyApplied: applied.length, ignoredMissing: missing.map((r) => r.version) };
      for (const m of pending) {
        opts.onApply?.(m);
        const nanos = await applyOne(conn, m);
        result.applied.push({ version: m.version, file: m.file, nanos });
      }
      return result;
    } finally {
      if (opts.runAs) await conn.unsafe('RESET ROLE').catch(() => {});
      await releaseAdvisoryLock(conn, key).catch(() => {});
    }
  } finally {
    conn.release();
  }
}

async function lockForMigration(conn: Pick<Sql, 'unsafe'>, key: bigint, database: string, timeoutMs: number): Promise<void> {
  try {
    await acquireAdvisoryLock(conn, key, { timeoutMs, what: `the migration lock on database ${database}`, idleHint: IDLE_HOLDER });
  } catch (e) {
    if (!isUserError(e)) throw e;
    throw new UserError(e.message, `${e.fix}; to wait longer, pass --lock-wait-timeout`);
  }
}

/** Runs one file and writes its ledger row, as sqlx's `apply` does; returns the elapsed nanoseconds. */
async function applyOne(conn: Pick<Sql, 'unsafe'>, m: Migration): Promise<bigint> {
  const started = performance.now();
  // What a failed CREATE INDEX CONCURRENTLY leaves is told apart from what was there before.
  const invalidBefore = m.noTransaction ? await invalidIndexes(conn) : [];
  try {
    if (m.noTransaction) {
      await conn.unsafe(m.sql);
      await conn.unsafe(INSERT_LEDGER_ROW, [m.version.toString(), m.description, m.checksum]);
    } else {
      await conn.unsafe('BEGIN');
      await conn.unsafe(m.sql);
      await conn.unsafe(INSERT_LEDGER_ROW, [m.version.toString(), m.description, m.checksum]);
      await conn.unsafe('COMMIT');
    }
  } catch (e) {
    if (!m.noTransaction) await conn.unsafe('ROLLBACK').catch(() => {});
    const left = m.noTransaction ? (await invalidIndexes(conn).catch(() => [])).filter((i) => !invalidBefore.includes(i)) : [];
    const advice = failureAdvice(m, { message: errorLine(e), code: (e as { code?: string }).code }, left);
    throw new UserError(advice.problem, advice.fix);
  }
  const nanos = BigInt(Math.round((performance.now() - started) * 1e6));
  await conn.unsafe(SET_EXECUTION_TIME, [nanos.toString(), m.version.toString()]);
  return nanos;
}

async function invalidIndexes(conn: Pick<Sql, 'unsafe'>): Promise<string[]> {
  const rows = (await conn.unsafe(INVALID_INDEXES)) as unknown as { name: string }[];
  return rows.map((r) => r.name);
}

export interface MigrationStatus extends ReturnType<typeof split> {
  rows: AppliedRow[];
  /** The first reason the runner would refuse, as one line; undefined when it would run. */
  problem: string | undefined;
}

/** Applied and pending migrations, without taking the lock or changing anything. */
export async function migrationStatus(sql: Sql, source: MigrationSource, opts: PlanOptions = {}): Promise<MigrationStatus> {
  const rows = await readLedger(sql);
  try {
    return { rows, ...plan(source, rows, opts), problem: undefined };
  } catch (e) {
    return { rows, ...split(source, rows), problem: errorLine(e) };
  }
}
