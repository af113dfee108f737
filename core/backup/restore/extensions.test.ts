import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChecks } from '../../../checks/suite.ts';
import { createDatabase, pgAdmin, provisionDatabase, uniqueName, withSql } from '../../../test/db.ts';
import { installedToolsBin } from '../../../test/pg-tools.ts';
import { expectMadeBy17, seed, tableChecksums, testOpsConfig } from '../../../test/backups.ts';
import type { TargetConfig } from '../../config/target-settings.ts';
import { isUserError } from '../../errors.ts';
import { uuidV7Status } from '../../extensions/uuidv7.ts';
import { LocalCluster } from '../../local/cluster.ts';
import { freePort } from '../../local/ports.ts';
import { openTarget } from '../../open-target.ts';
import { backupDatabase } from '../backup.ts';
import { LocalStorage } from '../storage/index.ts';
import { verifyBackup } from '../verify.ts';
import { prepareExtensions } from './destination.ts';
import { restoreBackup } from './index.ts';
import { tocExtensions } from './toc.ts';

/**
 * pg_uuidv7 in the databases a restore or verify creates. Here the server has our SQL
 * pg_uuidv7 in share/extension (the local cluster's overlay), so the dump's own CREATE
 * EXTENSION provides it and the step before pg_restore has nothing to do; the pg_tle path
 * (RDS) is proven as the statements it plans (core/extensions/uuidv7.test.ts) and, here, by
 * what it refuses on servers that cannot give the dump what it needs.
 */

const LISTING_USES_UUIDV7 = ['; Selected TOC Entries:', '2; 3079 16388 EXTENSION - pg_uuidv7 ', '3280; 0 0 COMMENT - EXTENSION pg_uuidv7 '].join('\n');
const LISTING_REGISTERS_VIA_TLE = [
  '2; 3079 16386 EXTENSION - pg_tle ',
  '219; 1255 16386 FUNCTION pgtle pg_uuidv7.control() postgres',
  '220; 1255 16387 FUNCTION pgtle pg_uuidv7--1.6.sql() postgres',
  '3; 3079 16388 EXTENSION - pg_uuidv7 ',
].join('\n');

async function pg17Target(prefix: string) {
  const db = await provisionDatabase(prefix);
  const config: TargetConfig = {
    kind: 'dev',
    database: db.database,
    stateDir: mkdtempSync(path.join(os.tmpdir(), 'pgsteward-uv7-')),
    pool: { max: 10, min: 2, instances: 1 },
    admin: db.as(),
    local: { binDir: undefined, dataDir: undefined, port: 54317 },
    rolePasswords: db.passwords,
  };
  return { db, target: await openTarget(config) };
}

describe('a backup of a database using pg_uuidv7, on PostgreSQL 17 with the 17 tools', () => {
  it('restores into a new database that has pg_uuidv7, and verify passes', async () => {
    const { db, target } = await pg17Target('uv7');
    await seed(db.as(), 5);
    const env = { ...process.env, PG_BIN: installedToolsBin(17) };
    const ops = testOpsConfig();
    const { manifest, location } = await backupDatabase(target, { ops, env });
    expectMadeBy17(manifest);

    const listing = execFileSync(path.join(installedToolsBin(17), 'pg_restore'), ['--list', location], { encoding: 'utf8' });
    expect(tocExtensions(listing)).toEqual({ created: expect.arrayContaining(['pg_uuidv7']), registeredViaPgTle: [] });

    const storage = new LocalStorage(path.dirname(location));
    const report = await restoreBackup(target, { source: { storage }, into: { kind: 'new' }, checks: runChecks, ops, env });
    expect(report.ok).toBe(true);
    const restored = pgAdmin(report.destination.database);
    expect(await withSql(restored, uuidV7Status)).toEqual({ schema: 'public', version: '1.6', implementation: 'sql' });
    expect(await tableChecksums(restored)).toEqual(await tableChecksums(db.as()));
    // New rows still get their ids from uuid_generate_v7() in the restored database.
    await withSql(restored, (sql) => sql.unsafe(`insert into users (email, slug) values ('new@example.test', 'new')`));

    const v = await verifyBackup(target, { storage, checks: runChecks, ops, env });
    expect(v.backup).toBe(manifest.name);
    expect(v.verification).toMatchObject({ ok: true, error: undefined });
  }, 120_000);
});

describe('prepareExtensions: before pg_restore, against real servers', () => {
  it('where share/extension has pg_uuidv7: does nothing and leaves creating it to the dump', async () => {
    const name = await createDatabase('uv7prep');
    expect(await prepareExtensions(pgAdmin(name), LISTING_USES_UUIDV7)).toEqual({ uuidv7: 'none' });
    expect(await withSql(pgAdmin(name), uuidV7Status)).toBeUndefined();
    expect(await prepareExtensions(pgAdmin(name), '2; 3079 16386 EXTENSION - pg_trgm ')).toEqual({ uuidv7: undefined });
  });

  it('refuses a dump that registers pg_uuidv7 through pg_tle on a server without pg_tle, in one line, before pg_restore', async () => {
    const name = await createDatabase('uv7prep');
    const e = await prepareExtensions(pgAdmin(name), LISTING_REGISTERS_VIA_TLE).catch((x: unknown) => x);
    expect(isUserError(e)).toBe(true);
    expect((e as { line: string }).line).toBe(
      "cannot restore a backup that uses pg_uuidv7 here: the backup registers pg_uuidv7 through pg_tle, and this server does not offer pg_tle; restore it on a server that loads pg_tle (shared_preload_libraries = 'pg_tle'; on RDS, in the DB parameter group)",
    );
  });

  describe('on a server with neither pg_uuidv7 nor pg_tle', () => {
    let stateDir: string;
    let cluster: LocalCluster;
    beforeAll(async () => {
      stateDir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-nouuid-restore-'));
      cluster = await LocalCluster.open({ stateDir, port: await freePort(), bundled: [] });
      await cluster.init();
      await cluster.start();
    }, 60_000);
    afterAll(async () => {
      await cluster?.stop().catch(() => {});
      rmSync(stateDir, { recursive: true, force: true });
    });

    it('refuses a dump that uses pg_uuidv7 with the one line naming both choices, and lets any other dump through', async () => {
      const name = uniqueName('bare');
      await withSql(cluster.adminSettings(), (sql) => sql.unsafe(`CREATE DATABASE ${name}`));
      const e = await prepareExtensions(cluster.adminSettings(name), LISTING_USES_UUIDV7).catch((x: unknown) => x);
      expect(isUserError(e)).toBe(true);
      expect((e as { line: string }).line).toMatch(/^cannot restore a backup that uses pg_uuidv7 here: the server offers neither the pg_uuidv7 extension nor pg_tle.*; install pg_uuidv7 on the server .*, or enable pg_tle/);
      expect(await prepareExtensions(cluster.adminSettings(name), '2; 3079 16386 EXTENSION - pg_trgm ')).toEqual({ uuidv7: undefined });
    });
  });
});
