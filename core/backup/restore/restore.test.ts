import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runChecks } from '../../../checks/suite.ts';
import { UserError } from '../../errors.ts';
import { backupDatabase } from '../backup.ts';
import { parseManifest } from '../manifest.ts';
import { restoreBackup, restoreGuard } from './index.ts';
import { LocalStorage } from '../storage/index.ts';
import { verifyBackup } from '../verify.ts';
import { clusterAdmin, databaseExists, expectMadeBy17, ledger, openBackupTarget, provisionBackupDatabase, schemaFingerprint, seed, tableChecksums, testOpsConfig } from '../../../test/backups.ts';
import { withSql } from '../../../test/db.ts';
import type { ConnectionSettings } from '../../db/url.ts';
import { sha256File } from '../files.ts';

/** Owner, ACL and comment of a database, as the catalog shows them. */
async function databaseAccess(name: string): Promise<{ owner: string; acl: string | null; comment: string | null }> {
  return withSql(clusterAdmin(), async (sql) => {
    const [r] = await sql<{ owner: string; acl: string | null; comment: string | null }[]>`select pg_get_userbyid(datdba) as owner, datacl::text as acl, shobj_description(oid, 'pg_database') as comment from pg_database where datname = ${name}`;
    return r!;
  });
}

/** Who owns the objects in public, who is granted anything on them (default privileges included), and who owns the database. */
async function roleModelOf(settings: ConnectionSettings): Promise<{ owners: string[]; grantees: string[]; databaseOwner: string }> {
  return withSql(settings, async (sql) => {
    const owners = await sql<{ r: string }[]>`
      select distinct pg_get_userbyid(c.relowner) as r from pg_class c where c.relnamespace = 'public'::regnamespace
      union select distinct pg_get_userbyid(p.proowner) from pg_proc p where p.pronamespace = 'public'::regnamespace
        and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
      union select pg_get_userbyid(nspowner) from pg_namespace where nspname = 'public' order by 1`;
    const grantees = await sql<{ r: string }[]>`
      select distinct pg_get_userbyid(a.grantee) as r from pg_class c, aclexplode(c.relacl) a where c.relnamespace = 'public'::regnamespace and a.grantee <> c.relowner
      union select distinct pg_get_userbyid(a.grantee) from pg_default_acl d, aclexplode(d.defaclacl) a where a.grantee <> d.defaclrole
      union select distinct pg_get_userbyid(a.grantee) from pg_namespace n, aclexplode(n.nspacl) a where n.nspname = 'public' and a.grantee <> n.nspowner order by 1`;
    const [d] = await sql<{ o: string }[]>`select pg_get_userbyid(datdba) as o from pg_database where datname = current_database()`;
    return { owners: owners.map((r) => r.r), grantees: grantees.map((r) => r.r), databaseOwner: d!.o };
  });
}

async function databasesLike(prefix: string): Promise<string[]> {
  return withSql(clusterAdmin(), async (sql) => (await sql<{ d: string }[]>`select datname as d from pg_database where datname like ${prefix + '%'} order by 1`).map((r) => r.d));
}

