import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runChecks } from '../checks/suite.ts';
import type { ChecksReport } from '../checks/types.ts';
import { readSnapshot } from '../core/drift/snapshot.ts';
import { diffSnapshots } from '../core/drift/diff.ts';
import type { DriftFinding, Snapshot } from '../core/drift/model.ts';
import { folderNotes, readMigrationFolder } from '../core/migrations/files.ts';
import { REPO_ROOT } from '../core/paths.ts';
import { pgAdmin, withSql } from './db.ts';
import { loadProjectConfig } from '../core/config/project-config.ts';
import { emptyDatabase, FIXTURE_APP, FIXTURE_MIGRATIONS, ledger, ownership, plannedDatabase, rolesFirst, setupDb, setupEnv, sqlxApp, sqlxMigrate, tools, type InteropDatabase } from './interop/sqlx.ts';
import { runCli } from './cli.ts';
import { secretUrl } from '../core/db/url.ts';
import { generatePassword } from '../core/secrets.ts';

/**
 * Issue 13 §4: an existing sqlx application (test/fixtures/app) taken over as its users would,
 * with the real sqlx-cli playing the months of `sqlx migrate run` before pgsteward arrived.
 * Runs on the suite's embedded PostgreSQL 17, whose pg_uuidv7 is our SQL extension.
 */

const folder = readMigrationFolder(FIXTURE_MIGRATIONS);
const N = folder.migrations.length;
// The application's own file, read as `checks --config test/fixtures/app/pgsteward.config.json` reads it.
const config = loadProjectConfig({ file: path.join(FIXTURE_APP, 'pgsteward.config.json'), repoRoot: REPO_ROOT, stateDir: path.join(os.tmpdir(), 'pgsteward-fixture-state'), env: {} });

/** The ledger sqlx writes for the fixture, from our reading of the folder: version, description, checksum, success. */
const expectedLedger = folder.migrations.map((m) => ({ version: String(m.version), description: m.description, success: true, checksum: m.checksum.toString('hex') }));

/** The three defects README.md lists, as the checks name them. */
const PLANTED = [
  ['duplicate-indexes', 'warning', 'public.idx_sessions_user_id'],
  ['foreign-key-indexes', 'error', 'public.user_roles.user_roles_granted_by_fkey'],
  ['updated-at-triggers', 'error', 'public.login_events.login_events_touch_modified_at'],
];

function findings(report: ChecksReport): string[][] {
  return report.results.flatMap((r) => (r.error ? [[r.id, 'could not run', r.error]] : r.findings.map((f) => [r.id, f.severity, f.object])));
}

function checkFixture(db: InteropDatabase): Promise<ChecksReport> {
  return runChecks({ connection: db.as(), migrationsDir: config.migrationsDir!, config: config.checks });
}

function snapshot(db: InteropDatabase): Promise<Snapshot> {
  return withSql(db.as(), (sql) => readSnapshot(sql, { roles: db.roles }));
}

/** Object kinds that make up the application's schema itself (not who may use it). */
const SCHEMA_KINDS = new Set(['extension', 'type', 'table', 'view', 'materialized view', 'sequence', 'column', 'constraint', 'index', 'trigger', 'policy', 'function', 'procedure', 'aggregate']);

/** What setup changed on the schema's objects: their definitions must not be among it, only who may use them. */
function schemaChanges(before: Snapshot, after: Snapshot): { definitions: DriftFinding[]; privileges: string[] } {
  const diff = diffSnapshots(before.objects, after.objects, after.roleNames).filter((f) => SCHEMA_KINDS.has(f.objectType));
  const access = (f: DriftFinding) => f.kind === 'changed' && f.fields.every((x) => x.field === 'privileges' || x.field === 'owner');
  return { definitions: diff.filter((f) => !access(f)), privileges: diff.filter(access).map((f) => f.object) };
}

beforeEach(() => {
  tools(); // no sqlx toolchain: every test here fails with the one line that says why
});

