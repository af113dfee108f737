import type { Migration } from './files.ts';

/** Every index PostgreSQL marks invalid (what a failed CREATE INDEX / REINDEX CONCURRENTLY leaves), schema-qualified. */
export const INVALID_INDEXES = `SELECT format('%I.%I', n.nspname, c.relname) AS name
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE NOT i.indisvalid ORDER BY 1`;

/** SQLSTATE 23505, on the ledger's primary key: another client wrote this version's row first. */
const UNIQUE_VIOLATION = '23505';
const LEDGER_PRIMARY_KEY = '_sqlx_migrations_pkey';
const DEADLOCK_DETECTED = '40P01';

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
  // A client queued for the migration lock (sqlx::migrate!() at an application's start-up)
  // holds a snapshot that CREATE INDEX CONCURRENTLY waits for, while it waits for our lock.
  const deadlock = error.code === DEADLOCK_DETECTED && m.noTransaction
    ? ' (CREATE INDEX CONCURRENTLY waits for every older snapshot, such as that of a client waiting for the migration lock, e.g. an application running sqlx::migrate!() at start-up)'
    : '';
  const base = `migration ${m.version} (${m.file}) failed: ${error.message}${deadlock}`;
  if (error.code === UNIQUE_VIOLATION && error.message.includes(`"${LEDGER_PRIMARY_KEY}"`)) return appliedByAnother(m, base);
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

/**
 * Another client recorded the same version while this run applied it: a client that takes no
 * lock, such as the sqlx CLI (`sqlx migrate run`). A transactional file was rolled back; a
 * `-- no-transaction` file has already run, so its work was done twice.
 */
function appliedByAnother(m: Migration, base: string): { problem: string; fix: string } {
  const why = 'another client applied it at the same moment; the sqlx CLI (sqlx migrate run) takes no migration lock';
  if (!m.noTransaction) {
    return { problem: `${base}: ${why}`, fix: 'nothing from this run of it was kept and the migration is applied; never run sqlx migrate run while setup-db runs (docs/adopting-sqlx.md)' };
  }
  return {
    problem: `${base}: ${why}, and this file runs outside a transaction (-- no-transaction), so its statements ran twice`,
    fix: 'check what the file did and undo its second run by hand; never run sqlx migrate run while setup-db runs (docs/adopting-sqlx.md)',
  };
}
