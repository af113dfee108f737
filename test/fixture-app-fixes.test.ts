import { cpSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runChecks } from '../checks/suite.ts';
import type { ChecksReport } from '../checks/types.ts';
import { formatWriteFixes, writeFixes, type WriteFixesResult } from '../checks/fixes/write.ts';
import { readMigrationFolder } from '../core/migrations/files.ts';
import { withSql } from './db.ts';
import { loadProjectConfig } from '../core/config/project-config.ts';
import { emptyDatabase, FIXTURE_APP, FIXTURE_MIGRATIONS, rolesFirst, setupDb, sqlxMigrate, tools, type InteropDatabase } from './interop/sqlx.ts';

/**
 * Issue 15, "done means": the realistic sqlx application (test/fixtures/app) with its planted
 * defects. `checks --write-fixes`, then setup-db (the command), then checks: no error-level
 * finding, the same rows, and a second --write-fixes writes nothing. Per-rule counts before and
 * after are printed (PGSTEWARD_SHOW_COUNTS=1) for the note.
 */

const config = loadProjectConfig({ file: path.join(FIXTURE_APP, 'pgsteward.config.json'), repoRoot: FIXTURE_APP, stateDir: FIXTURE_APP, env: {} });

const ROWS = `
INSERT INTO users (email, slug) SELECT 'user' || g || '@example.test', 'user-' || g FROM generate_series(1, 40) g;
INSERT INTO sessions (user_id, token_hash, expires_at) SELECT id, sha256(convert_to(id::text, 'UTF8')), now() + interval '1 day' FROM users;
INSERT INTO login_events (user_id, method, succeeded) SELECT id, 'password', true FROM users;
INSERT INTO user_roles (user_id, role_id, granted_by) SELECT u.id, r.id, (SELECT min(id::text)::uuid FROM users) FROM users u, roles r WHERE r.name = 'user';
`;

/** The application's tables (the ledger grows by the fixes' rows, as it should). */
async function rowCounts(db: InteropDatabase): Promise<Record<string, number>> {
  return withSql(db.as(), async (sql) => {
    const tables = await sql<{ t: string }[]>`select format('%I.%I', schemaname, relname) as t from pg_stat_user_tables where schemaname = 'public' and relname <> '_sqlx_migrations' order by 1`;
    return Object.fromEntries(await Promise.all(tables.map(async ({ t }) => [t, Number((await sql.unsafe(`SELECT count(*) AS n FROM ${t}`))[0]!.n)])));
  });
}

const perRule = (r: ChecksReport) => Object.fromEntries(r.results.map((x) => [x.id, x.findings.length]));
const errors = (r: ChecksReport) => r.results.flatMap((x) => (x.error ? [`${x.id}: could not run: ${x.error}`] : x.findings.filter((f) => f.severity === 'error').map((f) => `${x.id} ${f.object}`)));

