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
    const a = failureAdvice(noTx!, { message: 'deadlock detected', code: '40P01' }, ['public.a_idx_ccnew', 'app."Odd Name"']);
    expect(a.problem).toBe('migration 2 (2_idx.sql) failed: deadlock detected; it runs outside a transaction (-- no-transaction), so it left the invalid indexes public.a_idx_ccnew, app."Odd Name"');
    expect(a.fix).toBe('finish by hand: DROP INDEX CONCURRENTLY IF EXISTS public.a_idx_ccnew; DROP INDEX CONCURRENTLY IF EXISTS app."Odd Name"; fix the cause, then run again: no ledger row was written, so the whole file runs again from its first statement');
  });

  it('a statement that must run alone: the fix says which one', () => {
    expect(failureAdvice(tx!, { message: 'VACUUM cannot run inside a transaction block', code: '25001' }, []).fix).toBe('nothing from it was applied; start the file with -- no-transaction and keep the VACUUM alone in it');
    expect(failureAdvice(noTx!, { message: 'REINDEX CONCURRENTLY cannot run inside a transaction block', code: '25001' }, []).fix).toBe('put each REINDEX CONCURRENTLY in a -- no-transaction file of its own, then run again');
  });
});
