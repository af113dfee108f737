import { copyFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, pgAdmin, withSql } from '../../test/db.ts';
import { objects, runOne } from '../test-support.ts';
import type { CheckResult } from '../types.ts';

describe('migration-data-preservation', () => {
  let r: CheckResult;
  beforeAll(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-dp-'));
    copyFileSync(fileURLToPath(new URL('./migration-data-preservation.fixture.sql', import.meta.url)), path.join(dir, '0001_cleanup.sql'));
    const database = await createDatabase('ck');
    // The schema the pending migration would run against: the narrowing needs the current type.
    await withSql(pgAdmin(database), (sql) => sql.unsafe('CREATE TABLE accounts (nickname varchar(100), balance numeric(12,2), legacy_code text)'));
    r = await runOne('migration-data-preservation', { connection: pgAdmin(database), migrationsDir: dir });
  });

  it('fails on each unannotated destructive statement, naming file and line', () => {
    expect(r.status).toBe('failed');
    expect(objects(r)).toEqual(['0001_cleanup.sql:3', '0001_cleanup.sql:4', '0001_cleanup.sql:5', '0001_cleanup.sql:6', '0001_cleanup.sql:7']);
    expect(r.findings.map((f) => f.message.split(' ').slice(0, 2).join(' '))).toEqual(['DROP TABLE', 'ALTER TABLE', 'TRUNCATE sessions', 'DELETE FROM', 'ALTER TABLE']);
    expect(r.findings[4]!.message).toMatch(/shortens character varying\(100\) to varchar\(20\)/);
  });

  it('allows the annotated drop and the safe changes', () => {
    expect(r.passed).toEqual(['0001_cleanup.sql:11: drop-table import_2019 allowed (destructive: the 2019 import table was copied to cold storage (ticket OPS-12))']);
  });
});
