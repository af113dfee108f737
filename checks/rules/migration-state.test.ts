import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '../../core/paths.ts';
import { provisionDatabase } from '../../test/db.ts';
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

  it('does not propose our setup for a database pgsteward did not set up (a ledger, but none of its roles): it points to the adoption guide', () => {
    const pending = r.findings.filter((f) => f.message.startsWith('pending'));
    expect(pending).toHaveLength(2);
    for (const f of pending) {
      expect(f.fix).not.toContain('npm run setup-db');
      expect(f.fix).toMatch(/none of the \w+_\* roles, so pgsteward has not set it up: .*read docs\/adopting-sqlx\.md/);
    }
  });
});

describe('migration-state on a database pgsteward set up', () => {
  it('proposes setup-db on the folder the checks compared with', async () => {
    const db = await provisionDatabase('ckms');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-ckms-'));
    for (const f of readdirSync(MIGRATIONS_DIR).filter((x) => x.endsWith('.sql'))) copyFileSync(path.join(MIGRATIONS_DIR, f), path.join(dir, f));
    writeFileSync(path.join(dir, '9000_next.sql'), 'SELECT 1;\n');
    const r = await runOne('migration-state', { connection: db.as(), migrationsDir: dir });
    expect(r.findings.map((f) => [f.object, f.fix])).toEqual([['9000_next.sql', `npm run setup-db -- --database ${db.database} --migrations ${dir}`]]);
  });
});