describe('restore (PostgreSQL 17, pg_dump/pg_restore 17)', () => {
  it('round trip keeps the schema and every row, and the restored database passes the checks', async () => {
    const db = await provisionBackupDatabase('rt');
    await seed(db.admin, 25);
    const ops = testOpsConfig();
    const target = await openBackupTarget(db);
    const { manifest } = await backupDatabase(target, { ops });
    expectMadeBy17(manifest);
    const storage = new LocalStorage(path.join(ops.stateDir, 'backups', 'local', db.database));

    const report = await restoreBackup(target, { source: { storage }, into: { kind: 'new' }, checks: runChecks, ops });
    expect(report.backup.name).toBe(manifest.name);
    expect(report.destination.created).toBe(true);
    expect(report.destination.database).toMatch(new RegExp(`^${db.database.slice(0, 24)}_restore_\\d{8}t\\d{6}z_[0-9a-f]{4}$`));
    const restored = clusterAdmin(report.destination.database);
    expect(await tableChecksums(restored)).toEqual(await tableChecksums(db.admin));
    expect(Object.keys(await tableChecksums(restored))).toHaveLength(9);
    expect(await ledger(restored)).toEqual(await ledger(db.admin));
    expect((await ledger(restored)).length).toBeGreaterThanOrEqual(4);
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
    const db = await provisionBackupDatabase('flip');
    await seed(db.admin, 3);
    const ops = testOpsConfig();
    const target = await openBackupTarget(db);
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

  it('restores over an existing database only when confirmed by name, keeping the replaced database as the way back', async () => {
    const db = await provisionBackupDatabase('over');
    await seed(db.admin, 4);
    const ops = testOpsConfig();
    const target = await openBackupTarget(db);
    const { manifest, location } = await backupDatabase(target, { ops });
    const original = await tableChecksums(db.admin);
    const originalLedger = await ledger(db.admin);
    const originalSchema = await schemaFingerprint(db.admin);
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
    expect(report.source).toEqual({ database: db.database, differs: false });
    expect(report.roles).toEqual({ owner: `${db.database}_owner`, adopted: false });
    expect(await tableChecksums(db.admin)).toEqual(original);
    expect(await ledger(db.admin)).toEqual(originalLedger);
    expect(await schemaFingerprint(db.admin)).toEqual(originalSchema);
    // the way back: the replaced database itself, kept under another name with the changed rows
    expect(report.safetyBackup).toEqual({ kind: 'copy', database: expect.stringMatching(new RegExp(`^${db.database}_before_[0-9a-z]+$`)) });
    const kept = (report.safetyBackup as { database: string }).database;
    expect(await tableChecksums(clusterAdmin(kept))).toEqual(changed);
    // the database-level fence and the app role work on the restored database under the old name
    expect(await databaseAccess(db.database)).toEqual(await databaseAccess(kept));
    await withSql({ ...db.admin, user: `${db.database}_app`, password: db.passwords.app }, async (sql) => {
      expect((await sql`select count(*)::int as n from users`)[0]!.n).toBe(4);
    });
    // nothing of the run is left: no scratch database
    expect((await databasesLike(db.database.slice(0, 24))).filter((d) => d.includes('_restore_'))).toEqual([]);
  });

  it('a restore over an existing database that fails midway leaves it exactly as it was (corrupted dump, manifest hash matching)', async () => {
    const db = await provisionBackupDatabase('atom');
    await seed(db.admin, 30);
    const ops = testOpsConfig();
    const target = await openBackupTarget(db);
    const { location } = await backupDatabase(target, { ops });
    // Damage the last table's compressed data, then make the manifest agree with the damaged file.
    const bytes = readFileSync(location);
    for (let i = bytes.length - 40; i < bytes.length - 8; i++) bytes[i]! ^= 0x5a;
    writeFileSync(location, bytes);
    const mf = location.replace(/\.dump$/, '.json');
    const m = JSON.parse(readFileSync(mf, 'utf8'));
    Object.assign(m, await sha256File(location));
    writeFileSync(mf, JSON.stringify(m));
    // Since the backup: other rows, another table, another grant and owner, so "as it was" is observable.
    await withSql(db.admin, (sql) => sql.unsafe(`delete from phrases where id in (select id from phrases limit 3); create table later (id int); alter table later owner to ${db.database}_owner; grant select on later to ${db.database}_app`));
    const before = { data: await tableChecksums(db.admin), schema: await schemaFingerprint(db.admin), access: await databaseAccess(db.database), databases: await databasesLike(db.database.slice(0, 24)) };
    expect(before.schema.some((l) => l.includes('later'))).toBe(true);

    const err = await restoreBackup(target, { source: { file: location }, into: { kind: 'existing' }, confirm: db.database, checks: runChecks, ops }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).line).toMatch(new RegExp(`^pg_restore failed: .*; ${db.database} was not changed; the database it was restoring into was dropped`));
    expect(await tableChecksums(db.admin)).toEqual(before.data);
    expect(await schemaFingerprint(db.admin)).toEqual(before.schema);
    expect(await databaseAccess(db.database)).toEqual(before.access);
    expect(await databasesLike(db.database.slice(0, 24))).toEqual(before.databases);
  });

  it('a dump of database X restored over database Y ends with Y\'s role model, and so does one restored as a new database that has roles', async () => {
    const x = await provisionBackupDatabase('srcx');
    await seed(x.admin, 5);
    const y = await provisionBackupDatabase('dsty');
    await seed(y.admin, 2);
    const ops = testOpsConfig();
    const { location } = await backupDatabase(await openBackupTarget(x), { ops });
    const target = await openBackupTarget(y);

    const report = await restoreBackup(target, { source: { file: location }, into: { kind: 'existing' }, confirm: y.database, checks: runChecks, ops });
    expect(report.source).toEqual({ database: x.database, differs: true });
    expect(report.roles).toEqual({ owner: `${y.database}_owner`, adopted: true });
    expect(report.checks.failures).toEqual([]);
    expect(report.ok).toBe(true);
    expect(await tableChecksums(y.admin)).toEqual(await tableChecksums(x.admin));
    expect(await roleModelOf(y.admin)).toEqual({ owners: [`${y.database}_owner`], grantees: [`${y.database}_app`, `${y.database}_backup`, `${y.database}_readonly`], databaseOwner: `${y.database}_owner` });
    // Y's app role works as before: reads, writes, and cannot touch the ledger
    await withSql({ ...y.admin, user: `${y.database}_app`, password: y.passwords.app }, async (sql) => {
      expect((await sql`select count(*)::int as n from users`)[0]!.n).toBe(5);
      await sql`insert into users (email, slug) values ('new@example.test', 'new')`;
      await expect(sql`select * from _sqlx_migrations`).rejects.toThrow(/permission denied/);
    });

    // as a new database whose name has roles of its own (setup-db made them): that name's model too
    const z = await provisionBackupDatabase('dstz');
    await withSql(clusterAdmin(), (sql) => sql.unsafe(`drop database ${z.database} with (force)`));
    const asZ = await restoreBackup(target, { source: { file: location }, into: { kind: 'new', database: z.database }, checks: runChecks, ops });
    expect(asZ.roles).toEqual({ owner: `${z.database}_owner`, adopted: true });
    expect(asZ.ok).toBe(true);
    expect((await roleModelOf(clusterAdmin(z.database))).owners).toEqual([`${z.database}_owner`]);
    // … while a new name without roles is a copy of X with X's roles
    const copy = await restoreBackup(target, { source: { file: location }, into: { kind: 'new', database: `${x.database}_copy` }, checks: runChecks, ops });
    expect(copy.roles).toEqual({ owner: `${x.database}_owner`, adopted: false });
    expect((await roleModelOf(clusterAdmin(`${x.database}_copy`))).owners).toEqual([`${x.database}_owner`]);
  });

  it('guards: prod needs --force on top of the typed name; a new database is always allowed', () => {
    expect(() => restoreGuard({ targetKind: 'prod', database: 'app', into: { kind: 'existing' }, confirm: 'app' })).toThrow(/refusing to restore over the prod database app without --force/);
    expect(() => restoreGuard({ targetKind: 'prod', database: 'app', into: { kind: 'existing' }, confirm: 'app', force: true })).not.toThrow();
    expect(() => restoreGuard({ targetKind: 'prod', database: 'app', into: { kind: 'existing' }, force: true })).toThrow(/typed confirmation/);
    expect(() => restoreGuard({ targetKind: 'prod', database: 'app', into: { kind: 'new' } })).not.toThrow();
    expect(() => restoreGuard({ targetKind: 'local', database: 'app', into: { kind: 'existing' }, confirm: 'app' })).not.toThrow();
  });

  it('verify-backup marks the manifest verified, records a row-count mismatch as a failure, and always drops the scratch database', async () => {
    const db = await provisionBackupDatabase('ver');
    await seed(db.admin, 6);
    const ops = testOpsConfig();
    const target = await openBackupTarget(db);
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
