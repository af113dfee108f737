import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionSettings } from '../core/db/url.ts';
import { readMigrations } from '../core/migrations/files.ts';
import { MIGRATIONS_DIR } from '../core/paths.ts';
import { ident, type Sql } from '../core/db/connect.ts';
import { roleNames } from '../core/config/role-names.ts';
import { isUserError } from '../core/errors.ts';
import { pgAdmin, provisionDatabase, uniqueName, withSql, type ProvisionedDatabase } from '../test/db.ts';
import { CHECK_IDS, CHECKS, runChecks, selectChecks } from './suite.ts';
import type { ChecksReport } from './types.ts';

/** Row count and an md5 of every row of every table, plus the ledger and the catalog's object list. */
async function snapshot(sql: Sql) {
  const tables = await sql<{ t: string }[]>`
    select format('%I.%I', n.nspname, c.relname) as t from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind = 'r' and n.nspname = 'public' order by 1`;
  const content: Record<string, string> = {};
  for (const { t } of tables) {
    const [r] = await sql.unsafe<{ n: number; h: string | null }[]>(`select count(*)::int as n, md5(string_agg(x::text, '|' order by x::text)) as h from ${t} x`);
    content[t] = `${r!.n}:${r!.h}`;
  }
  const ledger = await sql`select version, description, installed_on, success, encode(checksum, 'hex') as checksum, execution_time from _sqlx_migrations order by version`;
  const objects = await sql`select c.relname::text, c.relkind::text from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') order by 1`;
  const roles = await sql`select rolname::text, rolconnlimit, rolsuper from pg_roles order by 1`;
  return { content, ledger, objects, roles };
}

/** Everything not passed: every finding, warnings included, since our own schema pins every function. */
function unexpected(report: ChecksReport) {
  return report.results
    .filter((r) => r.status === 'error' || r.findings.length > 0)
    .map((r) => ({ id: r.id, error: r.error, findings: r.findings }));
}

