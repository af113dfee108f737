import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runChecks } from '../../checks/suite.ts';
import { pgAdmin, provisionDatabase, withSql } from '../../test/db.ts';
import { runCli } from '../../test/cli.ts';
import type { TargetConfig } from '../config/target-settings.ts';
import { UserError } from '../errors.ts';
import { openTarget } from '../open-target.ts';
import { backupDatabase } from './backup.ts';
import { restoreBackup } from './restore/index.ts';
import { takeSafetyBackup } from './way-back.ts';
import { provisionPg15 } from '../../test/pg15.ts';
import { clusterAdmin, ledger, openBackupTarget, provisionBackupDatabase, seed, tableChecksums, testOpsConfig } from '../../test/backups.ts';

/**
 * The only tests that need Debian's PostgreSQL 15: what happens when versions cross. Every
 * other backup, restore and verify test runs on the suite's PostgreSQL 17 with the 17 tools.
 */

/** The suite's PostgreSQL 17 as a `dev` target whose state folder has no client tools: only Debian's pg_dump 15 can be found. */
async function pg17WithoutTools(prefix: string) {
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

describe('pg_dump 15 against a PostgreSQL 17 server', () => {
  it('fails before doing anything, with the clear error', async () => {
    const { target } = await pg17WithoutTools('old');
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
});

describe('a dump by pg_dump 15 of a PostgreSQL 15 server, restored into PostgreSQL 17 (the upgrade path)', () => {
  it('restore-db with the 17 tools: over an existing database and as a new one; every row, the ledger and the checks hold on 17', async () => {
    const src = await provisionPg15('up15');
    await seed(src.admin, 12);
    const backup = await runCli('ops/backup-db.ts', ['--json'], src.env, 120_000);
    expect(backup.code, backup.stderr).toBe(0);
    const { location, manifest } = JSON.parse(backup.stdout);
    expect(manifest.server.major).toBe(15);
    expect(manifest.pgDump.major).toBe(15);

    const dest = await provisionBackupDatabase('up17');
    await withSql(dest.admin, (sql) => sql.unsafe(`insert into users (email, slug) values ('keep@example.test', 'keep')`));
    const replaced = await tableChecksums(dest.admin);
    const r = await runCli('ops/restore-db.ts', [location, '--into-existing', '--confirm', dest.database, '--json'], dest.env, 120_000);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.backup).toMatchObject({ server: expect.stringMatching(/^15\.\d+/), pgDump: expect.stringMatching(/^15\.\d+/) });
    expect(report.restoredWith).toEqual({ server: expect.stringMatching(/^17\.\d+/), pgRestore: expect.stringMatching(/^17\.\d+/) });
    expect(report.rowCounts).toEqual({ ok: true, tables: 9, mismatches: [] });
    expect(report.checks.failures).toEqual([]);
    expect(report.checks.failed).toBe(0);
    expect(report.checks.passed).toBeGreaterThan(20);
    expect(report.ok).toBe(true);
    expect(await tableChecksums(dest.admin)).toEqual(await tableChecksums(src.admin));
    expect(await ledger(dest.admin)).toEqual(await ledger(src.admin));
    // the replaced PostgreSQL 17 database is kept, as it was
    expect(report.safetyBackup).toEqual({ kind: 'copy', database: expect.stringMatching(new RegExp(`^${dest.database}_before_`)) });
    expect(await tableChecksums(clusterAdmin(report.safetyBackup.database))).toEqual(replaced);
    // the checks, run on their own against the restored database, pass too
    const checks = await runCli('checks/cli.ts', ['--json'], dest.env, 120_000);
    expect(checks.code, checks.stdout.slice(0, 2000)).toBe(0);

    // as a new database, in text: the output names both versions
    const asNew = await runCli('ops/restore-db.ts', [location, '--as', `${dest.database}_new`], dest.env, 120_000);
    expect(asNew.code, asNew.stderr).toBe(0);
    expect(asNew.stdout).toMatch(/\n {2}versions: pg_dump 15\.\d+ of PostgreSQL 15\.\d+; restored with pg_restore 17\.\d+ into PostgreSQL 17\.\d+\n/);
    expect(asNew.stdout).toContain('restored and verified');
    expect(await tableChecksums(clusterAdmin(`${dest.database}_new`))).toEqual(await tableChecksums(src.admin));
    expect(await ledger(clusterAdmin(`${dest.database}_new`))).toEqual(await ledger(src.admin));
  });

  it('restores over an existing PG17 database with pg_restore 15 too, keeping the replaced database on the server (no 17 client tools needed)', async () => {
    const src = await provisionPg15('to17');
    await seed(src.admin, 5);
    const ops = testOpsConfig();
    const { location } = await backupDatabase(await openBackupTarget(src), { ops });
    const { db, target } = await pg17WithoutTools('dest17');
    await withSql(db.as(), (sql) => sql.unsafe(`insert into users (email, slug) values ('keep@example.test', 'keep')`));
    const report = await restoreBackup(target, { source: { file: location }, into: { kind: 'existing' }, confirm: db.database, checks: runChecks, ops });
    expect(report.restoredWith).toEqual({ server: expect.stringMatching(/^17\.\d+/), pgRestore: expect.stringMatching(/^15\.\d+/) });
    expect(report.safetyBackup).toEqual({ kind: 'copy', database: expect.stringMatching(new RegExp(`^${db.database}_before_`)) });
    const copy = (report.safetyBackup as { database: string }).database;
    await withSql(pgAdmin(copy), async (sql) => expect((await sql`select slug from users`).map((r) => r.slug)).toEqual(['keep']));
    expect(await tableChecksums(db.as())).toEqual(await tableChecksums(src.admin));
    expect(await ledger(db.as())).toEqual(await ledger(src.admin));
    expect(report.rowCounts.ok).toBe(true);
    expect(report.checks.failures).toEqual([]);
    expect(report.ok).toBe(true);
  });
});