describe('the fixture application', () => {
  it('is a reversible sqlx folder of 7+ migrations that starts with CREATE EXTENSION IF NOT EXISTS pg_uuidv7', () => {
    expect(folder.reversible).toBe(true);
    expect(N).toBeGreaterThanOrEqual(7);
    expect(folder.downs.map((d) => d.version)).toEqual(folder.migrations.map((m) => m.version));
    expect(folder.migrations[0]!.sql.trimStart().startsWith('CREATE EXTENSION IF NOT EXISTS pg_uuidv7;')).toBe(true);
    expect(folder.migrations.filter((m) => m.noTransaction).map((m) => m.description)).toEqual(['index sessions by user']);
    expect(config.migrationsDir).toBe(FIXTURE_MIGRATIONS);
  });
});

describe('sqlx first (the real sqlx-cli), then pgsteward takes over', () => {
  let db: InteropDatabase;
  let before: Snapshot;
  beforeAll(async () => {
    // The migrator's roles must exist before sqlx can migrate as <db>_migrator.
    db = await rolesFirst('fxs');
  });

  it('1. sqlx migrate run applies each .up.sql, never a .down.sql, with the ledger rows sqlx writes', async () => {
    const r = await sqlxMigrate('run', FIXTURE_MIGRATIONS, db.url('migrator'));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout.trimEnd().split('\n').map((l) => l.replace(/ \([\d.]+[µnm]?s\)$/, ''))).toEqual(folder.migrations.map((m) => `Applied ${m.version}/migrate ${m.description}`));
    expect(await ledger(db)).toEqual(expectedLedger);
    before = await snapshot(db);
  });

  it('2. setup-db --migrations test/fixtures/app/migrations applies nothing and changes no table, only who may read the ledger', async () => {
    const r = await setupDb(db, 'test/fixtures/app/migrations');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // sqlx created _sqlx_migrations as the owner, whose default privileges gave the app role
    // its DML: setup fences the ledger off, which is the one change it makes.
    expect(r.stdout).toBe(`revoked DELETE, INSERT, SELECT, UPDATE on table public._sqlx_migrations from ${db.roles.app}\nsetup-db (dev/${db.database}): applied 0, ${N} already applied\n`);
    expect(schemaChanges(before, await snapshot(db))).toEqual({ definitions: [], privileges: ['public._sqlx_migrations'] });
    expect(await ledger(db)).toEqual(expectedLedger);
  });

  it('4. checks with the fixture’s configuration report exactly the planted defects', async () => {
    expect(findings(await checkFixture(db))).toEqual(PLANTED);
  });
});

