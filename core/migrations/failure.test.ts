import { describe, expect, it } from 'vitest';
import { parseMigrations } from './files.ts';
import { failureAdvice } from './failure.ts';

const [tx, noTx] = parseMigrations([
  { name: '1_tx.sql', bytes: Buffer.from('create table a (id int);') },
  { name: '2_idx.sql', bytes: Buffer.from('-- no-transaction\nreindex index concurrently a_idx;') },
]);

describe('what a failed migration leaves, and how to finish', () => {
  it('a transactional file left nothing', () => {
    expect(failureAdvice(tx!, { message: 'syntax error at or near "tabel"', code: '42601' }, [])).toEqual({
      problem: 'migration 1 (1_tx.sql) failed: syntax error at or near "tabel"',
      fix: 'nothing from it was applied; fix the SQL in that file',
    });
  });

  it('names every invalid index left behind, each with the statement that removes it', () => {
    const a = failureAdvice(noTx!, { message: 'canceling statement due to statement timeout', code: '57014' }, ['public.a_idx_ccnew', 'app."Odd Name"']);
    expect(a.problem).toBe('migration 2 (2_idx.sql) failed: canceling statement due to statement timeout; it runs outside a transaction (-- no-transaction), so it left the invalid indexes public.a_idx_ccnew, app."Odd Name"');
    expect(a.fix).toBe('finish by hand: DROP INDEX CONCURRENTLY IF EXISTS public.a_idx_ccnew; DROP INDEX CONCURRENTLY IF EXISTS app."Odd Name"; fix the cause, then run again: no ledger row was written, so the whole file runs again from its first statement');
  });

  it('a statement that must run alone: the fix says which one', () => {
    expect(failureAdvice(tx!, { message: 'VACUUM cannot run inside a transaction block', code: '25001' }, []).fix).toBe('nothing from it was applied; start the file with -- no-transaction and keep the VACUUM alone in it');
    expect(failureAdvice(noTx!, { message: 'REINDEX CONCURRENTLY cannot run inside a transaction block', code: '25001' }, []).fix).toBe('put each REINDEX CONCURRENTLY in a -- no-transaction file of its own, then run again');
  });

  it('a deadlock in a -- no-transaction file names the likely other party: a client waiting for the migration lock', () => {
    const a = failureAdvice(noTx!, { message: 'deadlock detected', code: '40P01' }, ['public.a_idx_ccnew']);
    expect(a.problem).toBe('migration 2 (2_idx.sql) failed: deadlock detected (CREATE INDEX CONCURRENTLY waits for every older snapshot, such as that of a client waiting for the migration lock, e.g. an application running sqlx::migrate!() at start-up); it runs outside a transaction (-- no-transaction), so it left the invalid index public.a_idx_ccnew');
    expect(failureAdvice(tx!, { message: 'deadlock detected', code: '40P01' }, []).problem).toBe('migration 1 (1_tx.sql) failed: deadlock detected');
  });

  it('the ledger row written by another client first: said so, and for a -- no-transaction file that it ran twice', () => {
    const dup = { message: 'duplicate key value violates unique constraint "_sqlx_migrations_pkey"', code: '23505' };
    expect(failureAdvice(tx!, dup, [])).toEqual({
      problem: 'migration 1 (1_tx.sql) failed: duplicate key value violates unique constraint "_sqlx_migrations_pkey": another client applied it at the same moment; the sqlx CLI (sqlx migrate run) takes no migration lock',
      fix: 'nothing from this run of it was kept and the migration is applied; never run sqlx migrate run while setup-db runs (docs/adopting-sqlx.md)',
    });
    expect(failureAdvice(noTx!, dup, []).problem).toMatch(/another client applied it at the same moment; .*so its statements ran twice$/);
    // A unique violation of the file's own is the file's.
    expect(failureAdvice(tx!, { message: 'duplicate key value violates unique constraint "users_email_key"', code: '23505' }, []).fix).toBe('nothing from it was applied; fix the SQL in that file');
  });
});
