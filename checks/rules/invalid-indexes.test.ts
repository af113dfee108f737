import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureDatabase, objects, runOne } from '../test-support.ts';
import type { CheckResult } from '../types.ts';
import { judgeInvalidIndexes } from './invalid-indexes.ts';

describe('invalid-indexes', () => {
  let r: CheckResult;
  beforeAll(async () => {
    const { connection } = await fixtureDatabase(new URL('./invalid-indexes.fixture.sql', import.meta.url));
    r = await runOne('invalid-indexes', { connection });
  });

  it('fails, names the invalid index and says how to rebuild it', () => {
    expect(r.status).toBe('failed');
    expect(objects(r)).toEqual(['public.signups_email_key', 'public.signups_email_lower_idx']);
    expect(r.findings[0]!.fix).toBe('REINDEX INDEX CONCURRENTLY public.signups_email_key;');
  });

  it('offers the rebuild as a mechanical fix only where no duplicate values can refuse it', () => {
    expect(r.findings.map((f) => [f.object, f.fixable])).toEqual([
      ['public.signups_email_key', false],
      ['public.signups_email_lower_idx', true],
    ]);
    expect(r.findings[0]!.message).toMatch(/remove them first/);
  });
});

describe('judgeInvalidIndexes', () => {
  it('passes a schema with no invalid index as one verified fact', () => {
    expect(judgeInvalidIndexes([])).toEqual({ passed: ['every index is valid'], findings: [] });
  });
  it('gives each invalid index its REINDEX', () => {
    const out = judgeInvalidIndexes([{ table: 'public.t', name: 'public."T_idx"', definition: 'CREATE INDEX "T_idx" ON public.t USING btree (a)', unique: false }]);
    expect(out.findings).toEqual([expect.objectContaining({ object: 'public."T_idx"', fix: 'REINDEX INDEX CONCURRENTLY public."T_idx";', fixable: true })]);
  });
});
