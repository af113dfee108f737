import type { Migration } from './files.ts';

/** Every index PostgreSQL marks invalid (what a failed CREATE INDEX / REINDEX CONCURRENTLY leaves), schema-qualified. */
export const INVALID_INDEXES = `SELECT format('%I.%I', n.nspname, c.relname) AS name
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE NOT i.indisvalid ORDER BY 1`;

/** SQLSTATE 25001: "X cannot run inside a transaction block". */
const ACTIVE_SQL_TRANSACTION = '25001';

/**
 * Pure: what to tell the user when a migration fails. A transactional file left nothing. A
 * `-- no-transaction` file is sent as one simple query, which PostgreSQL runs as one implicit
 * transaction, so what survives is what committed on its own: statements before an explicit
 * COMMIT, and the invalid index a failed CREATE INDEX CONCURRENTLY leaves (`invalidLeft`, read
 * from the catalog before and after).
 */
export function failureAdvice(m: Migration, error: { message: string; code?: string | undefined }, invalidLeft: readonly string[]): { problem: string; fix: string } {
  const base = `migration ${m.version} (${m.file}) failed: ${error.message}`;
  const lonely = error.code === ACTIVE_SQL_TRANSACTION ? /^(.+?) cannot run inside a transaction block/.exec(error.message)?.[1] : undefined;
  if (!m.noTransaction) {
    const fix = lonely ? `start the file with -- no-transaction and keep the ${lonely} alone in it` : 'fix the SQL in that file';
    return { problem: base, fix: `nothing from it was applied; ${fix}` };
  }
  if (lonely) {
    return {
      problem: `${base}; PostgreSQL runs the statements of one file as one transaction, even under -- no-transaction`,
      fix: `put each ${lonely} in a -- no-transaction file of its own, then run again`,
    };
  }
  const left = invalidLeft.length
    ? `it left the invalid index${invalidLeft.length > 1 ? 'es' : ''} ${invalidLeft.join(', ')}`
    : 'statements before a COMMIT in it stay applied; it left no invalid index';
  const undo = invalidLeft.length
    ? invalidLeft.map((i) => `DROP INDEX CONCURRENTLY IF EXISTS ${i};`).join(' ').replace(/;$/, '')
    : 'undo or complete what it committed, or make those statements re-runnable (IF NOT EXISTS)';
  return {
    problem: `${base}; it runs outside a transaction (-- no-transaction), so ${left}`,
    fix: `finish by hand: ${undo}; fix the cause, then run again: no ledger row was written, so the whole file runs again from its first statement`,
  };
}
