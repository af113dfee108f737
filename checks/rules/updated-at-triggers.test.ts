import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureRun, objects, runOne } from '../test-support.ts';
import type { CheckResult } from '../types.ts';
import { assignmentPattern, judgeTriggerProbes, judgeTriggers, type TableRow, type Trigger } from './updated-at-triggers.ts';

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
  const trigger = (extra: Partial<Trigger>): Trigger => ({ name: 't_set', row: true, before: true, update: true, columns: false, enabled: true, function: 'touch', sets: true, ...extra });
  const table = (extra: Partial<TableRow>): TableRow => ({ key: 'public.t', tbl: 'public.t', relname: 't', column: 'updated_at', ok: false, triggers: [], ...extra });

  it('counts kept tables, names the fix after the function most tables use, and quotes a derived trigger name', () => {
    const out = judgeTriggers({ kept: 40, common_function: 'app.touch', rows: [table({ relname: 'Big Table', tbl: 'public."Big Table"' })] }, ex, false);
    expect(out.passed).toEqual(['40 tables: a trigger sets updated_at before every update']);
    expect(out.findings[0]!.fix).toBe('CREATE TRIGGER "Big Table_set_updated_at" BEFORE UPDATE ON public."Big Table" FOR EACH ROW EXECUTE FUNCTION app.touch();');
  });

  it('says so when there is nothing to check, listed or not', () => {
    for (const verbose of [true, false]) {
      expect(judgeTriggers({ kept: 0, common_function: null, rows: [] }, ex, verbose)).toMatchObject({ passed: ['no table has a updated_at column or a trigger that sets one'], passedCount: 1 });
    }
  });

  it('rewrites the function only when no other is proven, and then as advice', () => {
    const stuck = table({ ok: true, triggers: [trigger({ function: 'set_updated_at' })] });
    const out = judgeTriggerProbes([{ row: stuck, got: { ok: true, value: { before: 'x', moved: false, after: 'x' } } }], 'set_updated_at');
    expect(out.findings[0]!.fix).toMatch(/^CREATE OR REPLACE FUNCTION set_updated_at\(\)/);
    expect(out.findings[0]!.fixable).toBeUndefined();
  });
});
