import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pgAdmin, provisionDatabase, withSql } from '../test/db.ts';
import { secretUrl } from '../core/db/url.ts';
import { LocalStorage } from '../core/backup/storage/index.ts';
import { clusterAdmin, expectMadeBy17, localBackupDir, provisionBackupDatabase, type BackupDatabase } from '../test/backups.ts';
import { installedToolsBin } from '../test/pg-tools.ts';
import { exitOf, runCli, runCliAsNobody, runCliOnTty, spawnCli, waitFor } from '../test/cli.ts';

const oneLine = (s: string) => s.trim().split('\n').length === 1;

/** A database big enough that pg_dump is still writing when the test interrupts it (~13 MB of barely compressible text). */
let big: BackupDatabase;
let dir: string;

beforeAll(async () => {
  big = await provisionBackupDatabase('kill');
  await withSql(big.admin, (sql) =>
    sql.unsafe(`set role ${big.database}_owner;
      create table bulk (id int primary key, payload text not null);
      insert into bulk select i, md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) from generate_series(1, 100000) i;`),
  );
  dir = localBackupDir(big);
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

describe('backup-db interrupted (PostgreSQL 17, pg_dump 17)', () => {
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
    expectMadeBy17(manifest);
    expect(manifest.tables['public.bulk']).toBe(100000);
    expect(partials()).toEqual([]);
    expect(visible().sort()).toEqual([manifest.name, manifest.name.replace(/\.dump$/, '.json')]);
  });

  it('SIGTERM mid-way stops pg_dump, removes the partial file and exits 143 with one line', async () => {
    const before = visible();
    const child = spawnCli('ops/backup-db.ts', [], big.env);
    await waitFor(() => partialBytes() > 0, 30_000, 'pg_dump to start writing');
    child.kill('SIGTERM');
    const { code } = await exitOf(child);
    expect(code).toBe(143);
    expect(child.output.stderr.split('\n').filter((l) => l.startsWith('error:'))).toEqual(['error: backup interrupted (SIGTERM); the partial dump was removed; run the backup again']);
    expect(partials()).toEqual([]);
    expect(visible()).toEqual(before);
  });
});