describe('the fixture application: checks --write-fixes, setup-db, checks', () => {
  let db: InteropDatabase;
  let dir: string;
  let before: ChecksReport;
  let written: WriteFixesResult;
  let rowsBefore: Record<string, number>;
  const check = () => runChecks({ connection: db.as(), migrationsDir: dir, config: config.checks, target: { kind: 'local' } });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-fixture-app-fixes-'));
    cpSync(FIXTURE_MIGRATIONS, dir, { recursive: true });
    db = await emptyDatabase('fxfix');
    const setup = await setupDb(db, dir);
    expect(setup.code, setup.stderr).toBe(0);
    await withSql(db.as(), (sql) => sql.unsafe(ROWS));
    rowsBefore = await rowCounts(db);
    before = await check();
    written = await writeFixes({ report: before, connection: db.as(), dir, dryRun: false });
  }, 180_000);

  it('finds the planted defects and writes reversible-folder files (.up.sql, timestamped, no .down.sql) for every one of them', () => {
    expect(perRule(before)).toMatchObject({ 'duplicate-indexes': 1, 'foreign-key-indexes': 1, 'updated-at-triggers': 1 });
    expect(written.plan.written.map((w) => `${w.check} ${w.object}`).sort()).toEqual([
      'duplicate-indexes public.idx_sessions_user_id',
      'foreign-key-indexes public.user_roles.user_roles_granted_by_fkey',
      'updated-at-triggers public.login_events.login_events_touch_modified_at',
    ]);
    expect(written.plan.notWritten).toEqual([]);
    const added = readdirSync(dir).filter((f) => f.includes('pgsteward_')).sort();
    expect(added).toEqual(written.plan.files.map((f) => f.name).sort());
    for (const f of added) expect(f).toMatch(/^\d{14}_pgsteward_[a-z0-9_]+\.up\.sql$/);
    expect(readdirSync(dir).filter((f) => f.endsWith('.down.sql'))).toHaveLength(8);
    expect(formatWriteFixes(written)).toContain('up-only: no .down.sql is written');
  });

  it('the written files, pending, pass migration-lint and migration-data-preservation', async () => {
    const lint = await runChecks({ connection: db.as(), migrationsDir: dir, config: config.checks, only: ['migration-lint', 'migration-data-preservation'] });
    expect(lint.results.map((r) => [r.id, r.findings.length, r.passed.length])).toEqual([
      ['migration-data-preservation', 0, written.plan.files.length],
      ['migration-lint', 0, written.plan.files.length],
    ]);
  });

  it('setup-db applies them; checks then report no error-level finding, nothing at all from the planted rules; the rows are unchanged', async () => {
    const setup = await setupDb(db, dir);
    expect(setup.stderr).toBe('');
    expect(setup.code).toBe(0);
    expect(setup.stdout.trimEnd().split('\n').at(-1)).toBe(`setup-db (dev/${db.database}): applied ${written.plan.files.length}, 8 already applied`);
    const after = await check();
    expect(errors(after)).toEqual([]);
    expect(after.results.flatMap((r) => r.findings.map((f) => `${r.id} ${f.object}`))).toEqual([]);
    expect(await rowCounts(db)).toEqual(rowsBefore);
    if (process.env.PGSTEWARD_SHOW_COUNTS) {
      const b = perRule(before);
      const a = perRule(after);
      console.log(Object.keys(b).map((id) => `${id.padEnd(28)} ${b[id]} -> ${a[id]}`).join('\n'));
      console.log(formatWriteFixes({ ...written, dryRun: true }));
    }
    const again = await writeFixes({ report: after, connection: db.as(), dir, dryRun: false });
    expect(again.plan.files).toEqual([]);
    expect(readMigrationFolder(dir).migrations).toHaveLength(8 + written.plan.files.length);
  }, 180_000);
});

describe('the written files under the real sqlx-cli', () => {
  it('sqlx migrate run applies them as it applies the application’s own (each -- no-transaction file alone), and the checks agree', async () => {
    tools(); // no sqlx toolchain: this fails with the one line that says why
    const db = await rolesFirst('fxfixsq');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-fixture-app-sqlx-'));
    cpSync(FIXTURE_MIGRATIONS, dir, { recursive: true });
    const first = await sqlxMigrate('run', dir, db.url('migrator'));
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const check = () => runChecks({ connection: db.as(), migrationsDir: dir, config: config.checks, target: { kind: 'local' } });
    const before = await check();
    const written = await writeFixes({ report: before, connection: db.as(), dir, dryRun: false });
    expect(written.plan.files).toHaveLength(3);
    const run = await sqlxMigrate('run', dir, db.url('migrator'));
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout.trimEnd().split('\n').map((l) => l.replace(/ \([\d.]+[µnm]?s\)$/, ''))).toEqual(
      readMigrationFolder(dir).migrations.slice(8).map((m) => `Applied ${m.version}/migrate ${m.description}`),
    );
    // What is left is what sqlx alone leaves (the ledger's privileges, which setup-db fences): nothing the fixes wrote, nothing new.
    const all = (r: ChecksReport) => r.results.flatMap((x) => x.findings.map((f) => `${x.id} ${f.object}`));
    const after = all(await check());
    expect(after.filter((k) => !all(before).includes(k))).toEqual([]);
    expect(after.filter((k) => written.plan.written.some((w) => `${w.check} ${w.object}` === k))).toEqual([]);
    expect(after).toEqual(['schema-drift public._sqlx_migrations']);
  }, 180_000);
});
