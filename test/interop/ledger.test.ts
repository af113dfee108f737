import { appendFileSync, cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runChecks } from '../../checks/suite.ts';
import { readMigrationFolder, type Migration } from '../../core/migrations/files.ts';
import { MIGRATIONS_DIR } from '../../core/paths.ts';
import { withSql } from '../db.ts';
import {
  emptyDatabase,
  FIXTURE_MIGRATIONS,
  ledger,
  NO_TRANSACTION_MIGRATIONS,
  ownership,
  rolesFirst,
  setupDb,
  sqlxApp,
  sqlxMigrate,
  tools,
  type InteropDatabase,
} from './sqlx.ts';

/**
 * Issue 18 §2 tests 1-4, 6 and 7: the shared ledger proved against sqlx itself, the real
 * sqlx-cli 0.8.6 and a Rust application calling sqlx 0.8.6's `sqlx::migrate!()`, on the suite's
 * PostgreSQL 17. Test 5 (concurrency) is in concurrency.test.ts.
 */

const ours = readMigrationFolder(MIGRATIONS_DIR).migrations;
const fixture = readMigrationFolder(FIXTURE_MIGRATIONS).migrations;

const ledgerOf = (ms: readonly Migration[]) => ms.map((m) => ({ version: String(m.version), description: m.description, success: true, checksum: m.checksum.toString('hex') }));
const installed = (ms: readonly Migration[]) => ms.map((m) => `${m.version}/installed ${m.description}\n`).join('');
const appliedByCli = (ms: readonly Migration[]) => ms.map((m) => `Applied ${m.version}/migrate ${m.description}`);
const withoutTimes = (stdout: string) => stdout.trimEnd().split('\n').filter(Boolean).map((l) => l.replace(/ \([\d.]+[µnm]?s\)$/, ''));

/** When each ledger row was written: unchanged means nobody applied anything again. */
const installedOn = (db: InteropDatabase) => withSql(db.as(), (sql) => sql`select version::text, installed_on::text from _sqlx_migrations order by version`);

beforeEach(() => {
  tools(); // no sqlx toolchain: every test here fails with the one line that says why
});

describe('1. our setup-db first, then sqlx', () => {
  it('sqlx migrate info --source migrations (as the migrator) lists every migration installed; sqlx migrate run and sqlx::migrate!() apply nothing', async () => {
    const db = await emptyDatabase('io1');
    const setup = await setupDb(db, 'migrations');
    expect(setup.code, setup.stderr).toBe(0);
    const before = await installedOn(db);

    const info = await sqlxMigrate('info', MIGRATIONS_DIR, db.url('migrator'));
    expect(info.code, info.stdout).toBe(0);
    expect(info.stdout).toBe(installed(ours));
    const run = await sqlxMigrate('run', MIGRATIONS_DIR, db.url('migrator'));
    expect(run).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const app = await sqlxApp('ours', db.url('migrator'));
    expect(app).toMatchObject({ code: 0, stdout: `applied 0, ${ours.length} already applied\n`, stderr: '' });
    expect(await installedOn(db)).toEqual(before);
    expect(await ledger(db)).toEqual(ledgerOf(ours));
  });
});

describe('2. sqlx migrate run first (roles first, migrations as the migrator), then our setup-db', () => {
  it('setup-db says applied 0, N already applied, and our checks pass', async () => {
    const db = await rolesFirst('io2');
    const run = await sqlxMigrate('run', MIGRATIONS_DIR, db.url('migrator'));
    expect(run.code, run.stdout).toBe(0);
    expect(withoutTimes(run.stdout)).toEqual(appliedByCli(ours));
    const before = await installedOn(db);

    const setup = await setupDb(db, 'migrations');
    expect(setup.stderr).toBe('');
    expect(setup.code).toBe(0);
    expect(setup.stdout.trimEnd().split('\n').at(-1)).toBe(`setup-db (dev/${db.database}): applied 0, ${ours.length} already applied`);
    expect(await installedOn(db)).toEqual(before);

    const report = await runChecks({ connection: db.as() });
    expect(report.results.filter((r) => r.status !== 'passed').map((r) => [r.id, r.error, r.findings])).toEqual([]);
    expect(report.ok).toBe(true);
  });
});

