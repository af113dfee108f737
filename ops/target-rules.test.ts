import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test/cli.ts';
import { pgAdmin, provisionDatabase, uniqueName, withSql, type ProvisionedDatabase } from '../test/db.ts';

/**
 * The target rules and the URL rule, end to end, as a user runs the commands: a disposable
 * target never reaches another machine, and the URL's path is the database every command acts on.
 */

const REMOTE = 'postgres://admin@db.prod.example.com/postgres';
const REMOTE_WITH_PASSWORD = 'postgres://admin:Sup3rSecretPw@db.prod.example.com/postgres';
let home: string;
let env: NodeJS.ProcessEnv;

/** The suite's PostgreSQL 17 as a URL without a password (it travels in PGPASSWORD, as the docs say). */
function url(database: string): string {
  const a = pgAdmin();
  return `postgres://${a.user}@127.0.0.1:${a.port}/${database}`;
}

beforeAll(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-rules-'));
  env = { PGSTEWARD_HOME: home, PGPASSWORD: pgAdmin().password, DB_TARGET: '', DATABASE_URL: '' };
});

const refusal = /^error: (--url|DATABASE_URL) points at db\.prod\.example\.com, but the (local|dev) target .*may only reach loopback or a Unix socket; nothing was done; /;

describe('destructive commands refuse a disposable target that points at another machine, before connecting', () => {
  it.each([
    ['reset-db', ['--target', 'local', '--url', REMOTE, '--yes'], {}],
    ['reset-db', ['--yes'], { DB_TARGET: 'local', DATABASE_URL: REMOTE_WITH_PASSWORD }],
    ['reset-db', ['--yes'], { DATABASE_URL: REMOTE_WITH_PASSWORD }],
    ['restore-db', ['--target', 'local', '--url', REMOTE, '--into-existing', '--confirm', 'app'], {}],
    ['restore-db', ['--into-existing', '--confirm', 'app'], { DB_TARGET: 'dev', DATABASE_URL: REMOTE_WITH_PASSWORD }],
    ['retention', ['--target', 'dev', '--url', REMOTE, '--keep-last', '1', '--min-age-hours', '0'], {}],
    ['retention', ['--keep-last', '1', '--min-age-hours', '0'], { DB_TARGET: 'local', DATABASE_URL: REMOTE_WITH_PASSWORD }],
  ] as const)('%s %j %j', async (command, args, extra) => {
    // Something retention could delete, to see that nothing is.
    const folder = path.join(home, 'backups', 'local', 'app');
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, 'local-20200101T000000Z.dump'), 'not really a dump');
    const before = readdirSync(folder);
    const r = await runCli(`ops/${command}.ts`, [...args], { ...env, ...extra });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(refusal);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
    expect(r.stderr + r.stdout).not.toContain('Sup3rSecretPw');
    expect(readdirSync(folder)).toEqual(before);
  });
});

describe('the URL path names the database, in every command', () => {
  let db: ProvisionedDatabase;
  let other: ProvisionedDatabase;
  beforeAll(async () => {
    [db, other] = await Promise.all([provisionDatabase('rt'), provisionDatabase('rtother')]);
    for (const d of [db, other]) await withSql(d.as(), (sql) => sql`insert into users (email, slug) values ('keep@example.test', 'keep')`);
  });
  // DB_NAME names another database: the URL, a flag, beats it.
  const run = (script: string, args: string[]) => runCli(script, [...args], { ...env, DB_NAME: other.database });

  it('setup-db sets up the database the URL names, creating it', async () => {
    const fresh = uniqueName('rtnew');
    const r = await run('ops/setup-db.ts', ['--target', 'dev', '--url', url(fresh), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.database).toBe(fresh);
    expect(out.databaseCreated).toBe(true);
  });

  it('status reports on it', async () => {
    const r = await run('ops/status.ts', ['--url', url(db.database), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.database).toBe(db.database);
    expect(out.target).toBe('dev');
    expect(out.migrations.pending).toEqual([]);
    expect(out.roles.missing).toEqual([]);
  });

  it('checks checks it', async () => {
    const r = await run('checks/cli.ts', ['--url', url(db.database), '--json', '--only', 'privileges']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).database).toBe(db.database);
  });

  it('backup-db, retention, cron and restore-db name it', async () => {
    const list = await run('ops/backup-db.ts', ['--url', url(db.database), '--list']);
    expect(list.stdout).toMatch(new RegExp(`^backups of dev/${db.database} in .*${db.database}:`));
    const retention = await run('ops/retention.ts', ['--url', url(db.database), '--dry-run']);
    expect(retention.stdout).toMatch(new RegExp(`^retention \\(dev/${db.database}\\)`));
    const cron = await run('ops/cron.ts', ['status', '--url', url(db.database)]);
    expect(cron.stdout).toMatch(new RegExp(`^cron status \\(dev/${db.database},`));
    const restore = await run('ops/restore-db.ts', ['--url', url(db.database), '--into-existing']);
    expect(restore.stderr).toMatch(new RegExp(`restoring over the existing database ${db.database} needs a typed confirmation`));
  });

  it('reset-db resets the database the URL names on a loopback server, and no other', async () => {
    const r = await run('ops/reset-db.ts', ['--target', 'local', '--url', url(db.database), '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).database).toBe(db.database);
    expect(await withSql(db.as(), (sql) => sql`select 1 from users where slug = 'keep'`)).toHaveLength(0);
    expect(await withSql(other.as(), (sql) => sql`select 1 from users where slug = 'keep'`)).toHaveLength(1);
  });

  it('refuses two different names for the database, and system databases', async () => {
    const two = await run('ops/status.ts', ['--url', url(db.database), '--database', other.database]);
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(new RegExp(`^error: --database names database "${other.database}" but the --url path names "${db.database}"; `));
    for (const system of ['template1', 'template0']) {
      const r = await run('ops/setup-db.ts', ['--target', 'dev', '--url', url(system)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^error: database name "${system}" is a system database; `));
    }
    for (const args of [['--database', 'postgres'], ['--database', 'pg_stuff']]) {
      const r = await run('ops/setup-db.ts', ['--target', 'dev', '--url', url('postgres'), ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^error: database name "(postgres" is a system database|pg_stuff" starts with pg_, which PostgreSQL reserves)/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    // nothing was installed in the maintenance database
    const [row] = await withSql(pgAdmin(), (sql) => sql`select to_regclass('public._sqlx_migrations') as ledger, pg_get_userbyid(datdba) as owner from pg_database where datname = 'postgres'`);
    expect(row).toEqual({ ledger: null, owner: pgAdmin().user });
  });

  it('warns when --url carries a password, and still works', async () => {
    const a = pgAdmin();
    const r = await runCli('ops/status.ts', ['--url', `postgres://${a.user}:${encodeURIComponent(a.password!)}@127.0.0.1:${a.port}/${db.database}`], { PGSTEWARD_HOME: home });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^warning: --url carries a password, which every local user can read from the process list; pass the URL in DATABASE_URL, or its password in PGPASSWORD\n$/);
    expect(r.stderr + r.stdout).not.toContain(a.password!);
  });

  it('gives a malformed percent-escape in the password one line with its fix', async () => {
    const r = await runCli('ops/status.ts', [], { PGSTEWARD_HOME: home, DB_TARGET: 'dev', DATABASE_URL: 'postgres://admin:abc%zzdef@127.0.0.1:1/app' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: DATABASE_URL has a malformed percent-escape in its password; percent-encode the special characters of the password \(% as %25/);
    expect(r.stderr).not.toContain('abc');
  });
});
