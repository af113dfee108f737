import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureDatabase, objects, runOne } from '../test-support.ts';
import type { CheckResult } from '../types.ts';

describe('invalid-indexes', () => {
  let r: CheckResult;
  beforeAll(async () => {
    const { connection } = await fixtureDatabase(new URL('./invalid-indexes.fixture.sql', import.meta.url));
    r = await runOne('invalid-indexes', { connection });
  });

  it('fails, names the invalid index and says how to rebuild it', () => {
    expect(r.status).toBe('failed');
    expect(objects(r)).toEqual(['public.signups_email_key']);
    expect(r.findings[0]!.fix).toBe('REINDEX INDEX CONCURRENTLY public.signups_email_key;');
  });
});
