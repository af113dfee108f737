import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupDatabase } from './backup.ts';
import { sha256File } from './files.ts';
import { parseManifest } from './manifest.ts';
import { openStorage } from './storage/index.ts';
import { UserError } from '../errors.ts';
import { expectMadeBy17, openBackupTarget, provisionBackupDatabase, seed, testOpsConfig } from '../../test/backups.ts';
import { withSql } from '../../test/db.ts';

describe('backupDatabase (PostgreSQL 17, pg_dump 17 from npm run pg-tools)', () => {
  it('writes a custom-format dump and a manifest with versions, counts, size and SHA-256', async () => {
    const db = await provisionBackupDatabase('bk');
    await seed(db.admin, 5);
    const ops = testOpsConfig();
    const target = await openBackupTarget(db);
    const { location, manifest } = await backupDatabase(target, { ops });
    expect(path.basename(location)).toMatch(/^local-\d{8}T\d{6}Z\.dump$/);
    expect(location.startsWith(path.join(ops.stateDir, 'backups', 'local', db.database))).toBe(true);
    const onDisk = parseManifest(readFileSync(location.replace(/\.dump$/, '.json'), 'utf8'), 'test');
    expect(onDisk).toEqual(manifest);
    const { sha256, bytes } = await sha256File(location);
    expect(manifest.sha256).toBe(sha256);
    expect(manifest.bytes).toBe(bytes);
    expect(readFileSync(location).subarray(0, 5).toString()).toBe('PGDMP');
    expectMadeBy17(manifest);
    expect(manifest.pgDump.placement).toBe('host');
    expect(manifest.lastMigration).toBe('4');
    expect(manifest.tables['public.users']).toBe(5);
    expect(manifest.tables['public.user_roles']).toBe(10);
    expect(manifest.tables['public.roles']).toBe(4);
    expect(manifest.tables['public._sqlx_migrations']).toBe(4);
    expect(manifest.verified).toBe(false);
    expect(Date.parse(manifest.finishedAt)).toBeGreaterThanOrEqual(Date.parse(manifest.startedAt));
    // nothing but the dump and its manifest is left in the folder
    expect(readdirSync(path.dirname(location)).sort()).toEqual([path.basename(location), path.basename(location).replace(/\.dump$/, '.json')]);
    const listing = await openStorage(ops.targets.local, { kind: 'local', database: db.database, stateDir: ops.stateDir }).list();
    expect(listing.backups.map((b) => b.name)).toEqual([manifest.name]);
  });

  it('runs pg_dump as the least-privilege backup role, never silently as the superuser', async () => {
    const db = await provisionBackupDatabase('bkrole');
    const ops = testOpsConfig();
    const target = await openBackupTarget(db);
    const dir = path.join(ops.stateDir, 'backups', 'local', db.database);
    const noPassword = { ...target, config: { ...target.config, rolePasswords: {} }, cluster: undefined };
    const refused = await backupDatabase(noPassword, { ops }).catch((e: UserError) => e);
    expect(refused).toBeInstanceOf(UserError);
    expect((refused as UserError).line).toMatch(/password of the backup role .*_backup is not known; set DB_BACKUP_PASSWORD/);

    // Take a table away from the backup role: the dump must fail, which it would not as a superuser.
    await withSql(db.admin, (sql) => sql.unsafe(`revoke select on phrases from ${db.database}_backup`));
    const denied = await backupDatabase(target, { ops }).catch((e: UserError) => e);
    expect((denied as UserError).line).toMatch(/permission denied for table phrases/);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);

    await withSql(db.admin, (sql) => sql.unsafe(`grant select on phrases to ${db.database}_backup`));
    const { manifest } = await backupDatabase(target, { ops, label: 'manual' });
    expectMadeBy17(manifest);
    expect(manifest.name).toMatch(/^local-\d{8}T\d{6}Z-manual\.dump$/);
    expect(readdirSync(dir).sort()).toEqual([manifest.name, manifest.name.replace(/\.dump$/, '.json')]);
  });
});
