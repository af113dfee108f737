import { beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, pgAdmin, withSql } from '../../test/db.ts';
import { applyFixes, fixtureRun, lintFix, objects, runOne } from '../test-support.ts';
import type { CheckResult } from '../types.ts';
import { assignmentPattern, judgeTriggerProbes, judgeTriggers, setterFunction, type TableRow, type Trigger, type TriggerFacts } from './updated-at-triggers.ts';

describe('updated-at-triggers', () => {
  let r: CheckResult;
  beforeAll(async () => {
    const { opts } = await fixtureRun(new URL('./updated-at-triggers.fixture.sql', import.meta.url));
    r = await runOne('updated-at-triggers', opts);
  });

  it('fails and names every table whose trigger is missing, late, disabled or misplaced', () => {
    expect(r.status).toBe('failed');
    expect(objects(r).sort()).toEqual([
      'public.forgotten',
      'public.stuck',
      'public.switched_off.switched_off_set_updated_at',
      'public.tags.tags_set_updated_at',
      'public.too_late.too_late_set_updated_at',
    ]);
  });

  it('gives the trigger the other tables use as the fix', () => {
    expect(r.findings.find((f) => f.object === 'public.forgotten')!.fix).toBe(
      'CREATE TRIGGER forgotten_set_updated_at BEFORE UPDATE ON public.forgotten FOR EACH ROW EXECUTE FUNCTION set_updated_at();',
    );
    expect(r.findings.find((f) => f.object === 'public.tags.tags_set_updated_at')!.fix).toBe('DROP TRIGGER tags_set_updated_at ON public.tags;');
  });

  it('proves by a rolled-back probe that a trigger moves updated_at, and catches one that does not', () => {
    expect(r.passed.some((p) => /^public\.good: a probe UPDATE moved updated_at from 2000-01-01/.test(p))).toBe(true);
    expect(r.findings.find((f) => f.object === 'public.stuck')!.message).toMatch(/does not move it/);
  });

  it('points the broken trigger at the function the probe saw work, not at a rewrite of a shared function', () => {
    const f = r.findings.find((x) => x.object === 'public.stuck')!;
    expect(f.fix).toBe('DROP TRIGGER stuck_set_updated_at ON public.stuck; CREATE TRIGGER stuck_set_updated_at BEFORE UPDATE ON public.stuck FOR EACH ROW EXECUTE FUNCTION set_updated_at();');
    expect(f.fixable).toBe(true);
  });
});

describe('updated-at-triggers fixes use what the database has', () => {
  /** A database with `setup`, the check's result on it, and the result once its fixes are applied. */
  async function fixAndRecheck(setup: string): Promise<{ before: CheckResult; after: CheckResult; functions: CheckResult }> {
    const database = await createDatabase('ckupd');
    await withSql(pgAdmin(database), (sql) => sql.unsafe(setup));
    const opts = { connection: pgAdmin(database) };
    const before = await runOne('updated-at-triggers', opts);
    for (const f of before.findings) expect(await lintFix(f.fix), f.fix).toEqual([]);
    await applyFixes(opts.connection, before.findings);
    return { before, after: await runOne('updated-at-triggers', opts), functions: await runOne('function-search-path', opts) };
  }

  it("calls the database's own trigger function for the column, whatever its name", async () => {
    const { before, after } = await fixAndRecheck(`
      CREATE SCHEMA app;
      CREATE FUNCTION app.touch_edited() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := clock_timestamp(); RETURN NEW; END $$;
      CREATE TABLE kept (id int PRIMARY KEY, updated_at timestamptz);
      CREATE TRIGGER kept_touch BEFORE UPDATE ON kept FOR EACH ROW EXECUTE FUNCTION app.touch_edited();
      CREATE TABLE missed (id int PRIMARY KEY, updated_at timestamptz);`);
    expect(before.findings.map((f) => f.fix)).toEqual(['CREATE TRIGGER missed_set_updated_at BEFORE UPDATE ON public.missed FOR EACH ROW EXECUTE FUNCTION app.touch_edited();']);
    expect(after.findings).toEqual([]);
  });

  it('calls moddatetime when contrib spi is installed and no trigger sets the column yet', async () => {
    const { before, after } = await fixAndRecheck(`CREATE EXTENSION moddatetime; CREATE TABLE missed (id int PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT now());`);
    expect(before.findings.map((f) => f.fix)).toEqual(['CREATE TRIGGER missed_set_updated_at BEFORE UPDATE ON public.missed FOR EACH ROW EXECUTE FUNCTION moddatetime(updated_at);']);
    expect(after.findings).toEqual([]);
    expect(after.passed).toEqual([
      'public.missed: missed_set_updated_at sets updated_at before every update',
      'public.missed: update probe skipped, no row in checks.probeRows["public.missed"] (checked by catalog alone)',
    ]);
  });

  it('creates the function it calls when the database has none, in a fix each table can run in turn', async () => {
    const { before, after, functions } = await fixAndRecheck(`CREATE TABLE a (id int PRIMARY KEY, updated_at timestamptz); CREATE TABLE b (id int PRIMARY KEY, updated_at timestamptz);`);
    expect(before.findings).toHaveLength(2);
    // The function it creates pins its search_path, so the fix brings no finding from another check either.
    expect(functions.findings).toEqual([]);
    expect(functions.passedCount).toBe(1);
    for (const f of before.findings) expect(f.fix).toMatch(/^CREATE OR REPLACE FUNCTION set_updated_at\(\) RETURNS trigger .*\nCREATE TRIGGER \w+ BEFORE UPDATE ON public\.[ab] FOR EACH ROW EXECUTE FUNCTION set_updated_at\(\);$/);
    expect(after.findings).toEqual([]);
  });
});

