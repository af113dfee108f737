import { beforeAll, describe, expect, it } from 'vitest';
import { pgAdmin, withSql } from '../../test/db.ts';
import { createDatabase } from '../../test/db.ts';
import { fixtureRun, lintFix, objects, runOne, withPolicies } from '../test-support.ts';
import type { CheckResult } from '../types.ts';
import { implementationLine, isV7Default, judgeKeyProbes, judgeKeys, keyFunction, v7DefaultPattern, type KeyFacts, type KeyJudging, type KeyRow } from './primary-keys.ts';

describe('primary-keys', () => {
  let r: CheckResult;
  let generic: CheckResult;
  let database: string;
  beforeAll(async () => {
    const fixture = await fixtureRun(new URL('./primary-keys.fixture.sql', import.meta.url));
    database = fixture.database;
    r = await runOne('primary-keys', fixture.opts);
    generic = await runOne('primary-keys', withPolicies(fixture.opts, []));
    if (r.status === 'error') throw new Error(r.error);
    if (generic.status === 'error') throw new Error(generic.error);
  });

  it('fails and names every offending table', () => {
    expect(r.status).toBe('failed');
    expect(objects(r)).toEqual(expect.arrayContaining(['public.no_key', 'public.random_key.id', 'public.serial_key.id']));
  });

  it('without the uuidv7-keys policy, fails only the table without a primary key; serial and v4 keys pass', () => {
    expect(objects(generic)).toEqual(['public.no_key']);
    expect(generic.findings[0]!.policy).toBeUndefined();
    expect(generic.passed).toEqual(expect.arrayContaining(['public.serial_key: id bigint primary key', 'public.random_key: id uuid primary key']));
    // Any not-null unique index makes a key on a database without the policy: promoting it is mechanical.
    expect(generic.findings[0]).toMatchObject({ fix: 'ALTER TABLE public.no_key ADD CONSTRAINT no_key_pkey PRIMARY KEY USING INDEX no_key_name_key;', fixable: true });
  });

  it('tags every non-UUIDv7 finding with the uuidv7-keys policy, and the missing key with none', () => {
    const policyOf = Object.fromEntries(r.findings.map((f) => [f.object, f.policy ?? null]));
    expect(policyOf).toMatchObject({ 'public.no_key': null, 'public.random_key.id': 'uuidv7-keys', 'public.serial_key.id': 'uuidv7-keys', 'uuid_generate_v7()': 'uuidv7-keys', 'public.fake_v7.id': 'uuidv7-keys' });
  });

  it('writes every fix so that it passes our own migration lint (which refuses the one-step new key)', async () => {
    const oneStep = await lintFix('ALTER TABLE public.t ADD COLUMN t_uuid uuid NOT NULL DEFAULT uuid_generate_v7() UNIQUE;');
    expect(oneStep.map((v) => v.rule)).toEqual(expect.arrayContaining(['adding-field-with-default']));
    for (const f of [...r.findings, ...generic.findings]) expect(await lintFix(f.fix), `${f.object}: ${f.fix}`).toEqual([]);
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

describe('primary-keys on a database with pg_uuidv7', () => {
  it('names the implementation that answers uuid_generate_v7() as a passing line, policy or not', async () => {
    const database = await createDatabase('ckpk');
    await withSql(pgAdmin(database), (sql) => sql.unsafe('CREATE EXTENSION pg_uuidv7; CREATE TABLE t (id bigint PRIMARY KEY)'));
    for (const policies of [[], ['uuidv7-keys' as const]]) {
      const out = await runOne('primary-keys', withPolicies({ connection: pgAdmin(database) }, policies));
      expect(out.passed).toContain('pg_uuidv7 1.6 in schema public: SQL extension');
    }
    // Under the policy the fix names the extension's function, which the database has.
    const strict = await runOne('primary-keys', withPolicies({ connection: pgAdmin(database) }, ['uuidv7-keys']));
    expect(strict.findings[0]!.fix).toContain('SET DEFAULT uuid_generate_v7();');
    expect(strict.findings[0]!.fix).not.toContain('CREATE EXTENSION');
  });
});

describe('judgeKeys', () => {
  const ex = { uuidV7Functions: ['uuid_generate_v7'], probeRows: { 'public.users': { email: 'a@example.test' } } };
  const strict: KeyJudging = { uuidv7Keys: true, verbose: false, serverVersionNum: 170000 };
  const facts = (f: Partial<KeyFacts>): KeyFacts => ({ groups: [], rows: [], uuidv7: null, ...f });
  const row = (extra: Partial<KeyRow>): KeyRow => ({
    key: 'public.t', tbl: 'public.t', relname: 't', passing: null, has_pk: true, pk_width: 1, pk_column: 'id', pk_type: 'uuid',
    pk_default: null, identity: null, pk_is_fk: false, unique_candidate: null, candidate_passes: null, ...extra,
  });

  it('counts passing tables by kind, and plans one call per default and one insert per probe row', () => {
    const out = judgeKeys(
      facts({
        groups: [
          { kind: 'v7' as const, detail: 'uuid_generate_v7()', count: 1000 },
          { kind: 'composite' as const, detail: null, count: 3 },
        ],
        rows: [row({ key: 'public.users', tbl: 'public.users', passing: 'v7', pk_default: 'uuid_generate_v7()' })],
      }),
      ex,
      strict,
    );
    expect(out.passed).toEqual(['1,000 tables: uuid primary key DEFAULT uuid_generate_v7()', '3 tables: composite primary key']);
    expect(out.passedCount).toBe(1003);
    expect(out.plan.defaults).toEqual(['uuid_generate_v7()']);
    expect(out.plan.inserts.map((i) => i.row.tbl)).toEqual(['public.users']);
  });

  it('makes a mechanical fix of a promotion only when the promoted key passes, and never of a new column', () => {
    const promote = judgeKeys(facts({ rows: [row({ has_pk: false, pk_width: null, unique_candidate: 't_code_key', candidate_passes: true })] }), ex, strict);
    expect(promote.findings[0]).toMatchObject({ fix: 'ALTER TABLE public.t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_code_key;', fixable: true });
    const natural = judgeKeys(facts({ rows: [row({ has_pk: false, pk_width: null, unique_candidate: 't_code_key', candidate_passes: false })] }), ex, strict);
    expect(natural.findings[0]!.fixable).toBe(false);
    const added = judgeKeys(facts({ rows: [row({ has_pk: false, pk_width: null })] }), ex, strict);
    expect(added.findings[0]!.fixable).toBeUndefined();
    const v7 = { groups: [{ kind: 'v7' as const, detail: 'uuid_generate_v7()', count: 2 }] };
    const wrongDefault = judgeKeys(facts({ ...v7, rows: [row({ pk_default: 'gen_random_uuid()' })] }), ex, strict);
    expect(wrongDefault.findings[0]).toMatchObject({ fix: 'ALTER TABLE public.t ALTER COLUMN id SET DEFAULT uuid_generate_v7();', fixable: true, policy: 'uuidv7-keys' });
  });

  it('never adds a key column with a volatile default and UNIQUE in one step: the new-key fix is staged advice', () => {
    const serial = judgeKeys(facts({ rows: [row({ pk_type: 'bigint', identity: 'a' })] }), ex, strict).findings[0]!;
    expect(serial.fixable).toBeUndefined();
    expect(serial.fix.split('\n').filter((l) => !l.startsWith('--'))).toEqual([
      'CREATE EXTENSION IF NOT EXISTS pg_uuidv7;',
      'ALTER TABLE public.t ADD COLUMN t_uuid uuid;',
      'ALTER TABLE public.t ALTER COLUMN t_uuid SET DEFAULT uuid_generate_v7();',
    ]);
    expect(serial.fix).not.toMatch(/^[^-].*DEFAULT.*UNIQUE/m);
  });

  it('names the generator the database already has: the default in use, the installed extension, PostgreSQL 18, or one that exists everywhere', () => {
    const generic = { ...strict, uuidv7Keys: false };
    expect(keyFunction(facts({ groups: [{ kind: 'v7', detail: 'app.uuid_generate_v7()', count: 3 }] }), ex, strict)).toEqual({ call: 'app.uuid_generate_v7()' });
    expect(keyFunction(facts({ uuidv7: { schema: 'ext', version: '1.6', language: 'c', via_pg_tle: false } }), ex, strict)).toEqual({ call: 'ext.uuid_generate_v7()' });
    expect(keyFunction(facts({}), { uuidV7Functions: ['uuid_generate_v7', 'uuidv7'] }, { ...strict, serverVersionNum: 180001 })).toEqual({ call: 'uuidv7()' });
    expect(keyFunction(facts({}), ex, generic)).toEqual({ call: 'gen_random_uuid()' });
    expect(keyFunction(facts({}), ex, strict)).toEqual({ call: 'uuid_generate_v7()', needs: 'CREATE EXTENSION IF NOT EXISTS pg_uuidv7;' });
  });

  it('does not probe v7 defaults without the policy', () => {
    const out = judgeKeys(facts({ groups: [{ kind: 'v7', detail: 'uuid_generate_v7()', count: 1 }], rows: [row({ key: 'public.users', passing: 'v7' })] }), ex, { ...strict, uuidv7Keys: false });
    expect(out.plan).toEqual({ defaults: [], inserts: [] });
  });

  it('labels each implementation', () => {
    const u = { schema: 'public', version: '1.6' };
    expect(implementationLine({ ...u, language: 'c', via_pg_tle: false })).toBe('pg_uuidv7 1.6 in schema public: C extension');
    expect(implementationLine({ ...u, language: 'sql', via_pg_tle: false })).toBe('pg_uuidv7 1.6 in schema public: SQL extension');
    expect(implementationLine({ ...u, language: 'sql', via_pg_tle: true })).toBe('pg_uuidv7 1.6 in schema public: SQL extension through pg_tle');
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