describe('sqlx first as the superuser, on a database pgsteward has never seen', () => {
  let db: InteropDatabase;
  let withNext: string;
  beforeAll(async () => {
    db = await emptyDatabase('fxu');
    // The application's next migration, written after the take-over.
    withNext = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-fixture-next-'));
    cpSync(FIXTURE_MIGRATIONS, withNext, { recursive: true });
    writeFileSync(path.join(withNext, '20240502100000_create_api_tokens.up.sql'), 'CREATE TABLE api_tokens (\n    id uuid PRIMARY KEY DEFAULT uuid_generate_v7(),\n    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,\n    token_hash bytea NOT NULL UNIQUE\n);\nCREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id);\n');
    writeFileSync(path.join(withNext, '20240502100000_create_api_tokens.down.sql'), 'DROP TABLE api_tokens;\n');
  });

  it('2. setup-db creates the five roles and their grants, applies nothing, and changes no table definition', async () => {
    const run = await sqlxMigrate('run', FIXTURE_MIGRATIONS, db.url());
    expect(run.code, run.stdout).toBe(0);
    const before = await snapshot(db);
    const r = await setupDb(db, FIXTURE_MIGRATIONS);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const roles = Object.values(db.roles);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(`setup-db (dev/${db.database}): created roles ${roles.join(', ')}; applied 0, ${N} already applied`);
    expect(r.stdout).toContain(`granted SELECT, INSERT, UPDATE, DELETE on table public.users to ${db.roles.app}\n`);
    expect(r.stdout).toContain(`made ${db.roles.owner} the owner of table public._sqlx_migrations (was postgres)\n`);
    expect(r.stdout).toContain(`made ${db.roles.owner} the owner of function public.touch_modified_at() (was postgres)\n`);
    const changed = schemaChanges(before, await snapshot(db));
    expect(changed.definitions).toEqual([]);
    // Every table, the ledger and the trigger function now carry the model's grants.
    expect(changed.privileges).toEqual(expect.arrayContaining(['public._sqlx_migrations', 'public.users', 'public.login_events', 'public.touch_modified_at()']));
    expect(await ledger(db)).toEqual(expectedLedger);
    expect(findings(await checkFixture(db))).toEqual(PLANTED);
    expect((await setupDb(db, FIXTURE_MIGRATIONS)).stdout).toBe(`setup-db (dev/${db.database}): applied 0, ${N} already applied\n`);
  });

  it('setup-db hands what the superuser owns to <db>_owner, so the migrator uses the ledger: sqlx as the migrator agrees, and the next migration applies', async () => {
    const owners = await withSql(db.as(), ownership);
    expect([...new Set(owners.map((o) => o.owner))]).toEqual([db.roles.owner]);
    expect(await withSql(db.as(), (sql) => sql`select distinct pg_get_userbyid(proowner)::text as o from pg_proc where pronamespace = 'public'::regnamespace and proname = 'touch_modified_at'`)).toEqual([{ o: db.roles.owner }]);
    const info = await sqlxMigrate('info', FIXTURE_MIGRATIONS, db.url('migrator'));
    expect(info).toMatchObject({ code: 0, stdout: readMigrationFolder(FIXTURE_MIGRATIONS).migrations.map((m) => `${m.version}/installed ${m.description}\n`).join('') });
    const r = await setupDb(db, withNext);
    expect(r.stderr).toBe('');
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(`setup-db (dev/${db.database}): applied 1, ${N} already applied`);
    const next = await sqlxMigrate('info', withNext, db.url('migrator'));
    expect(next).toMatchObject({ code: 0, stdout: readMigrationFolder(withNext).migrations.map((m) => `${m.version}/installed ${m.description}\n`).join('') });
    expect(findings(await runChecks({ connection: db.as(), migrationsDir: withNext, config: config.checks }))).toEqual(PLANTED);
  });
});

describe('sqlx first as the application’s own login role, which owns the database', () => {
  it('setup-db hands what that role created to <db>_owner, one object at a time; the old role can no longer connect', async () => {
    const db = plannedDatabase('fxl');
    const legacy = `${db.database}_web`;
    const password = generatePassword();
    await withSql(pgAdmin(), async (sql) => {
      await sql.unsafe(`CREATE ROLE ${legacy} LOGIN PASSWORD '${password}'`);
      await sql.unsafe(`CREATE DATABASE ${db.database} OWNER ${legacy} TEMPLATE template0`);
    });
    // Here pg_uuidv7 is our SQL extension, which is trusted: the application's role creates it itself.
    const run = await sqlxMigrate('run', FIXTURE_MIGRATIONS, secretUrl({ ...pgAdmin(db.database), user: legacy, password }));
    expect(run.code, run.stdout).toBe(0);
    const setup = await setupDb(db, FIXTURE_MIGRATIONS);
    expect(setup.code, setup.stderr).toBe(0);
    expect(setup.stdout).toContain(`made ${db.roles.owner} the owner of database ${db.database} (was ${legacy})\n`);
    expect(setup.stdout).toContain(`made ${db.roles.owner} the owner of table public.users (was ${legacy})\n`);
    const owners = async () => [...new Set((await withSql(db.as(), ownership)).map((o) => o.owner))];
    expect(await owners()).toEqual([db.roles.owner]);
    const again = await setupDb(db, FIXTURE_MIGRATIONS);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trimEnd().split('\n').at(-1)).toBe(`setup-db (dev/${db.database}): applied 0, ${N} already applied`);
    expect(findings(await checkFixture(db))).toEqual(PLANTED);
    // The old role keeps its login but not the database: setup revoked CONNECT from PUBLIC.
    const connect = await withSql({ ...pgAdmin(db.database), user: legacy, password }, (sql) => sql`select 1`).catch((e: Error) => e.message);
    expect(connect).toMatch(new RegExp(`permission denied for database "${db.database}"$`));
  });
});