describe('assignmentPattern', () => {
  it('matches PL/pgSQL assignments to NEW.updated_at in any spelling', () => {
    const re = new RegExp(assignmentPattern('updated_at').replace(/\\m/g, '\\b'), 'i');
    expect(re.test('NEW.updated_at := now();')).toBe(true);
    expect(re.test('new . "updated_at" = clock_timestamp();')).toBe(true);
    expect(re.test('IF NEW.updated_at IS NULL THEN')).toBe(false);
  });
});

describe('judgeTriggers', () => {
  const ex = { updatedAt: { column: 'updated_at', function: 'set_updated_at' }, probeRows: {} };
  const trigger = (extra: Partial<Trigger>): Trigger => ({ name: 't_set', row: true, before: true, update: true, columns: false, enabled: true, function: 'touch', call: 'touch()', sets: true, ...extra });
  const facts = (f: Partial<TriggerFacts>): TriggerFacts => ({ kept: 0, common_call: null, configured_function: null, moddatetime_schema: null, rows: [], ...f });
  const table = (extra: Partial<TableRow>): TableRow => ({ key: 'public.t', tbl: 'public.t', relname: 't', column: 'updated_at', ok: false, triggers: [], ...extra });

  it('counts kept tables, names the fix after the function most tables use, and quotes a derived trigger name', () => {
    const out = judgeTriggers(facts({ kept: 40, common_call: 'app.touch()', rows: [table({ relname: 'Big Table', tbl: 'public."Big Table"' })] }), ex, false);
    expect(out.passed).toEqual(['40 tables: a trigger sets updated_at before every update']);
    expect(out.findings[0]!.fix).toBe('CREATE TRIGGER "Big Table_set_updated_at" BEFORE UPDATE ON public."Big Table" FOR EACH ROW EXECUTE FUNCTION app.touch();');
  });

  it('says so when there is nothing to check, listed or not', () => {
    for (const verbose of [true, false]) {
      expect(judgeTriggers(facts({}), ex, verbose)).toMatchObject({ passed: ['no table has a updated_at column or a trigger that sets one'], passedCount: 1 });
    }
  });

  it('rewrites the function only when no other is proven, and then as advice', () => {
    const stuck = table({ ok: true, triggers: [trigger({ function: 'set_updated_at', call: 'set_updated_at()' })] });
    const out = judgeTriggerProbes([{ row: stuck, got: { ok: true, value: { before: 'x', moved: false, after: 'x' } } }], { call: 'set_updated_at()' });
    expect(out.findings[0]!.fix).toMatch(/^CREATE OR REPLACE FUNCTION set_updated_at\(\)/);
    expect(out.findings[0]!.fixable).toBeUndefined();
  });

  it('prefers the call in use, then the configured function, then moddatetime, then creates the configured one', () => {
    expect(setterFunction(facts({ common_call: "moddatetime('updated_at')", configured_function: 'set_updated_at', moddatetime_schema: 'public' }), ex)).toEqual({ call: "moddatetime('updated_at')" });
    expect(setterFunction(facts({ configured_function: 'set_updated_at', moddatetime_schema: 'public' }), ex)).toEqual({ call: 'set_updated_at()' });
    expect(setterFunction(facts({ moddatetime_schema: 'ext' }), ex)).toEqual({ call: 'ext.moddatetime(updated_at)' });
    expect(setterFunction(facts({}), ex).create).toBe('CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;');
  });
});
