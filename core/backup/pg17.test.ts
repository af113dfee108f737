import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runChecks } from '../../checks/suite.ts';
import { pgAdmin, provisionDatabase, withSql } from '../../test/db.ts';
import type { TargetConfig } from '../config/target-settings.ts';
import { UserError } from '../errors.ts';
import { openTarget } from '../open-target.ts';
import { backupDatabase } from './backup.ts';
import { restoreBackup } from './restore/index.ts';
import { takeSafetyBackup } from './way-back.ts';
import { provisionPg15 } from '../../test/pg15.ts';
import { openBackupTarget, seed, tableChecksums, testOpsConfig } from '../../test/backups.ts';

/** The suite's PostgreSQL 17 as a `dev` target: only Debian's pg_dump 15 exists on these machines. */
async function pg17Target(prefix: string) {
  const db = await provisionDatabase(prefix);
  const config: TargetConfig = {
    kind: 'dev',
    database: db.database,
    stateDir: mkdtempSync(path.join(os.tmpdir(), 'pgsteward-pg17-')),
    pool: { max: 10, min: 2, instances: 1 },
    admin: db.as(),
    local: { binDir: undefined, dataDir: undefined, port: 54317 },
    rolePasswords: db.passwords,
  };
  return { db, target: await openTarget(config) };
}

describe('against PostgreSQL 17 with only pg_dump 15 installed', () => {
  it('fails before doing anything, with the clear error', async () => {
    const { target } = await pg17Target('old');
    const ops = testOpsConfig();
    const env = { PATH: process.env.PATH };
    const err = await backupDatabase(target, { ops, env }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).line).toMatch(/^pg_dump 15\.\d+ cannot dump PostgreSQL 17\.\d+; install postgresql-client-17 or set PG_BIN$/);
    expect(existsSync(path.join(ops.stateDir, 'backups'))).toBe(false);
    // an explicit PG_BIN is honoured, and refused the same way
    const viaBin = await backupDatabase(target, { ops, env: { PG_BIN: '/usr/lib/postgresql/15/bin' } }).catch((e: UserError) => e.line);
    expect(viaBin).toMatch(/^pg_dump 15\.\d+ cannot dump PostgreSQL 17\.\d+; install postgresql-client-17 or set PG_BIN$/);
    const safety = await takeSafetyBackup(target, 'pre-reset');
    expect(safety).toEqual({ ok: false, reason: expect.stringMatching(/cannot dump PostgreSQL 17/) });
  });

  it('restores a backup over an existing PG17 database, keeping the replaced database on the server (no pg_dump 17 needed)', async () => {
    const src = await provisionPg15('to17');
    await seed(src.admin, 5);
    const ops = testOpsConfig();
    const { location } = await backupDatabase(await openBackupTarget(src), { ops });
    const { db, target } = await pg17Target('dest17');
    await withSql(db.as(), (sql) => sql.unsafe(`insert into users (email, slug) values ('keep@example.test', 'keep')`));
    const report = await restoreBackup(target, { source: { file: location }, into: { kind: 'existing' }, confirm: db.database, checks: runChecks, ops });
    expect(report.safetyBackup).toEqual({ kind: 'copy', database: expect.stringMatching(new RegExp(`^${db.database}_before_`)) });
    const copy = (report.safetyBackup as { database: string }).database;
    await withSql(pgAdmin(copy), async (sql) => expect((await sql`select slug from users`).map((r) => r.slug)).toEqual(['keep']));
    expect(await tableChecksums(db.as())).toEqual(await tableChecksums(src.admin));
    expect(report.rowCounts.ok).toBe(true);
    expect(report.checks.failures).toEqual([]);
    expect(report.ok).toBe(true);
  });
});
