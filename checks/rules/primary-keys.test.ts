import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureDatabase, objects, runOne } from '../test-support.ts';
import type { CheckResult } from '../types.ts';
import { isV7Default } from './primary-keys.ts';

describe('primary-keys', () => {
  let r: CheckResult;
  beforeAll(async () => {
    const { connection } = await fixtureDatabase(new URL('./primary-keys.fixture.sql', import.meta.url));
    r = await runOne('primary-keys', { connection, expectations: { probeRows: { 'public.fake_v7': { label: 'probe' } } } });
    if (r.status === 'error') throw new Error(r.error);
  });

  it('fails and names every offending table', () => {
    expect(r.status).toBe('failed');
    expect(objects(r)).toEqual(expect.arrayContaining(['public.no_key', 'public.random_key.id', 'public.serial_key.id']));
  });

  it('suggests promoting an existing unique index to the primary key', () => {
    const f = r.findings.find((x) => x.object === 'public.no_key')!;
    expect(f.fix).toBe('ALTER TABLE public.no_key ADD CONSTRAINT no_key_pkey PRIMARY KEY USING INDEX no_key_name_key;');
  });

  it('catches a default that is named v7 but returns v4, by calling it and by a probe insert', () => {
    expect(r.findings.find((x) => x.object === 'uuid_generate_v7()')?.message).toMatch(/version 4/);
    expect(r.findings.find((x) => x.object === 'public.fake_v7.id')?.message).toMatch(/probe insert/);
  });

  it('leaves composite and foreign-key primary keys alone', () => {
    expect(objects(r).some((o) => o.includes('pairs') || o.includes('fake_v7_extra'))).toBe(false);
    expect(r.passed).toEqual(expect.arrayContaining(['public.pairs: composite primary key (2 columns)', 'public.fake_v7_extra: primary key is also a foreign key']));
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
  });
});