describe('pgsteward on an empty database', () => {
  let db: InteropDatabase;
  beforeAll(async () => {
    db = await emptyDatabase('fxe');
  });

  it('3. setup-db applies the ups and never a down', async () => {
    // The same ups (same checksums), with downs that would leave a table behind if anything ran them.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-fixture-'));
    cpSync(FIXTURE_MIGRATIONS, dir, { recursive: true });
    const downs = readdirSync(dir).filter((f) => f.endsWith('.down.sql'));
    for (const f of downs) writeFileSync(path.join(dir, f), `CREATE TABLE down_ran_${f.split('_')[0]} ();\n`);
    expect(downs).toHaveLength(N);
    const r = await setupDb(db, dir, ['--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.migrations.applied.map((a: { version: string; file?: string }) => a.version)).toEqual(expectedLedger.map((l) => l.version));
    expect(await ledger(db)).toEqual(expectedLedger);
    const tables = await withSql(db.as(), (sql) => sql<{ t: string }[]>`select relname::text as t from pg_class where relkind = 'r' and relnamespace = 'public'::regnamespace order by 1`);
    expect(tables.map((x) => x.t)).toEqual(['_sqlx_migrations', 'login_events', 'roles', 'sessions', 'user_credentials', 'user_external_logins', 'user_preferences', 'user_profiles', 'user_roles', 'users']);
  });

  it('setup-db with only --config finds the folder through the file: nothing left to apply', async () => {
    const r = await runCli('ops/setup-db.ts', ['--target', 'dev', '--config', 'test/fixtures/app/pgsteward.config.json'], setupEnv(db), 120_000);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`setup-db (dev/${db.database}): applied 0, ${N} already applied\n`);
  });

  it('status with only --config compares with the fixture’s folder: every migration applied, none pending', async () => {
    const r = await runCli('ops/status.ts', ['--target', 'dev', '--config', 'test/fixtures/app/pgsteward.config.json', '--json'], setupEnv(db));
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).migrations).toEqual({ applied: folder.migrations.map((m) => m.file), pending: [], notes: folderNotes(folder) });
    expect(JSON.parse(r.stdout).migrations.notes[0]).toMatch(/^reversible folder/);
    expect(r.code).toBe(0);
  });

  it('5. pg_uuidv7 is our SQL extension here, and the keys are version 7', async () => {
    await withSql(db.as(), async (sql) => {
      const [e] = await sql`select e.extversion, l.lanname::text from pg_extension e, pg_proc p join pg_language l on l.oid = p.prolang where e.extname = 'pg_uuidv7' and p.proname = 'uuid_generate_v7'`;
      expect(e).toEqual({ extversion: '1.6', lanname: 'sql' });
      const [role] = await sql`select uuid_extract_version(id) as v from roles where name = 'admin'`;
      expect(role!.v).toBe(7);
    });
  });

  it('4. checks with the fixture’s configuration report exactly the planted defects', async () => {
    expect(findings(await checkFixture(db))).toEqual(PLANTED);
  });

  it('4. the checks CLI with --config and nothing else: the file names the folder, and the report is exactly the planted defects', async () => {
    // No --migrations: migration-state and the lints compare with the fixture's own folder only because the file says so.
    const r = await runCli('checks/cli.ts', ['--target', 'dev', '--config', 'test/fixtures/app/pgsteward.config.json', '--json'], setupEnv(db), 180_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.policiesNotEvaluated).toEqual(['search']);
    const found = doc.checks.flatMap((c: { id: string; findings: Array<{ severity: string; object: string }> }) => c.findings.map((f) => [c.id, f.severity, f.object]));
    expect(found).toEqual(PLANTED);
    expect(doc.checks.find((c: { id: string }) => c.id === 'migration-state').status).toBe('passed');
  });

  it('sqlx migrate info (the real CLI) agrees: every migration installed, none pending', async () => {
    const r = await sqlxMigrate('info', FIXTURE_MIGRATIONS, db.url('migrator'));
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toBe(folder.migrations.map((m) => `${m.version}/installed ${m.description}\n`).join(''));
  });
});