describe('the project schema', () => {
  let db: ProvisionedDatabase;
  let report: ChecksReport;
  let before: Awaited<ReturnType<typeof snapshot>>;
  beforeAll(async () => {
    db = await provisionDatabase('ck');
    await withSql(db.as(), async (sql) => {
      // Real content, so "unchanged" means something.
      const [u] = await sql`insert into users (email, slug) values ('ada@example.test', 'ada') returning id`;
      await sql`insert into phrases (created_by, text) values (${u!.id}, 'Analytical engines weave algebraic patterns')`;
      await sql`insert into user_roles (user_id, role_id) select ${u!.id}, id from roles where name = 'user'`;
      before = await snapshot(sql);
    });
    report = await runChecks({ connection: db.as() });
  });

  it('passes every check', () => {
    expect(unexpected(report)).toEqual([]);
    expect(report.results.map((r) => r.id)).toEqual(CHECK_IDS);
    expect(report.ok).toBe(true);
    expect(report.summary.failed).toBe(0);
    const pinning = report.results.find((r) => r.id === 'function-search-path')!.findings.length;
    expect(report.summary.warnings).toBe(pinning);
    expect(report.summary.passed).toBeGreaterThan(60);
  });

  it('counts the same subjects, and finds the same, whether it lists them (--verbose) or not', async () => {
    const listed = await runChecks({ connection: db.as(), verbose: true });
    expect(listed.summary).toEqual(report.summary);
    expect(listed.results.map((r) => [r.id, r.passedCount, r.findings.map((f) => f.object)])).toEqual(report.results.map((r) => [r.id, r.passedCount, r.findings.map((f) => f.object)]));
    for (const r of listed.results) expect(r.passed.length, r.id).toBe(r.passedCount);
    // Unlisted, the catalog checks fold their subjects into counted lines.
    const keys = report.results.find((r) => r.id === 'primary-keys')!;
    expect(keys.passed.length).toBeLessThan(listed.results.find((r) => r.id === 'primary-keys')!.passed.length);
    expect(keys.passed.some((p) => /^\d[\d,]* tables: uuid primary key DEFAULT /.test(p))).toBe(true);
  });

  it('ran its behavioural probes', () => {
    const passed = report.results.flatMap((r) => r.passed);
    expect(passed).toEqual(
      expect.arrayContaining([
        'public.users: a probe insert got a version-7 id',
        'public.phrases.search: the planner uses public.phrases_search_idx for @@',
        `${db.database}_app: DROP TABLE public.users is refused (42501)`,
        `${db.database}_readonly: INSERT INTO public.users is refused (42501)`,
      ]),
    );
  });

  it('leaves the database unchanged: rows, content, ledger, objects and roles', async () => {
    const after = await withSql(db.as(), snapshot);
    expect(after).toEqual(before);
  });

  it('counts its SQL round trips, per check and in total', () => {
    expect(report.queries).toBeGreaterThan(report.results.length);
    expect(report.results.reduce((n, r) => n + r.queries, 0)).toBeLessThan(report.queries);
  });

  describe('a restored copy', () => {
    let copy: string;
    beforeAll(async () => {
      copy = uniqueName('ckcopy');
      await withSql(pgAdmin(), (sql) => sql.unsafe(`CREATE DATABASE ${ident(copy)} TEMPLATE ${ident(db.database)}`));
    });
    afterAll(async () => {
      await withSql(pgAdmin(), (sql) => sql.unsafe(`DROP DATABASE IF EXISTS ${ident(copy)}`));
    });

    it("passes when checked against the original database's roles", async () => {
      const r = await runChecks({ connection: pgAdmin(copy), roles: roleNames(db.database) });
      // CREATE DATABASE … TEMPLATE copies the schema but not what setup-db (and restore-db) set on
      // the database itself: its owner, its grants, the migrator's settings in it. schema-drift
      // reports exactly those, and nothing else.
      expect(unexpected(r).map((x) => [x.id, x.findings.map((f) => `${f.drift?.kind} ${f.drift?.objectType} ${f.object}`)])).toEqual([
        ['schema-drift', [`changed database ${copy}`, `missing role settings settings of ${db.database}_migrator in this database`]],
      ]);
    });

    it('names the missing roles when checked against its own name', async () => {
      const r = await runChecks({ connection: pgAdmin(copy), only: ['privileges'] });
      expect(r.results[0]!.status).toBe('failed');
      expect(r.results[0]!.findings.map((f) => f.object)).toContain(`${copy}_app`);
    });
  });
});

