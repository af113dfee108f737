import { describe, expect, it } from 'vitest';
import { findRedundantIndexes, verdictFix, type IndexInfo } from './redundant-indexes.ts';

let oid = 100;
function ix(name: string, keys: string[], extra: Partial<IndexInfo> = {}): IndexInfo {
  return {
    oid: oid++,
    table: 'public.t',
    name: `public.${name}`,
    am: 'btree',
    keys,
    classes: keys.map(() => '3126'),
    collations: keys.map(() => '0'),
    options: keys.map(() => '0'),
    include: [],
    predicate: null,
    unique: false,
    primary: false,
    exclusion: false,
    nullsNotDistinct: false,
    constraint: null,
    valid: true,
    ...extra,
  };
}
const pairs = (list: IndexInfo[]) => findRedundantIndexes(list).map((v) => [v.kind, v.drop.name, v.keep.name]);

describe('findRedundantIndexes', () => {
  it('keeps the older of two identical plain indexes', () => {
    expect(pairs([ix('a_idx', ['a']), ix('a_idx2', ['a'])])).toEqual([['duplicate', 'public.a_idx2', 'public.a_idx']]);
  });

  it('always keeps a primary or unique index over a plain one, even a newer one', () => {
    const plain = ix('a_idx', ['a']);
    const pk = ix('t_pkey', ['a'], { unique: true, primary: true, constraint: 't_pkey' });
    expect(pairs([plain, pk])).toEqual([['duplicate', 'public.a_idx', 'public.t_pkey']]);
    const uq = ix('t_a_key', ['a'], { unique: true, constraint: 't_a_key' });
    const pk2 = ix('t_pkey2', ['a'], { unique: true, primary: true, constraint: 't_pkey2' });
    expect(pairs([uq, pk2])).toEqual([['duplicate', 'public.t_a_key', 'public.t_pkey2']]);
    expect(verdictFix(findRedundantIndexes([uq, pk2])[0]!)).toBe('ALTER TABLE public.t DROP CONSTRAINT t_a_key;');
  });

  it('finds a plain index whose columns lead a wider btree index with the same predicate', () => {
    expect(pairs([ix('a_idx', ['a']), ix('ab_idx', ['a', 'b'])])).toEqual([['redundant', 'public.a_idx', 'public.ab_idx']]);
    expect(pairs([ix('a_idx', ['a']), ix('ba_idx', ['b', 'a'])])).toEqual([]);
    expect(pairs([ix('a_idx', ['a'], { predicate: 'x > 1' }), ix('ab_idx', ['a', 'b'])])).toEqual([]);
    expect(pairs([ix('a_idx', ['a']), ix('ab_gin', ['a', 'b'], { am: 'gin' })])).toEqual([]);
    expect(pairs([ix('a_desc', ['a'], { options: ['3'] }), ix('ab_idx', ['a', 'b'])])).toEqual([]);
  });

  it('never calls a unique, invalid, exclusion or covering index redundant', () => {
    expect(pairs([ix('a_key', ['a'], { unique: true }), ix('ab_idx', ['a', 'b'])])).toEqual([]);
    expect(pairs([ix('a_idx', ['a'], { include: ['c'] }), ix('ab_idx', ['a', 'b'])])).toEqual([]);
    expect(pairs([ix('a_idx', ['a']), ix('a_bad', ['a'], { valid: false })])).toEqual([]);
    expect(pairs([ix('a_ex', ['a'], { exclusion: true, am: 'gist' }), ix('a_gist', ['a'], { am: 'gist' })])).toEqual([]);
  });

  it('does not merge unique indexes that treat NULLs differently', () => {
    expect(pairs([ix('a_key', ['a'], { unique: true }), ix('a_key2', ['a'], { unique: true, nullsNotDistinct: true })])).toEqual([]);
  });

  it('compares indexes of the same table only', () => {
    expect(pairs([ix('a_idx', ['a']), ix('a_idx_other', ['a'], { table: 'public.u' })])).toEqual([]);
  });
});