describe('backup-db command', () => {
  it('against PostgreSQL 17 with only pg_dump 15: exit 2, one clear line, nothing written, no password', async () => {
    const db = await provisionDatabase('cli17');
    const url = secretUrl({ ...pgAdmin(), password: undefined });
    // A state folder without installed tools: the search reaches Debian's /usr/lib/postgresql/15 only.
    const home = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-cli17-'));
    const r = await runCli('ops/backup-db.ts', ['--target', 'dev', '--url', url, '--database', db.database], { PGSTEWARD_HOME: home, PGPASSWORD: pgAdmin().password, DB_BACKUP_PASSWORD: db.passwords.backup });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(/^error: pg_dump 15\.\d+ cannot dump PostgreSQL 17\.\d+; install postgresql-client-17 or set PG_BIN\n$/);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toContain(pgAdmin().password!);
    expect(r.stderr).not.toContain(db.passwords.backup);
    expect(existsSync(path.join(home, 'backups', 'dev', db.database))).toBe(false);
  });

  it('bad flags and config are one-line errors with exit 2', async () => {
    const db = await provisionBackupDatabase('flags');
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

describe('backup-db under concurrency and with a bad storage folder (PostgreSQL 17, pg_dump 17)', () => {
  it('four backup-db runs started together all succeed; names taken in the same second get -2, -3, -4', async () => {
    const db = await provisionBackupDatabase('four');
    const dir = localBackupDir(db);
    let collided = false;
    // A round whose four start times straddle a second boundary proves less; try again (at most 3 rounds).
    for (let round = 0; round < 3 && !collided; round++) {
      const runs = await Promise.all(Array.from({ length: 4 }, () => runCli('ops/backup-db.ts', ['--json'], db.env, 120_000)));
      for (const r of runs) expect(r.code, r.stderr).toBe(0);
      for (const r of runs) expectMadeBy17(JSON.parse(r.stdout).manifest);
      const names = runs.map((r) => JSON.parse(r.stdout).manifest.name as string);
      expect(new Set(names).size).toBe(4);
      const byStamp = new Map<string, string[]>();
      for (const n of names) {
        const stamp = /^local-(\d{8}T\d{6}Z)/.exec(n)![1]!;
        byStamp.set(stamp, [...(byStamp.get(stamp) ?? []), n]);
      }
      for (const [stamp, group] of byStamp) {
        const expected = group.map((_, i) => (i === 0 ? `local-${stamp}.dump` : `local-${stamp}-${i + 1}.dump`));
        expect(group.sort()).toEqual(expected.sort());
        if (group.length > 1) collided = true;
      }
      for (const n of names) expect(existsSync(path.join(dir, n.replace(/\.dump$/, '.json')))).toBe(true);
    }
    expect(collided, 'no round had two backups in the same second').toBe(true);
  });

  it('a read-only or missing storage folder is one line with its fix, for an ordinary user', async () => {
    const db = await provisionBackupDatabase('rofs');
    const home = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-ro-'));
    chmodSync(home, 0o755);
    const ro = path.join(home, 'readonly');
    mkdirSync(path.join(ro, db.database), { recursive: true });
    chmodSync(ro, 0o555);
    chmodSync(path.join(ro, db.database), 0o555);
    const config = (dir: string) => {
      const f = path.join(home, `config-${path.basename(dir)}.json`);
      writeFileSync(f, JSON.stringify({ backups: { targets: { dev: { storage: { dir } } } } }));
      chmodSync(f, 0o644);
      return f;
    };
    const env = { PGSTEWARD_HOME: home, DB_TARGET: 'dev', DATABASE_URL: secretUrl(clusterAdmin(db.database)), DB_NAME: db.database, DB_BACKUP_PASSWORD: db.passwords.backup, PG_BIN: installedToolsBin(17) };

    const readOnly = await runCliAsNobody('ops/backup-db.ts', [], { ...env, PGSTEWARD_CONFIG: config(ro) });
    expect(readOnly.code).toBe(2);
    expect(readOnly.stderr.split('\n').filter((l) => l.startsWith('error:'))).toEqual([
      `error: backup storage folder ${path.join(ro, db.database)} is not writable (permission denied); make it writable for this user, or point backups.targets.dev.storage.dir at another folder; nothing was stored`,
    ]);
    const missing = path.join(ro, 'not-there');
    const gone = await runCliAsNobody('ops/backup-db.ts', [], { ...env, PGSTEWARD_CONFIG: config(missing) });
    expect(gone.code).toBe(2);
    expect(gone.stderr.split('\n').filter((l) => l.startsWith('error:'))).toEqual([
      `error: backup storage folder ${path.join(missing, db.database)} does not exist and cannot be created (permission denied); create it (mkdir -p ${path.join(missing, db.database)}) for this user, or point backups.targets.dev.storage.dir at another folder; nothing was stored`,
    ]);
    expect(readdirSync(path.join(ro, db.database))).toEqual([]);
  });
});

describe('Ctrl-C at a confirmation prompt', () => {
  it.each([
    ['reset-db', [] as string[]],
    ['restore-db', ['--into-existing']],
  ])('%s says "cancelled; nothing was changed" and exits 130', async (cmd, args) => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-tty-'));
    const r = await runCliOnTty(`ops/${cmd}.ts`, args, { PGSTEWARD_HOME: home, DB_NAME: 'app' }, /Type the database name to confirm: /, '\u0003');
    expect(r.code).toBe(130);
    expect(r.output).toMatch(/error: cancelled; nothing was changed\r?\n/);
    expect(r.output).not.toMatch(/this is a bug/);
  });
});
