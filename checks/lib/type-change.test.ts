import { describe, expect, it } from 'vitest';
import { parseType, typeChangeLoss } from './type-change.ts';

describe('parseType', () => {
  it('normalizes aliases, modifiers and arrays', () => {
    expect(parseType('varchar(20)')).toEqual({ base: 'character varying', mods: [20], array: false });
    expect(parseType('numeric(10, 2)')).toEqual({ base: 'numeric', mods: [10, 2], array: false });
    expect(parseType('timestamp(3) with time zone')).toEqual({ base: 'timestamp with time zone', mods: [3], array: false });
    expect(parseType('int4[]')).toEqual({ base: 'integer', mods: [], array: true });
    expect(parseType('char')).toEqual({ base: 'character', mods: [1], array: false });
  });
});

describe('typeChangeLoss', () => {
  const safe: Array<[string, string]> = [
    ['integer', 'bigint'],
    ['smallint', 'int'],
    ['character varying(20)', 'varchar(100)'],
    ['character varying(20)', 'text'],
    ['integer', 'text'],
    ['numeric(12,2)', 'numeric(14,2)'],
    ['numeric(12,2)', 'numeric'],
    ['integer', 'numeric(10,0)'],
    ['real', 'double precision'],
    ['timestamp without time zone', 'timestamptz'],
    ['date', 'timestamptz'],
    ['json', 'jsonb'],
    ['text', 'citext'],
    ['bigint', 'int8'],
  ];
  const lossy: Array<[string, string]> = [
    ['bigint', 'integer'],
    ['character varying(100)', 'varchar(20)'],
    ['text', 'varchar(255)'],
    ['numeric(12,2)', 'numeric(12,1)'],
    ['numeric(12,2)', 'numeric(11,2)'],
    ['numeric', 'numeric(10,2)'],
    ['numeric(10,2)', 'integer'],
    ['double precision', 'real'],
    ['bigint', 'double precision'],
    ['timestamp with time zone', 'timestamp'],
    ['timestamp with time zone', 'date'],
    ['timestamp(6) with time zone', 'timestamptz(0)'],
    ['text', 'integer'],
    ['text', 'uuid'],
    ['integer[]', 'integer'],
    ['integer', 'numeric(5,0)'],
  ];
  it.each(safe)('%s -> %s keeps every value', (from, to) => expect(typeChangeLoss(from, to)).toBeUndefined());
  it.each(lossy)('%s -> %s can lose or refuse values', (from, to) => expect(typeChangeLoss(from, to)).toMatch(/\S/));
});
