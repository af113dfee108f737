import { beforeAll, describe, expect, it } from 'vitest';
import { pgAdmin, withSql } from '../../test/db.ts';
import { fixtureRun, objects, runOne } from '../test-support.ts';
import type { CheckResult } from '../types.ts';
import { isV7Default, judgeKeyProbes, judgeKeys, v7DefaultPattern, type KeyRow } from './primary-keys.ts';

describe('primary-keys', () => {
  let r: CheckResult;
  let database: string;
  beforeAll(async () => {
    const fixture = await fixtureRun(new URL('./primary-keys.fixture.sql', import.meta.url));
    database = fixture.database;
    r = await runOne('primary-keys', fixture.opts);
    if (r.status === 'error') throw new Error(r.error);
  });

  it('fails and names every offending table', () => {
    expect(r.status).toBe('failed');
    expect(objects(r)).toEqual(expect.arrayContaining(['public.no_key', 'public.random_key.id', 'public.serial_key.id']));
  });

  it('suggests promoting an existing unique index to the primary key', () => {
    const f = r.findings.find((x) => x.object === 'public.no_key')!;
    expect(f.fix).toBe('ALTER TABLE public.no_key ADD CONSTRAINT no_key_pkey PRIMARY KEY USING INDEX no_key_name_key;');
    // A text key would pass "has a key" and fail "is a uuid": a person decides.
    expect(f.fixable).toBe(false);
  });

  it('catches a default that is named v7 but returns v4, by calling it and by a probe insert', () => {
    expect(r.findings.find((x) => x.object === 'uuid_generate_v7()')?.message).toMatch(/version 4/);
    expect(r.findings.find((x) => x.object === 'public.fake_v7.id')?.message).toMatch(/probe insert/);
  });

  it('leaves composite and foreign-key primary keys alone', () => {
    expect(objects(r).some((o) => o.includes('pairs') || o.includes('fake_v7_extra'))).toBe(false);
    expect(r.passed).toEqual(expect.arrayContaining(['public.pairs: composite primary key (2 columns)', 'public.fake_v7_extra: primary key is also a foreign key']));
  });

  it('reads defaults through the same pattern in SQL as in JavaScript', async () => {
    const exprs = ['uuid_generate_v7()', 'public.uuid_generate_v7()', '"My Schema".uuidv7()', 'gen_random_uuid()', 'uuid_generate_v7(now())', 'xuuidv7()'];
    const pattern = v7DefaultPattern(['uuid_generate_v7', 'uuidv7']);
    const inSql = await withSql(pgAdmin(database), (sql) => sql.unsafe<{ m: boolean }[]>('SELECT e ~ $1 AS m FROM unnest($2::text[]) WITH ORDINALITY u(e, o) ORDER BY o', [pattern, exprs] as never[]));
    expect(inSql.map((x) => x.m)).toEqual(exprs.map((e) => isV7Default(e, ['uuid_generate_v7', 'uuidv7'])));
    expect(inSql.map((x) => x.m)).toEqual([true, true, true, false, false, false]);
  });
});

describe('isV7Default', () => {
  it('accepts the configured functions with or without a schema', () => {
    const fns = ['uuid_generate_v7', 'uuidv7'];
    expect(isV7Default('uuid_generate_v7()', fns)).toBe(true);
    expect(isV7Default('public.uuid_generate_v7()', fns)).toBe(true);
    expect(isV7Default('uuidv7()', fns)).toBe(true);
    expect(isV7Default('gen_random_uuid()', fns)).toBe(false);
    expect(isV7Default('uuid_generate_v7(now())', fns)).toBe(false);
    expect(isV7Default(null, fns)).toBe(false);
    expect(isV7Default('uuidv7()', [])).toBe(false);
  });
});

describe('judgeKeys', () => {
  const ex = { uuidV7Functions: ['uuid_generate_v7'], probeRows: { 'public.users': { email: 'a@example.test' } } };
  const row = (extra: Partial<KeyRow>): KeyRow => ({
    key: 'public.t', tbl: 'public.t', relname: 't', passing: null, has_pk: true, pk_width: 1, pk_column: 'id', pk_type: 'uuid',
    pk_default: null, identity: null, pk_is_fk: false, unique_candidate: null, candidate_passes: null, ...extra,
  });

  it('counts passing tables by kind, and plans one call per default and one insert per probe row', () => {
    const facts = {
      groups: [
        { kind: 'v7' as const, detail: 'uuid_generate_v7()', count: 1000 },
        { kind: 'composite' as const, detail: null, count: 3 },
      ],
      rows: [row({ key: 'public.users', tbl: 'public.users', passing: 'v7', pk_default: 'uuid_generate_v7()' })],
    };
    const out = judgeKeys(facts, ex, false);
    expect(out.passed).toEqual(['1,000 tables: uuid primary key DEFAULT uuid_generate_v7()', '3 tables: composite primary key']);
    expect(out.passedCount).toBe(1003);
    expect(out.plan.defaults).toEqual(['uuid_generate_v7()']);
    expect(out.plan.inserts.map((i) => i.row.tbl)).toEqual(['public.users']);
  });

  it('makes a mechanical fix of a promotion only when the promoted key passes, and never of a new column', () => {
    const promote = judgeKeys({ groups: [], rows: [row({ has_pk: false, pk_width: null, unique_candidate: 't_code_key', candidate_passes: true })] }, ex, false);
    expect(promote.findings[0]).toMatchObject({ fix: 'ALTER TABLE public.t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_code_key;', fixable: true });
    const added = judgeKeys({ groups: [], rows: [row({ has_pk: false, pk_width: null })] }, ex, false);
    expect(added.findings[0]!.fixable).toBeUndefined();
    const wrongDefault = judgeKeys({ groups: [], rows: [row({ pk_default: 'gen_random_uuid()' })] }, ex, false);
    expect(wrongDefault.findings[0]).toMatchObject({ fix: 'ALTER TABLE public.t ALTER COLUMN id SET DEFAULT uuid_generate_v7();', fixable: true });
  });

  it('judges what the probe saw', () => {
    const v7 = { version: 7, variant: 2, skew_seconds: 0, u: '0190…' };
    const out = judgeKeyProbes(
      {
        defaults: [{ expr: 'uuid_generate_v7()', ...v7 }],
        inserts: [{ row: row({}), got: { ok: false, code: '23502', message: 'null value in column "email"', constraint: undefined } }],
      },
      ex,
    );
    expect(out.passed).toEqual(['uuid_generate_v7() returns version-7 uuids']);
    expect(out.findings).toEqual([expect.objectContaining({ object: 'public.t', severity: 'warning' })]);
  });
});