describe('3. the fixture application (reversible files) both ways', () => {
  it('sqlx migrate run first, then our take-over; sqlx::migrate!() agrees afterwards', async () => {
    const db = await rolesFirst('io3a');
    const run = await sqlxMigrate('run', FIXTURE_MIGRATIONS, db.url('migrator'));
    expect(withoutTimes(run.stdout)).toEqual(appliedByCli(fixture));
    const setup = await setupDb(db, FIXTURE_MIGRATIONS);
    expect(setup.code, setup.stderr).toBe(0);
    expect(setup.stdout.trimEnd().split('\n').at(-1)).toBe(`setup-db (dev/${db.database}): applied 0, ${fixture.length} already applied`);
    expect(await sqlxApp('fixture', db.url('migrator'))).toMatchObject({ code: 0, stdout: `applied 0, ${fixture.length} already applied\n` });
    expect(await ledger(db)).toEqual(ledgerOf(fixture));
  });

  it('our setup first, then sqlx migrate info agrees; a sqlx migrate revert runs a down, and the next setup-db applies that up again', async () => {
    const db = await emptyDatabase('io3b');
    const setup = await setupDb(db, FIXTURE_MIGRATIONS);
    expect(setup.code, setup.stderr).toBe(0);
    const info = await sqlxMigrate('info', FIXTURE_MIGRATIONS, db.url('migrator'));
    expect(info).toMatchObject({ code: 0, stdout: installed(fixture) });
    expect(await sqlxMigrate('run', FIXTURE_MIGRATIONS, db.url('migrator'))).toMatchObject({ code: 0, stdout: '' });
    expect(await sqlxApp('fixture', db.url('migrator'))).toMatchObject({ code: 0, stdout: `applied 0, ${fixture.length} already applied\n` });

    // sqlx, not us, runs the last down (a -- no-transaction DROP INDEX CONCURRENTLY) and deletes its row.
    const last = fixture.at(-1)!;
    const revert = await sqlxMigrate('revert', FIXTURE_MIGRATIONS, db.url('migrator'));
    expect(revert.code, revert.stdout).toBe(0);
    expect(withoutTimes(revert.stdout)).toEqual([`Applied ${last.version}/revert ${last.description}`]);
    const index = () => withSql(db.as(), (sql) => sql`select to_regclass('public.idx_sessions_user_id')::text as i`.then((r) => r[0]!.i));
    expect(await index()).toBeNull();
    const again = await setupDb(db, FIXTURE_MIGRATIONS, ['--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).migrations.applied.map((a: { version: string }) => a.version)).toEqual([String(last.version)]);
    expect(await index()).toBe('idx_sessions_user_id');
    expect(await ledger(db)).toEqual(ledgerOf(fixture));
    expect(await sqlxMigrate('info', FIXTURE_MIGRATIONS, db.url('migrator'))).toMatchObject({ code: 0, stdout: installed(fixture) });
  });
});

describe('4. checksum drift: an applied file edited', () => {
  it('sqlx migrate run, sqlx::migrate!() and our setup-db all refuse, naming the same version', async () => {
    const edited = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-drift-'));
    cpSync(FIXTURE_MIGRATIONS, edited, { recursive: true });
    const target = fixture.find((m) => m.description === 'create sessions')!;
    appendFileSync(path.join(edited, target.file), 'CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);\n');

    // The database applied the folder as committed; the local copy has been edited since.
    const db = await emptyDatabase('io4');
    expect((await setupDb(db, FIXTURE_MIGRATIONS)).code).toBe(0);
    const cli = await sqlxMigrate('run', edited, db.url('migrator'));
    expect(cli).toMatchObject({ code: 1, stdout: `error: migration ${target.version} was previously applied but has been modified\n` });
    const info = await sqlxMigrate('info', edited, db.url('migrator'));
    expect(info.stdout).toContain(`${target.version}/installed (different checksum) ${target.description}\n`);
    const setup = await setupDb(db, edited);
    expect(setup.code).toBe(2);
    expect(setup.stderr).toBe(
      `error: refusing to migrate: migration ${target.version} (${target.file}) was changed after it was applied (checksum differs); restore the file as applied and put the change in a new migration\n`,
    );

    // The other way round: the database applied the edited copy; the app embeds the file as committed.
    const other = await rolesFirst('io4b');
    expect((await sqlxMigrate('run', edited, other.url('migrator'))).code).toBe(0);
    const app = await sqlxApp('fixture', other.url('migrator'));
    expect(app).toMatchObject({ code: 1, stderr: `error: migration ${target.version} was previously applied but has been modified\n` });
    expect((await setupDb(other, FIXTURE_MIGRATIONS)).stderr).toMatch(new RegExp(`^error: refusing to migrate: migration ${target.version} \\(`));
  });
});

describe('6. -- no-transaction files behave the same under both', () => {
  /** What a run left: the ledger, the indexes and whether they are valid, the rows. */
  const state = (db: InteropDatabase) =>
    withSql(db.as(), async (sql) => ({
      ledger: await ledger(db),
      indexes: await sql`select c.relname::text as name, i.indisvalid as valid from pg_index i join pg_class c on c.oid = i.indexrelid where i.indrelid = 'public.accounts'::regclass order by 1`,
      rows: (await sql`select count(*)::int as n from accounts`)[0]!.n,
    }));

  it('one that succeeds and one that fails halfway: sqlx-cli, sqlx::migrate!() and setup-db leave the same ledger and the same invalid index', async () => {
    const [cliDb, appDb, oursDb] = await Promise.all([rolesFirst('io6c'), rolesFirst('io6a'), rolesFirst('io6o')]);
    const cli = await sqlxMigrate('run', NO_TRANSACTION_MIGRATIONS, cliDb.url('migrator'));
    const app = await sqlxApp('no-transaction', appDb.url('migrator'));
    const setup = await setupDb(oursDb, NO_TRANSACTION_MIGRATIONS);
    const failed = 'error: while executing migration 3: error returned from database: could not create unique index "accounts_email_key"';
    expect(cli).toMatchObject({ code: 1, stdout: expect.stringContaining(`\n${failed}\n`) });
    expect(app).toMatchObject({ code: 1, stderr: `${failed}\n` });
    expect(setup.code).toBe(2);
    expect(setup.stderr).toMatch(/^error: migration 3 \(3_accounts_email_key\.sql\) failed: could not create unique index "accounts_email_key"; it runs outside a transaction \(-- no-transaction\), so it left the invalid index public\.accounts_email_key; /);
    const expected = {
      ledger: ledgerOf(readMigrationFolder(NO_TRANSACTION_MIGRATIONS).migrations.slice(0, 2)),
      indexes: [
        { name: 'accounts_email_idx', valid: true },
        { name: 'accounts_email_key', valid: false },
        { name: 'accounts_pkey', valid: true },
      ],
      rows: 3,
    };
    expect(await state(cliDb)).toEqual(expected);
    expect(await state(appDb)).toEqual(expected);
    expect(await state(oursDb)).toEqual(expected);
  });

  it('a file whose statements PostgreSQL runs as one implicit transaction is refused by both, and its first statement is rolled back', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-notx-'));
    cpSync(path.join(NO_TRANSACTION_MIGRATIONS, '1_accounts.sql'), path.join(dir, '1_accounts.sql'));
    writeFileSync(path.join(dir, '2_backfill_and_index.sql'), "-- no-transaction\nINSERT INTO accounts VALUES (4, 'linus@example.test');\nCREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);\n");
    const [cliDb, oursDb] = await Promise.all([rolesFirst('io6m'), rolesFirst('io6n')]);
    const cli = await sqlxMigrate('run', dir, cliDb.url('migrator'));
    const setup = await setupDb(oursDb, dir);
    expect(cli).toMatchObject({ code: 1, stdout: expect.stringContaining('error: while executing migration 2: error returned from database: CREATE INDEX CONCURRENTLY cannot run inside a transaction block\n') });
    expect(setup.code).toBe(2);
    expect(setup.stderr).toMatch(/^error: migration 2 \(2_backfill_and_index\.sql\) failed: CREATE INDEX CONCURRENTLY cannot run inside a transaction block; /);
    for (const db of [cliDb, oursDb]) {
      expect(await state(db)).toEqual({ ledger: ledgerOf(readMigrationFolder(dir).migrations.slice(0, 1)), indexes: [{ name: 'accounts_pkey', valid: true }], rows: 3 });
    }
  });
});

describe('7. the app role', () => {
  const denied = 'error: while executing migrations: error returned from database: permission denied for schema public\n';

  it('sqlx::migrate!() as <db>_app fails with permission denied, on a fresh database and on a migrated one', async () => {
    const fresh = await rolesFirst('io7f');
    expect(await sqlxApp('fixture', fresh.url('app'))).toMatchObject({ code: 1, stdout: '', stderr: denied });
    expect(await ledger(fresh)).toEqual([]);
    // The CLI as the app role prints the same line, on stdout.
    expect(await sqlxMigrate('info', FIXTURE_MIGRATIONS, fresh.url('app'))).toMatchObject({ code: 1, stdout: denied });
    expect(await sqlxMigrate('run', FIXTURE_MIGRATIONS, fresh.url('app'))).toMatchObject({ code: 1, stdout: denied });
    const migrated = await emptyDatabase('io7m');
    expect((await setupDb(migrated, FIXTURE_MIGRATIONS)).code).toBe(0);
    // Even with nothing pending: sqlx's first statement is CREATE TABLE IF NOT EXISTS _sqlx_migrations.
    expect(await sqlxApp('fixture', migrated.url('app'))).toMatchObject({ code: 1, stdout: '', stderr: denied });
  });

  it('as <db>_migrator it works, the objects belong to <db>_owner, and the app role can use them', async () => {
    const db = await rolesFirst('io7o');
    const app = await sqlxApp('fixture', db.url('migrator'));
    expect(app).toMatchObject({ code: 0, stderr: '' });
    expect(app.stdout.trimEnd().split('\n').at(-1)).toBe(`applied ${fixture.length}, 0 already applied`);
    const owners = await withSql(db.as(), ownership);
    expect(owners.length).toBeGreaterThan(20);
    expect([...new Set(owners.map((o) => o.owner))]).toEqual([db.roles.owner]);
    await withSql(db.as('app'), async (sql) => {
      const [u] = await sql`insert into users (email, slug) values ('ada@example.test', 'ada') returning id`;
      await sql`insert into user_roles (user_id, role_id) select ${u!.id}, id from roles where name = 'user'`;
      const denied = await sql`drop table login_events`.catch((e: { code: string }) => e.code);
      expect(denied).toBe('42501');
    });
  });
});
