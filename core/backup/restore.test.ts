import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runChecks } from '../../checks/suite.ts';
import { UserError } from '../errors.ts';
import { backupDatabase } from './backup.ts';
import { parseManifest } from './manifest.ts';
import { restoreBackup, restoreGuard } from './restore.ts';
import { LocalStorage } from './storage/index.ts';
import { verifyBackup } from './verify.ts';
import { databaseExists, openPg15Target, pg15Admin, provisionPg15, schemaFingerprint, seed, tableChecksums, testOpsConfig } from '../../test/pg15.ts';
import { withSql } from '../../test/db.ts';

async function databasesLike(prefix: string): Promise<string[]> {
  return withSql(pg15Admin(), async (sql) => (await sql<{ d: string }[]>`select datname as d from pg_database where datname like ${prefix + '%'} order by 1`).map((r) => r.d));
}

describe('restore (PostgreSQL 15)', () => {
  it('round trip keeps the schema and every row, and the restored database passes the checks', async () => {
    const db = await provisionPg15('rt');
    await seed(db.admin, 25);
    const ops = testOpsConfig();
    const target = await openPg15Target(db);
    const { manifest } = await backupDatabase(target, { ops });
    const storage = new LocalStorage(path.join(ops.stateDir, 'backups', 'local', db.database));

    const report = await restoreBackup(target, { source: { storage }, into: { kind: 'new' }, checks: runChecks, ops });
    expect(report.backup.name).toBe(manifest.name);
    expect(report.destination.created).toBe(true);
    expect(report.destination.database).toMatch(new RegExp(`^${db.database.slice(0, 24)}_restore_\\d{8}t\\d{6}z_[0-9a-f]{4}$`));
    const restored = pg15Admin(report.destination.database);
    expect(await tableChecksums(restored)).toEqual(await tableChecksums(db.admin));
    expect(await schemaFingerprint(restored)).toEqual(await schemaFingerprint(db.admin));
    expect(report.rowCounts).toEqual({ ok: true, tables: 9, mismatches: [] });
    expect(report.checks.failures).toEqual([]);
    expect(report.checks.ok).toBe(true);
    expect(report.checks.passed).toBeGreaterThan(20);
    expect(report.checks.failed).toBe(0);
    expect(report.ok).toBe(true);
    // the restored copy is usable by the original's least-privilege roles
    await withSql({ ...restored, user: `${db.database}_app`, password: db.passwords.app }, async (sql) => {
      const [r] = await sql`select count(*)::int as n from users`;
      expect(r!.n).toBe(25);
    });
  });

  it('refuses a dump with one byte flipped before any restore starts', async () => {
    const db = await provisionPg15('flip');
    await seed(db.admin, 3);
    const ops = testOpsConfig();
    const target = await openPg15Target(db);
    const { location } = await backupDatabase(target, { ops });
    const bytes = readFileSync(location);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    writeFileSync(location, bytes);
    const storage = new LocalStorage(path.dirname(location));
    const before = await databasesLike(db.database.slice(0, 24));
    const err = await restoreBackup(target, { source: { storage }, into: { kind: 'new', database: `${db.database}_copy` }, checks: runChecks, ops }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toMatch(/failed its integrity check: SHA-256 .* does not match the manifest's .*; nothing was restored/);
    expect(await databasesLike(db.database.slice(0, 24))).toEqual(before);
    expect(await databaseExists(`${db.database}_copy`)).toBe(false);

    // verification records the failure in the manifest, and leaves no scratch database behind
    const v = await verifyBackup(target, { storage, checks: runChecks, ops });
    expect(v.verification.ok).toBe(false);
    expect(v.verification.error).toMatch(/integrity check/);
    const onDisk = parseManifest(readFileSync(location.replace(/\.dump$/, '.json'), 'utf8'), 'm');
    expect(onDisk.verified).toBe(false);
    expect(onDisk.verification?.error).toMatch(/integrity check/);
    expect(await databasesLike(db.database.slice(0, 24))).toEqual(before);
  });

  it('restores over an existing database only when confirmed by name, after a safety backup', async () => {
    const db = await provisionPg15('over');
    await seed(db.admin, 4);
    const ops = testOpsConfig();
    const target = await openPg15Target(db);
    const { manifest, location } = await backupDatabase(target, { ops });
    const original = await tableChecksums(db.admin);
    // the database moves on after the backup
    await withSql(db.admin, (sql) => sql.unsafe(`delete from users where slug = 'user-1'; set role ${db.database}_owner; create table scratch_notes (id int); insert into phrases (text) values ('added later')`));
    const changed = await tableChecksums(db.admin);
    const storage = new LocalStorage(path.dirname(location));
    const base = { source: { storage, name: manifest.name }, into: { kind: 'existing' as const }, checks: runChecks, ops };

    await expect(restoreBackup(target, base)).rejects.toThrow(/needs a typed confirmation/);
    await expect(restoreBackup(target, { ...base, confirm: 'app' })).rejects.toThrow(/does not match the database name/);
    expect(await tableChecksums(db.admin)).toEqual(changed);

    const report = await restoreBackup(target, { ...base, confirm: db.database });
    expect(report.ok).toBe(true);
    expect(report.destination).toEqual({ database: db.database, created: false });
    expect(await tableChecksums(db.admin)).toEqual(original);
    // the way back: a safety backup of what was overwritten, with the changed counts
    expect(report.safetyBackup?.kind).toBe('dump');
    const safetyFile = (report.safetyBackup as { location: string }).location;
    expect(safetyFile).toMatch(/-pre-restore\.dump$/);
    expect(path.dirname(safetyFile)).toBe(path.dirname(location)); // the configured storage, like every backup
    expect(existsSync(safetyFile)).toBe(true);
    const safety = parseManifest(readFileSync(safetyFile.replace(/\.dump$/, '.json'), 'utf8'), 's');
    expect(safety.tables['public.scratch_notes']).toBe(0);
    expect(safety.tables['public.users']).toBe(3);
    // … and it restores too
    const back = await restoreBackup(target, { source: { file: safetyFile }, into: { kind: 'new' }, checks: runChecks, ops });
    expect(await tableChecksums(pg15Admin(back.destination.database))).toEqual(changed);
  });

  it('guards: prod needs --force on top of the typed name; a new database is always allowed', () => {
    expect(() => restoreGuard({ targetKind: 'prod', database: 'app', into: { kind: 'existing' }, confirm: 'app' })).toThrow(/refusing to restore over the prod database app without --force/);
    expect(() => restoreGuard({ targetKind: 'prod', database: 'app', into: { kind: 'existing' }, confirm: 'app', force: true })).not.toThrow();
    expect(() => restoreGuard({ targetKind: 'prod', database: 'app', into: { kind: 'existing' }, force: true })).toThrow(/typed confirmation/);
    expect(() => restoreGuard({ targetKind: 'prod', database: 'app', into: { kind: 'new' } })).not.toThrow();
    expect(() => restoreGuard({ targetKind: 'local', database: 'app', into: { kind: 'existing' }, confirm: 'app' })).not.toThrow();
  });

  it('verify-backup marks the manifest verified, records a row-count mismatch as a failure, and always drops the scratch database', async () => {
    const db = await provisionPg15('ver');
    await seed(db.admin, 6);
    const ops = testOpsConfig();
    const target = await openPg15Target(db);
    const { location } = await backupDatabase(target, { ops });
    const storage = new LocalStorage(path.dirname(location));
    const ok = await verifyBackup(target, { storage, checks: runChecks, ops });
    expect(ok.verification.ok).toBe(true);
    expect(ok.verification.rowCounts).toEqual({ tables: 9, mismatches: [] });
    expect(await databaseExists(ok.verification.scratchDatabase!)).toBe(false);
    const mf = location.replace(/\.dump$/, '.json');
    expect(parseManifest(readFileSync(mf, 'utf8'), 'm')).toMatchObject({ verified: true, verification: { ok: true } });

    // a manifest that claims more users than the dump holds: the comparison must catch it
    copyFileSync(mf, mf + '.orig');
    const m = JSON.parse(readFileSync(mf, 'utf8'));
    m.tables['public.users'] = 7;
    writeFileSync(mf, JSON.stringify(m));
    const bad = await verifyBackup(target, { storage, checks: runChecks, ops });
    expect(bad.verification.ok).toBe(false);
    expect(bad.verification.rowCounts!.mismatches).toEqual([{ table: 'public.users', expected: 7, actual: 6 }]);
    expect(parseManifest(readFileSync(mf, 'utf8'), 'm')).toMatchObject({ verified: false, verification: { ok: false } });
    expect(await databaseExists(bad.verification.scratchDatabase!)).toBe(false);
  });
});