describe('query count does not grow with the schema', () => {
  /**
   * The project schema plus n generated tables, each with a uuidv7 key, an indexed foreign key
   * and an updated_at trigger, created by a migration of their own (so schema-drift sees what
   * the migrations build), with the migrations folder the checks compare with.
   */
  async function withGeneratedTables(n: number): Promise<{ connection: ConnectionSettings; migrationsDir: string }> {
    const ddl = Array.from({ length: n }, (_, i) => {
      const parent = i === 0 ? 'users' : `gen_${i - 1}`;
      return `CREATE TABLE gen_${i} (
        id uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
        parent_id uuid REFERENCES ${parent} (id),
        name text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now());
      CREATE INDEX gen_${i}_parent_id_idx ON gen_${i} (parent_id);
      CREATE TRIGGER gen_${i}_set_updated_at BEFORE UPDATE ON gen_${i} FOR EACH ROW EXECUTE FUNCTION set_updated_at();`;
    }).join('\n');
    const migrationsDir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-ckgen-'));
    for (const f of readdirSync(MIGRATIONS_DIR).filter((x) => x.endsWith('.sql'))) copyFileSync(path.join(MIGRATIONS_DIR, f), path.join(migrationsDir, f));
    writeFileSync(path.join(migrationsDir, `9000_generated_${n}_tables.sql`), ddl + '\n');
    const db = await provisionDatabase('ckgen', readMigrations(migrationsDir));
    return { connection: db.as(), migrationsDir };
  }

  it('issues the same queries, check by check, for 10 and 400 extra tables, listed or not', async () => {
    const smallDb = await withGeneratedTables(10);
    const largeDb = await withGeneratedTables(400);
    const small = await runChecks(smallDb);
    const large = await runChecks(largeDb);
    expect(large.results.find((r) => r.id === 'primary-keys')!.passedCount).toBeGreaterThan(400);
    expect(unexpected(large).map((r) => r.id)).toEqual([]);
    // Equal round trips per check, not only in total.
    expect(large.results.map((r) => [r.id, r.queries])).toEqual(small.results.map((r) => [r.id, r.queries]));
    expect(large.queries).toBe(small.queries);
    const listed = await runChecks({ ...largeDb, verbose: true });
    expect(listed.results.map((r) => [r.id, r.queries])).toEqual(small.results.map((r) => [r.id, r.queries]));
    expect(listed.results.find((r) => r.id === 'primary-keys')!.passed.length).toBeGreaterThan(400);
    // Unlisted, the passing subjects come back as counts: the report does not grow with the schema.
    const lines = (r: ChecksReport) => r.results.filter((x) => ['foreign-key-indexes', 'duplicate-indexes', 'primary-keys', 'updated-at-triggers'].includes(x.id)).map((x) => [x.id, x.passed.length]);
    expect(lines(large)).toEqual(lines(small));
  });
});

describe('selecting checks', () => {
  it('runs --only and --skip by id and refuses unknown ids', () => {
    expect(selectChecks(CHECKS, ['search', 'privileges']).map((c) => c.id)).toEqual(['privileges', 'search']);
    expect(selectChecks(CHECKS, undefined, ['search']).map((c) => c.id)).not.toContain('search');
    expect(() => selectChecks(CHECKS, ['serach'])).toThrow(/unknown check id "serach"/);
    expect(() => selectChecks(CHECKS, ['search'], ['search'])).toThrow(/no check to run/);
  });

  it('refuses an ignore entry without a reason or for an unknown check, before connecting', async () => {
    const conn = { ...pgAdmin(), port: 1 };
    await expect(runChecks({ connection: conn, expectations: { ignore: [{ check: 'search', object: 'public.x', reason: ' ' }] } })).rejects.toThrow(/gives no reason/);
    await expect(runChecks({ connection: conn, expectations: { ignore: [{ check: 'serach', object: 'public.x', reason: 'r' }] } })).rejects.toThrow(/unknown check "serach"/);
  });

  it('runs on a database whose name cannot carry role names, reporting only privileges as unable to run', async () => {
    const name = `Odd-${uniqueName('x')}`;
    await withSql(pgAdmin(), (sql) => sql.unsafe(`CREATE DATABASE ${ident(name)} TEMPLATE template0`));
    const r = await runChecks({ connection: pgAdmin(name), only: ['invalid-indexes', 'privileges'] });
    expect(r.results.map((x) => [x.id, x.status])).toEqual([
      ['invalid-indexes', 'passed'],
      ['privileges', 'error'],
    ]);
    expect(r.results[1]!.error).toMatch(/cannot derive role names .*; pass --roles-of NAME/);
    expect(r.ok).toBe(false);
    await withSql(pgAdmin(), (sql) => sql.unsafe(`DROP DATABASE ${ident(name)}`));
  });

  it('fails with a one-line UserError, without the password, when the server cannot be reached', async () => {
    const err = await runChecks({ connection: { ...pgAdmin(), port: 1, password: 'hunter2-secret' } }).catch((e) => e);
    expect(isUserError(err)).toBe(true);
    expect(err.line).toMatch(/cannot connect to postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/postgres: connection refused/);
    expect(err.line).not.toContain('hunter2-secret');
  });
});
