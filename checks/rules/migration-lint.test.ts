import { copyFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, pgAdmin } from '../../test/db.ts';
import { objects, runOne } from '../test-support.ts';
import type { CheckResult } from '../types.ts';

describe('migration-lint', () => {
  let r: CheckResult;
  beforeAll(async () => {
    // The fixture is a pending migration: copy it into a migrations folder the database has never seen.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-lint-'));
    copyFileSync(fileURLToPath(new URL('./migration-lint.fixture.sql', import.meta.url)), path.join(dir, '0001_unsafe.sql'));
    const database = await createDatabase('ck');
    r = await runOne('migration-lint', { connection: pgAdmin(database), migrationsDir: dir });
  });

  it('fails and names the file, line and squawk rule', () => {
    expect(r.status).toBe('failed');
    expect(objects(r)).toEqual(['0001_unsafe.sql:2', '0001_unsafe.sql:3']);
    expect(r.findings[0]!.message).toMatch(/^require-concurrent-index-creation: /);
    expect(r.findings[1]!.message).toMatch(/^adding-required-field: /);
    expect(r.findings[0]!.fix).toMatch(/squawkhq\.com\/docs\/require-concurrent-index-creation/);
  });

  it('honours squawk-ignore comments', () => {
    expect(r.findings.some((f) => f.message.startsWith('renaming-column'))).toBe(false);
  });
});
