import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureDatabase, objects, runOne } from '../test-support.ts';
import type { CheckResult } from '../types.ts';

describe('migration-state', () => {
  let r: CheckResult;
  beforeAll(async () => {
    const { connection } = await fixtureDatabase(new URL('./migration-state.fixture.sql', import.meta.url));
    r = await runOne('migration-state', { connection });
  });

  it('fails on drift, a dirty row, an unknown applied version and pending files, naming each', () => {
    expect(r.status).toBe('failed');
    expect(objects(r).sort()).toEqual(['0001_uuidv7_and_timestamps.sql', '0002_auth_users.sql', '0003_rbac.sql', '0004_phrases_search.sql', 'version 99']);
    const kinds = r.findings.map((f) => f.message.split(':')[0]).sort();
    expect(kinds).toEqual(['dirty', 'drift', 'missing', 'pending', 'pending']);
    expect(r.findings.find((f) => f.object === 'version 99')!.message).toMatch(/applied but has no file/);
  });
});
