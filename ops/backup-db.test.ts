import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pgAdmin, provisionDatabase, withSql } from '../test/db.ts';
import { secretUrl } from '../core/db/url.ts';
import { LocalStorage } from '../core/backup/storage/index.ts';
import { pg15, provisionPg15, type Pg15Database } from '../test/pg15.ts';
import { exitOf, runCli, spawnCli, waitFor } from '../test/cli.ts';

const oneLine = (s: string) => s.trim().split('\n').length === 1;

/** A database big enough that pg_dump is still writing when the test interrupts it (~13 MB of barely compressible text). */
let big: Pg15Database;
let dir: string;

beforeAll(async () => {
  big = await provisionPg15('kill');
  await withSql(big.admin, (sql) =>
    sql.unsafe(`set role ${big.database}_owner;
      create table bulk (id int primary key, payload text not null);
      insert into bulk select i, md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) from generate_series(1, 100000) i;`),
  );
  dir = path.join(pg15().stateDir, 'backups', 'local', big.database);
});

const visible = () => (existsSync(dir) ? readdirSync(dir).filter((f) => !f.startsWith('.')) : []);
const partials = () => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.partial')) : []);
function partialBytes(): number {
  let n = 0;
  for (const f of partials()) {
    try {
      n += statSync(path.join(dir, f)).size;
    } catch {
      // renamed or removed between listing and stat
    }
  }
  return n;
}

describe('backup-db interrupted', () => {
  it('killed mid-way (SIGKILL) leaves no dump under its final name; the next backup sweeps the partial file', async () => {
    const child = spawnCli('ops/backup-db.ts', [], big.env);
    await waitFor(() => partialBytes() > 0, 30_000, 'pg_dump to start writing');
    child.kill('SIGKILL');
    await exitOf(child);
    expect(partials()).toHaveLength(1);
    expect(visible()).toEqual([]);
    expect((await new LocalStorage(dir).list()).backups).toEqual([]);

    const again = await runCli('ops/backup-db.ts', ['--json'], big.env, 120_000);
    expect(again.code).toBe(0);
    const { manifest } = JSON.parse(again.stdout);
    expect(manifest.tables['public.bulk']).toBe(100000);
    expect(partials()).toEqual([]);
    expect(visible().sort()).toEqual([manifest.name, manifest.name.replace(/\.dump$/, '.json')]);
  });

  it('SIGTERM mid-way stops pg_dump, removes the partial file and exits 2 with one line', async () => {
    const before = visible();
    const child = spawnCli('ops/backup-db.ts', [], big.env);
    await waitFor(() => partialBytes() > 0, 30_000, 'pg_dump to start writing');
    child.kill('SIGTERM');
    const { code } = await exitOf(child);
    expect(code).toBe(2);
    expect(child.output.stderr.split('\n').filter((l) => l.startsWith('error:'))).toEqual(['error: backup interrupted; the partial dump was removed; run the backup again']);
    expect(partials()).toEqual([]);
    expect(visible()).toEqual(before);
  });
});

describe('backup-db command', () => {
  it('against PostgreSQL 17 with only pg_dump 15: exit 2, one clear line, nothing written, no password', async () => {
    const db = await provisionDatabase('cli17');
    const url = secretUrl({ ...pgAdmin(), password: undefined });
    const r = await runCli('ops/backup-db.ts', ['--target', 'dev', '--url', url, '--database', db.database], { PGSTEWARD_HOME: pg15().stateDir, PGPASSWORD: pgAdmin().password, DB_BACKUP_PASSWORD: db.passwords.backup });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(/^error: pg_dump 15\.\d+ cannot dump PostgreSQL 17\.\d+; install postgresql-client-17 or set PG_BIN\n$/);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toContain(pgAdmin().password!);
    expect(r.stderr).not.toContain(db.passwords.backup);
    expect(existsSync(path.join(pg15().stateDir, 'backups', 'dev', db.database))).toBe(false);
  });

  it('bad flags and config are one-line errors with exit 2', async () => {
    const db = await provisionPg15('flags');
    const bad = await runCli('ops/backup-db.ts', ['--lable', 'x'], db.env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: backup-db: Unknown option '--lable'; see backup-db --help\n$/);
    const label = await runCli('ops/backup-db.ts', ['--label', 'Not OK!'], db.env);
    expect(label.code).toBe(2);
    expect(label.stderr).toMatch(/invalid backup label "Not OK!"; use 1-40 lower-case letters/);
    const cfg = await runCli('ops/backup-db.ts', ['--config', '/nonexistent/pgsteward.json'], db.env);
    expect(cfg.code).toBe(2);
    expect(cfg.stderr).toMatch(/^error: config file \/nonexistent\/pgsteward.json does not exist; check the --config path or PGSTEWARD_CONFIG\n$/);
    const help = await runCli('ops/backup-db.ts', ['--help'], db.env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--label TEXT');
  });
});
