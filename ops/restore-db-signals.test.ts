import { readFileSync } from 'node:fs';
import os from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import { markerText } from '../core/db/scratch-marker.ts';
import { ident, literal } from '../core/db/connect.ts';
import { clusterAdmin, expectMadeBy17, provisionBackupDatabase, tableChecksums, type BackupDatabase } from '../test/backups.ts';
import { exitOf, runCli, spawnCli, waitFor } from '../test/cli.ts';
import { withSql } from '../test/db.ts';

/** A database whose restore takes long enough to interrupt (~20 MB of barely compressible text). */
let big: BackupDatabase;
let dump: { location: string; manifest: { name: string; server: { version: string; major: number }; pgDump: { version: string; major: number } } };

beforeAll(async () => {
  big = await provisionBackupDatabase('intr');
  await withSql(big.admin, (sql) =>
    sql.unsafe(`set role ${big.database}_owner;
      create table bulk (id int primary key, payload text not null);
      insert into bulk select i, md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) from generate_series(1, 150000) i;`),
  );
  const b = await runCli('ops/backup-db.ts', ['--json'], big.env, 120_000);
  expect(b.code).toBe(0);
  dump = JSON.parse(b.stdout);
  expectMadeBy17(dump.manifest);
}, 240_000);

const databases = () => withSql(clusterAdmin(), async (sql) => (await sql<{ d: string }[]>`select datname as d from pg_database where datname like ${big.database + '%'} order by 1`).map((r) => r.d));
/** pg_restore (application name `pgsteward restore`) connected to one of this run's scratch databases. */
const restoring = () =>
  withSql(clusterAdmin(), async (sql) => (await sql`select 1 from pg_stat_activity where datname like ${big.database.slice(0, 24) + '\\_%\\_2%'} and application_name = 'pgsteward restore'`).length > 0);
const sessionsOn = (db: string) => withSql(clusterAdmin(), async (sql) => (await sql`select 1 from pg_stat_activity where datname = ${db}`).length);
const errorLines = (s: string) => s.split('\n').filter((l) => l.startsWith('error:'));
const manifestText = () => readFileSync(dump.location.replace(/\.dump$/, '.json'), 'utf8');

describe('verify-backup and restore-db interrupted (PostgreSQL 17, pg_dump/pg_restore 17)', () => {
  it.each([
    ['verify-backup', 'SIGTERM', 143, [] as string[]],
    ['verify-backup', 'SIGINT', 130, []],
    ['restore-db', 'SIGTERM', 143, ['--into-existing', '--confirm']],
    ['restore-db', 'SIGINT', 130, []],
  ] as const)('%s on %s drops what it created, prints one line and exits %i', async (cmd, signal, code, extra) => {
    const before = await databases();
    const data = await tableChecksums(big.admin);
    const manifest = manifestText();
    const args = extra.length ? [...extra, big.database] : [];
    const child = spawnCli(`ops/${cmd}.ts`, args, big.env);
    await waitFor(restoring, 60_000, 'pg_restore to start');
    child.kill(signal);
    const exit = await exitOf(child);
    expect(exit.code).toBe(code);
    expect(errorLines(child.output.stderr)).toHaveLength(1);
    expect(errorLines(child.output.stderr)[0]).toMatch(new RegExp(`^error: (verification|restore) interrupted \\(${signal}\\)`));
    expect(child.output.stdout).toBe('');
    expect(await databases()).toEqual(before);
    expect(await tableChecksums(big.admin)).toEqual(data);
    expect(manifestText()).toBe(manifest);
  });

  it('SIGKILL leaves a marked scratch database; the next verify-backup removes it, and only it', async () => {
    const host = os.hostname();
    const decoys = {
      unmarked: `${big.database}_verify_20200101t000000z_dead`,
      otherHost: `${big.database}_verify_20200101t000000z_othr`,
      alive: `${big.database}_verify_20200101t000000z_live`,
    };
    await withSql(clusterAdmin(), async (sql) => {
      for (const d of Object.values(decoys)) await sql.unsafe(`create database ${ident(d)}`);
      await sql.unsafe(`comment on database ${ident(decoys.unmarked)} is 'somebody else''s'`);
      await sql.unsafe(`comment on database ${ident(decoys.otherHost)} is ${literal(markerText({ purpose: 'verify', host: `${host}-elsewhere`, pid: 1, startedAt: new Date().toISOString() }))}`);
      await sql.unsafe(`comment on database ${ident(decoys.alive)} is ${literal(markerText({ purpose: 'verify', host, pid: process.pid, startedAt: new Date().toISOString() }))}`);
    });
    try {
      const before = await databases();
      const child = spawnCli('ops/verify-backup.ts', [], big.env);
      await waitFor(restoring, 60_000, 'pg_restore to start');
      child.kill('SIGKILL');
      await exitOf(child);
      const left = (await databases()).filter((d) => !before.includes(d));
      expect(left).toHaveLength(1);
      expect(left[0]).toMatch(/_verify_/);
      // pg_restore loses its parent's pipes and stops; then nobody is connected to the leftover
      await waitFor(async () => (await sessionsOn(left[0]!)) === 0, 60_000, 'the orphaned pg_restore to end');

      const again = await runCli('ops/verify-backup.ts', ['--json'], big.env, 180_000);
      // the table added for bulk fails some of our schema checks (exit 1); the restore itself must be complete
      expect([0, 1]).toContain(again.code);
      expect(JSON.parse(again.stdout).verification.rowCounts).toEqual({ tables: 10, mismatches: [] });
      expect(again.stderr).toContain(left[0]);
      expect(await databases()).toEqual(before);
      for (const d of Object.values(decoys)) expect(before).toContain(d);
    } finally {
      await withSql(clusterAdmin(), async (sql) => {
        for (const d of Object.values(decoys)) await sql.unsafe(`drop database if exists ${ident(d)}`);
      });
    }
  });
});
