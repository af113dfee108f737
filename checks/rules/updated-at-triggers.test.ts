import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureDatabase, objects, runOne } from '../test-support.ts';
import type { CheckResult } from '../types.ts';
import { assignmentPattern } from './updated-at-triggers.ts';

describe('updated-at-triggers', () => {
  let r: CheckResult;
  beforeAll(async () => {
    const { connection } = await fixtureDatabase(new URL('./updated-at-triggers.fixture.sql', import.meta.url));
    r = await runOne('updated-at-triggers', {
      connection,
      expectations: { probeRows: { 'public.good': { id: '1', name: 'a' }, 'public.stuck': { id: '1', name: 'a' } } },
    });
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
});

describe('assignmentPattern', () => {
  it('matches PL/pgSQL assignments to NEW.updated_at in any spelling', () => {
    const re = new RegExp(assignmentPattern('updated_at').replace(/\\m/g, '\\b'), 'i');
    expect(re.test('NEW.updated_at := now();')).toBe(true);
    expect(re.test('new . "updated_at" = clock_timestamp();')).toBe(true);
    expect(re.test('IF NEW.updated_at IS NULL THEN')).toBe(false);
  });
});
