import { performance } from 'node:perf_hooks';
import { UserError } from '../errors.ts';
import { ident, type Sql } from '../db/connect.ts';
import type { Migration } from './files.ts';
import { sqlxLockKey } from './lock.ts';
import { CREATE_LEDGER, INSERT_LEDGER_ROW, SET_EXECUTION_TIME, readLedger } from './ledger.ts';
import { plan } from './plan.ts';

export interface MigrateResult {
  applied: Array<{ version: bigint; file: string; nanos: bigint }>;
  alreadyApplied: number;
}

export interface MigrateOptions {
  /** Role to SET before anything runs, so every object is owned by it rather than by the login role. */
  runAs?: string | undefined;
  onApply?: (m: Migration) => void;
}

/**
 * Applies pending migrations with sqlx's semantics: its advisory lock, its ledger, one
 * transaction per file (unless `-- no-transaction`). Everything is validated under the lock
 * before the first file runs, so a refused run applies nothing.
 */
export async function migrate(pool: Sql, database: string, migrations: readonly Migration[], opts: MigrateOptions = {}): Promise<MigrateResult> {
  const conn = await pool.reserve();
  const key = sqlxLockKey(database).toString();
  try {
    if (opts.runAs) await conn.unsafe(`SET ROLE ${ident(opts.runAs)}`);
    await conn.unsafe(`SELECT pg_advisory_lock(${key})`);
    try {
      await conn.unsafe(CREATE_LEDGER);
      const { pending, applied } = plan(migrations, await readLedger(conn));
      const result: MigrateResult = { applied: [], alreadyApplied: applied.length };
      for (const m of pending) {
        opts.onApply?.(m);
        const started = performance.now();
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
          const msg = (e as Error).message?.split('\n')[0] ?? String(e);
          throw new UserError(`migration ${m.version} (${m.file}) failed: ${msg}`, 'fix the SQL in that file; nothing from it was applied');
        }
        const nanos = BigInt(Math.round((performance.now() - started) * 1e6));
        await conn.unsafe(SET_EXECUTION_TIME, [nanos.toString(), m.version.toString()]);
        result.applied.push({ version: m.version, file: m.file, nanos });
      }
      return result;
    } finally {
      await conn.unsafe(`SELECT pg_advisory_unlock(${key})`).catch(() => {});
    }
  } finally {
    if (opts.runAs) await conn.unsafe('RESET ROLE').catch(() => {});
    conn.release();
  }
}

/** Applied and pending migrations, without taking the lock or changing anything. */
export async function migrationStatus(sql: Sql, migrations: readonly Migration[]) {
  const rows = await readLedger(sql);
  return { rows, ...safePlan(migrations, rows) };
}

function safePlan(migrations: readonly Migration[], rows: Awaited<ReturnType<typeof readLedger>>) {
  try {
    return { ...plan(migrations, rows), problem: undefined as string | undefined };
  } catch (e) {
    const done = new Set(rows.map((r) => r.version));
    return {
      applied: migrations.filter((m) => done.has(m.version)),
      pending: migrations.filter((m) => !done.has(m.version)),
      problem: e instanceof UserError ? e.line : String(e),
    };
  }
}
