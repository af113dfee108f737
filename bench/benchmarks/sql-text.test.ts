import { describe, expect, it } from 'vitest';
import { batchInsertSql, batches, tableSql } from './uuidv7.ts';
import { phraseInsertSql, NO_INDEX_SETTINGS } from './search.ts';
import { psqlArgs } from './migration-overhead.ts';

describe('uuid benchmark SQL', () => {
  it('covers every row exactly once in batches, the last one short', () => {
    expect(batches(25, 10)).toEqual([[1, 10], [11, 20], [21, 25]]);
    expect(batches(20, 10)).toEqual([[1, 10], [11, 20]]);
    const all = batches(1_000_000, 10_000);
    expect(all).toHaveLength(100);
    expect(all.reduce((n, [a, b]) => n + b - a + 1, 0)).toBe(1_000_000);
  });
  it('keeps the two tables identical but for the key default', () => {
    expect(tableSql('v7').replace(/v7|uuid_generate_v7\(\)/g, 'X')).toBe(tableSql('v4').replace(/v4|gen_random_uuid\(\)/g, 'X'));
    expect(batchInsertSql('v4', 11, 20)).toBe('INSERT INTO keyed_v4 (n) SELECT g FROM generate_series(11, 20) AS g');
  });
});

describe('search benchmark SQL', () => {
  it('generates phrases server-side with a correlated word count and Zipf ranks', () => {
    const s = phraseInsertSql(1000, 50_000);
    expect(s).toContain('FROM generate_series(1, 1000) AS g');
    expect(s).toContain('generate_series(1, 3 + g % 10)');
    expect(s).toContain('least(50000, floor(exp(random() * ln(50001)))::int)');
  });
  it('disables every kind of index scan for the baseline', () => {
    expect(NO_INDEX_SETTINGS).toEqual(['SET enable_indexscan = off', 'SET enable_bitmapscan = off', 'SET enable_indexonlyscan = off']);
  });
});

describe('migration benchmark', () => {
  it('runs every file in one psql session and stops at the first error', () => {
    expect(psqlArgs(['a.sql', 'b.sql'])).toEqual(['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', 'a.sql', '-f', 'b.sql']);
  });
});
