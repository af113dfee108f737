import { ident } from '../../core/db/connect.ts';
import { probeRowKey } from '../../core/config/checks-config.ts';
import { CONFIG_FILE_NAME } from '../../core/config/ops-config.ts';
import type { Expectations } from '../expectations.ts';
import type { CheckOutcome, ProbeSql } from '../types.ts';
import { counted, passingLines } from './passing.ts';

export type Attempt<T> =
  | { ok: true; value: T }
  | { ok: false; code: string; message: string; constraint: string | undefined };

class Undo<T> extends Error {
  constructor(readonly value: T) {
    super('undo');
  }
}

/** SET ROLE itself was refused: the probe could not act as the role, which proves nothing either way. */
export const CANNOT_SET_ROLE = 'cannot-set-role';

class CannotActAs extends Error {}

function failure(e: unknown): Attempt<never> {
  if (e instanceof CannotActAs) return { ok: false, code: CANNOT_SET_ROLE, message: e.message, constraint: undefined };
  const err = e as { code?: string; message?: string; constraint_name?: string };
  return { ok: false, code: err.code ?? '', message: (err.message ?? String(e)).split('\n')[0]!, constraint: err.constraint_name };
}

/**
 * Runs `fn` in a savepoint that is always rolled back, so one probe's effects (rows, SET ROLE,
 * a failed statement) never reach the next. The result or the error comes back as a value.
 */
export async function attempt<T>(tx: ProbeSql, fn: (sp: ProbeSql) => Promise<T>): Promise<Attempt<T>> {
  try {
    await tx.savepoint(async (sp) => {
      throw new Undo(await fn(sp as unknown as ProbeSql));
    });
    throw new Error('unreachable');
  } catch (e) {
    if (e instanceof Undo) return { ok: true, value: e.value as T };
    return failure(e);
  }
}

/** Like `attempt`, with the statements run as `role` (SET LOCAL ROLE, undone with the savepoint). */
export function attemptAs<T>(tx: ProbeSql, role: string, fn: (sp: ProbeSql) => Promise<T>): Promise<Attempt<T>> {
  return attempt(tx, async (sp) => {
    try {
      await sp.unsafe(`SET LOCAL ROLE ${ident(role)}`);
    } catch (e) {
      throw new CannotActAs(((e as Error).message ?? String(e)).split('\n')[0]);
    }
    return fn(sp);
  });
}

/** SQLSTATE 42501: what every refused write or DDL must fail with. */
export const INSUFFICIENT_PRIVILEGE = '42501';
export const UNIQUE_VIOLATION = '23505';

/** Version and variant nibbles of a uuid and its embedded Unix-millisecond time, as SQL columns. */
export function uuidFacts(expr: string): string {
  return `get_byte(uuid_send(${expr}), 6) >> 4 AS version,
    get_byte(uuid_send(${expr}), 8) >> 6 AS variant,
    least(abs(('x' || substr(replace((${expr})::text, '-', ''), 1, 12))::bit(48)::bigint
              - (extract(epoch FROM clock_timestamp()) * 1000)::bigint) / 1000, 2000000000)::int AS skew_seconds`;
}

/** A v7 uuid: version 7, RFC variant (binary 10), time within a day of the server clock. */
export function isUuidV7(f: { version: number; variant: number; skew_seconds: number }): boolean {
  return f.version === 7 && f.variant === 2 && f.skew_seconds < 86_400;
}

/** `INSERT INTO table (cols) VALUES ($1, …) RETURNING …` for a probe row; `table` comes quoted from the catalog. */
export function insertProbeRow(table: string, row: Record<string, string>, returning: string): { text: string; params: string[] } {
  const cols = Object.keys(row);
  const text = cols.length
    ? `INSERT INTO ${table} (${cols.map(ident).join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING ${returning}`
    : `INSERT INTO ${table} DEFAULT VALUES RETURNING ${returning}`;
  return { text, params: cols.map((c) => row[c]!) };
}

/**
 * The fix for a probe that could not use a table's configured row: the key in the file that
 * holds it (`checks.probeRows["public.users"] in /app/pgsteward.config.json`), and `then`.
 */
export function probeRowFix(ex: Partial<Pick<Expectations, 'configFile'>>, table: string, then = ''): string {
  return `fix ${probeRowKey(table)} in ${ex.configFile ?? CONFIG_FILE_NAME}${then}`;
}

/** The configured probe row of a table (`public.users`), or undefined: then the table is judged by the catalog alone. */
export function probeRowOf(ex: Pick<Expectations, 'probeRows'>, table: string): Record<string, string> | undefined {
  return Object.hasOwn(ex.probeRows, table) ? ex.probeRows[table] : undefined;
}

/**
 * Passing lines for subjects whose behaviour probe was skipped because their table has no
 * probe row: the catalog passed them, and the report says the probe did not run rather than
 * failing. `skipped` lists them (`--verbose`) or counts them; each counts as a passed subject.
 */
export function skippedProbeLines(verbose: boolean, skipped: readonly string[] | number, probe: string): CheckOutcome {
  const listed = typeof skipped === 'number' ? [] : skipped.map((t) => `${t}: ${probe} probe skipped, no row in ${probeRowKey(t)} (checked by catalog alone)`);
  const count = typeof skipped === 'number' ? skipped : skipped.length;
  return { ...passingLines(verbose, listed, [{ count, line: (n) => `${counted(n, 'table')}: ${probe} probe skipped, no row in checks.probeRows (checked by catalog alone)` }]), findings: [] };
}
