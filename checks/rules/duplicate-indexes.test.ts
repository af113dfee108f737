import { beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, pgAdmin, withSql } from '../../test/db.ts';
import { fixtureDatabase, objects, runOne } from '../test-support.ts';
import type { CheckResult } from '../types.ts';
import type { IndexInfo } from '../lib/redundant-indexes.ts';
import { judgeIndexes } from './duplicate-indexes.ts';

describe('duplicate-indexes', () => {
  let r: CheckResult;
  beforeAll(async () => {
    const { connection } = await fixtureDatabase(new URL('./duplicate-indexes.fixture.sql', import.meta.url));
    r = await runOne('duplicate-indexes', { connection });
  });

  it('warns and names the indexes to drop', () => {
    expect(r.status).toBe('warning');
    expect(r.severity).toBe('warning');
    expect(objects(r).sort()).toEqual(['public.events_code_idx', 'public.events_kind_again_idx', 'public.events_kind_idx']);
  });

  it('keeps the unique constraint over the plain index', () => {
    const f = r.findings.find((x) => x.object === 'public.events_code_idx')!;
    expect(f.message).toMatch(/duplicates unique constraint public\.events_code_key.*keep public\.events_code_key/);
    expect(f.fix).toBe('DROP INDEX CONCURRENTLY IF EXISTS public.events_code_idx;');
  });

  it('keeps the older of two identical indexes and the wider of a prefix pair', () => {
    expect(r.findings.find((x) => x.object === 'public.events_kind_again_idx')!.message).toMatch(/keep public\.events_kind_idx$/);
    expect(r.findings.find((x) => x.object === 'public.events_kind_idx')!.message).toMatch(/redundant.*keep public\.events_kind_time_idx$/);
  });
});

describe('duplicate-indexes narrows in SQL without losing a duplicate', () => {
  let counted: CheckResult;
  let listed: CheckResult;
  beforeAll(async () => {
    const database = await createDatabase('ck');
    await withSql(pgAdmin(database), (sql) =>
      sql.unsafe(`
        CREATE TABLE t (id int PRIMARY KEY, a text, b text, c int);
        CREATE INDEX t_lower_a_idx ON t (lower(a));
        CREATE INDEX t_lower_a_again_idx ON t (lower(a));     -- expressions: first key column 0 on both
        CREATE INDEX t_lower_b_idx ON t (lower(b));           -- also 0, but not a duplicate
        CREATE INDEX t_b_c_idx ON t (b, c);
        CREATE INDEX t_c_b_idx ON t (c, b);                   -- same columns, other order: not redundant
        CREATE INDEX t_a_hash ON t USING hash (a);
        CREATE INDEX t_a_btree ON t (a);                      -- same column, other method
        CREATE TABLE codes (code text PRIMARY KEY);
        -- In one CREATE TABLE, PostgreSQL would fold the two into one index; added later, it does not.
        ALTER TABLE codes ADD CONSTRAINT codes_code_key UNIQUE (code);`),
    );
    counted = await runOne('duplicate-indexes', { connection: pgAdmin(database), verbose: false });
    listed = await runOne('duplicate-indexes', { connection: pgAdmin(database) });
  });

  it('finds the expression duplicate and the duplicate constraint, and nothing else', () => {
    expect(objects(counted)).toEqual(['public.codes_code_key', 'public.t_lower_a_again_idx']);
    expect(objects(listed)).toEqual(objects(counted));
  });

  it('leaves dropping a constraint to a person: foreign keys and error handling may rely on it', () => {
    const f = counted.findings.find((x) => x.object === 'public.codes_code_key')!;
    expect(f.fix).toBe('ALTER TABLE public.codes DROP CONSTRAINT codes_code_key;');
    expect(f.fixable).toBe(false);
    expect(counted.findings.find((x) => x.object === 'public.t_lower_a_again_idx')!.fixable).toBe(true);
  });

  it('counts every other index as passing, the same whether listed or not', () => {
    // 8 on t (the primary key included) + 2 on codes, less the two to drop.
    expect(counted.passedCount).toBe(8);
    expect(listed.passedCount).toBe(8);
    expect(listed.passed).toHaveLength(8);
    expect(counted.passed).toEqual(['8 indexes: none duplicates another or leads a wider one']);
  });
});

describe('judgeIndexes', () => {
  const ix = (name: string, oid: number): IndexInfo => ({
    oid, table: 'public.t', name: `public.${name}`, am: 'btree', keys: ['a'], classes: ['1'], collations: ['0'], options: ['0'],
    include: [], predicate: null, unique: false, primary: false, exclusion: false, nullsNotDistinct: false, constraint: null, valid: true,
  });
  it('subtracts the indexes to drop from the valid ones it did not have to describe', () => {
    const out = judgeIndexes({ valid: 3000, indexes: [ix('a_idx', 1), ix('a_again_idx', 2)] }, false);
    expect(out.passedCount).toBe(2999);
    expect(out.findings.map((f) => [f.object, f.fixable])).toEqual([['public.a_again_idx', true]]);
  });
});
