import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { secretUrl } from '../core/db/url.ts';
import { clusterAdmin, databaseExists, expectMadeBy17, ledger, localBackupDir, provisionBackupDatabase, seed, tableChecksums } from '../test/backups.ts';
import { runCli } from '../test/cli.ts';
import { withSql } from '../test/db.ts';

const errorLines = (s: string) => s.split('\n').filter((l) => l.startsWith('error:'));

describe('restore-db, verify-backup and retention commands (PostgreSQL 17, pg_dump/pg_restore 17)', () => {
  it('prod: restoring over the database without --force is refused before anything happens; with it, it works', async () => {
    const db = await provisionBackupDatabase('prodr');
    await seed(db.admin, 3);
    const backup = await runCli('ops/backup-db.ts', ['--json'], db.env);
    expect(backup.code).toBe(0);
    const { location, manifest } = JSON.parse(backup.stdout);
    expectMadeBy17(manifest);
    await withSql(db.admin, (sql) => sql.unsafe(`delete from user_roles`));
    const changed = await tableChecksums(db.admin);
    const prodEnv = { ...db.env, DB_TARGET: 'prod', DATABASE_URL: secretUrl(clusterAdmin()) };

    const refused = await runCli('ops/restore-db.ts', [location, '--into-existing', '--confirm', db.database], prodEnv);
    expect(refused.code).toBe(2);
    expect(errorLines(refused.stderr)).toEqual([`error: refusing to restore over the prod database ${db.database} without --force; add --force if you really mean to replace production data (the replaced database is kept)`]);
    expect(refused.stdout).toBe('');
    expect(await tableChecksums(db.admin)).toEqual(changed);
    expect(refused.stderr).not.toContain(clusterAdmin().password!);

    const unconfirmed = await runCli('ops/restore-db.ts', [location, '--into-existing', '--force'], prodEnv);
    expect(unconfirmed.code).toBe(2);
    expect(errorLines(unconfirmed.stderr)[0]).toMatch(/needs a typed confirmation; pass --confirm/);

    const done = await runCli('ops/restore-db.ts', [location, '--into-existing', '--confirm', db.database, '--force', '--json'], prodEnv, 120_000);
    expect(done.code).toBe(0);
    const report = JSON.parse(done.stdout);
    expect(report.ok).toBe(true);
    expect(report.safetyBackup).toEqual({ kind: 'copy', database: expect.stringMatching(new RegExp(`^${db.database}_before_`)) });
    expect(await tableChecksums(clusterAdmin(report.safetyBackup.database))).toEqual(changed);
    expect((await tableChecksums(db.admin))['public.user_roles']).not.toEqual(changed['public.user_roles']);
  });

  it('a dump of another database restored over this one: the output names the source and whose roles the result has', async () => {
    const x = await provisionBackupDatabase('clix');
    await seed(x.admin, 3);
    const y = await provisionBackupDatabase('cliy');
    const { location } = JSON.parse((await runCli('ops/backup-db.ts', ['--json'], x.env)).stdout);
    const r = await runCli('ops/restore-db.ts', [location, '--into-existing', '--confirm', y.database], y.env, 120_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`  source database: ${x.database}, not ${y.database}: restored with ${y.database}'s roles (owner ${y.database}_owner; ${x.database}'s own grants were left out)\n`);
    expect(r.stdout).toMatch(new RegExp(`  way back: previous contents kept in database ${y.database}_before_[0-9a-z]+ \\(drop it when no longer needed\\)`));
    expect(await tableChecksums(y.admin)).toEqual(await tableChecksums(x.admin));
    expect(await ledger(y.admin)).toEqual(await ledger(x.admin));
    expect(r.stdout).toMatch(/\n {2}versions: pg_dump 17\.\d+ of PostgreSQL 17\.\d+; restored with pg_restore 17\.\d+ into PostgreSQL 17\.\d+\n/);
    expect(r.stdout).toMatch(/\n {2}checks: \d+ passed, 0 failed, \d+ warnings\n/);
    expect(r.stdout).toContain('restored and verified');
  });

  it('a corrupted dump: restore-db and verify-backup refuse it, exit 2 / 1, and the manifest records the failure', async () => {
    const db = await provisionBackupDatabase('clibad');
    const b = JSON.parse((await runCli('ops/backup-db.ts', ['--json'], db.env)).stdout);
    const bytes = readFileSync(b.location);
    bytes[100]! ^= 0x40;
    writeFileSync(b.location, bytes);
    const r = await runCli('ops/restore-db.ts', [b.manifest.name, '--as', `${db.database}_x`], db.env);
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)[0]).toMatch(/^error: backup .* failed its integrity check: .*nothing was restored; the file is damaged or was altered/);
    expect(await databaseExists(`${db.database}_x`)).toBe(false);
    const v = await runCli('ops/verify-backup.ts', ['--json'], db.env);
    expect(v.code).toBe(1);
    expect(JSON.parse(v.stdout).verification).toMatchObject({ ok: false, error: expect.stringMatching(/integrity check/) });
    const list = JSON.parse((await runCli('ops/backup-db.ts', ['--list', '--json'], db.env)).stdout);
    expect(list.backups[0]).toMatchObject({ name: b.manifest.name, verified: false, verification: { ok: false } });
  });

  it('verify-backup exits 0 and marks the backup verified; retention --dry-run deletes nothing, a real run deletes the rest', async () => {
    const db = await provisionBackupDatabase('cliret');
    const first = JSON.parse((await runCli('ops/backup-db.ts', ['--json'], db.env)).stdout).manifest.name;
    const v = await runCli('ops/verify-backup.ts', [], db.env);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(new RegExp(`^verify-backup: ${first} VERIFIED against PostgreSQL 17\\.\\d+ in `));
    expect(v.stdout).toMatch(/\n {2}dump: pg_dump 17\.\d+ of PostgreSQL 17\.\d+; restored with pg_restore 17\.\d+\n/);
    const second = JSON.parse((await runCli('ops/backup-db.ts', ['--json', '--label', 'b'], db.env)).stdout).manifest.name;
    const third = JSON.parse((await runCli('ops/backup-db.ts', ['--json', '--label', 'c'], db.env)).stdout).manifest.name;
    const dir = localBackupDir(db);
    const files = () => readdirSync(dir).filter((f) => f.endsWith('.dump')).sort();
    const flags = ['--keep-last', '1', '--daily', '0', '--weekly', '0', '--monthly', '0', '--min-age-hours', '0'];
    const dry = await runCli('ops/retention.ts', [...flags, '--dry-run', '--json'], db.env);
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout);
    expect(plan.remove.map((r: { name: string }) => r.name)).toEqual([second]);
    expect(plan.keep.map((k: { name: string; reasons: string[] }) => [k.name, k.reasons])).toEqual([[third, ['last 1']], [first, ['newest verified']]]);
    expect(files()).toEqual([first, second, third].sort());
    const real = await runCli('ops/retention.ts', flags, db.env);
    expect(real.code).toBe(0);
    expect(real.stdout).toContain(`deleted ${second}`);
    expect(files()).toEqual([first, third].sort());
    const bad = await runCli('ops/retention.ts', ['--daily', 'seven'], db.env);
    expect(bad.code).toBe(2);
    expect(errorLines(bad.stderr)).toEqual(['error: --daily must be a whole number of at least 0, got "seven"; e.g. --daily 7']);
  });
});
