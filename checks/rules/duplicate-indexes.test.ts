import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureDatabase, objects, runOne } from '../test-support.ts';
import type { CheckResult } from '../types.ts';

describe('duplicate-indexes', () => {
  let r: CheckResult;
  beforeAll(async () => {
    const { connection } = await fixtureDatabase(new URL('./duplicate-indexes.fixture.sql', import.meta.url));
    r = await runOne('duplicate-indexes', { connection });
  });

  it('warns and names the indexes to drop', () => {
    expect(r.status).toBe('warning');
    expect(r.severity).toBe('warning');
    expect(objects(r).sort()).toEqual(['public.events_code_idx', 'public.events_kind_again_idx', 'public.events_kind_idx']);
  });

  it('keeps the unique constraint over the plain index', () => {
    const f = r.findings.find((x) => x.object === 'public.events_code_idx')!;
    expect(f.message).toMatch(/duplicates unique constraint public\.events_code_key.*keep public\.events_code_key/);
    expect(f.fix).toBe('DROP INDEX CONCURRENTLY IF EXISTS public.events_code_idx;');
  });

  it('keeps the older of two identical indexes and the wider of a prefix pair', () => {
    expect(r.findings.find((x) => x.object === 'public.events_kind_again_idx')!.message).toMatch(/keep public\.events_kind_idx$/);
    expect(r.findings.find((x) => x.object === 'public.events_kind_idx')!.message).toMatch(/redundant.*keep public\.events_kind_time_idx$/);
  });
});
