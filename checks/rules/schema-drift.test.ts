import { beforeAll, describe, expect, it } from 'vitest';
import { secretUrl } from '../../core/db/url.ts';
import { runCli } from '../../test/cli.ts';
import { createDatabase, pgAdmin, provisionDatabase, withSql } from '../../test/db.ts';
import { toJson } from '../report/json.ts';
import { runChecks } from '../suite.ts';
import { fixtureRun, runOne } from '../test-support.ts';
import type { CheckResult } from '../types.ts';
import { judgeDrift } from './schema-drift.ts';

const FIXTURE = new URL('./schema-drift.fixture.sql', import.meta.url);

describe('schema-drift on its fixture (a migrated database changed by hand), local target', () => {
  let r: CheckResult;
  let database: string;
  beforeAll(async () => {
    const run = await fixtureRun(FIXTURE);
    database = run.database;
    r = await runOne('schema-drift', run.opts);
  });

  it('fails with one finding per changed object, of the right kind and type', () => {
    expect(r.status, r.error).toBe('failed');
    expect(r.findings.map((f) => [f.drift?.kind, f.drift?.objectType, f.object])).toEqual([
      ['changed', 'table', 'public.users'],
      ['changed', 'column', 'public.user_profiles.avatar_url'],
      ['missing', 'index', 'public.phrases_created_by_idx'],
      ['extra', 'index', 'public.users_created_at_idx'],
      ['changed', 'trigger', 'users_set_updated_at on public.users'],
    ]);
    expect(r.findings.find((f) => f.object === 'public.users_created_at_idx')!.message).toMatch(/created outside migrations/);
  });

  it('gives the field-level diff, with the live role names', () => {
    const grant = r.findings.find((f) => f.object === 'public.users')!;
    expect(grant.message).toBe(`privileges: ${database}_app gained TRUNCATE`);
    const avatar = r.findings.find((f) => f.object === 'public.user_profiles.avatar_url')!;
    expect(avatar.drift!.fields).toEqual([
      { field: 'default', expected: null, actual: "'https://example.test/a.png'::text", description: "default changed from none to 'https://example.test/a.png'::text" },
    ]);
  });

  it('is never mechanically fixable; each fix names both ways out, and the SQL of each', () => {
    for (const f of r.findings) {
      expect(f.fixable, f.object).toBe(false);
      expect(f.fix, f.object).toMatch(/^Either make it official with a migration.*, or put the database back: .*\. Drift is never fixed automatically\.$/s);
      expect(f.fix, f.object).toContain(`\`${f.drift!.restoreSql}\``);
    }
    expect(r.findings.find((f) => f.object === 'public.users')!.drift!.restoreSql).toBe(`REVOKE TRUNCATE ON TABLE public.users FROM ${database}_app;`);
    expect(r.findings.find((f) => f.object === 'public.users_created_at_idx')!.drift).toMatchObject({
      migrationSql: 'CREATE INDEX users_created_at_idx ON public.users USING btree (created_at);',
      restoreSql: 'DROP INDEX public.users_created_at_idx;',
    });
    expect(r.findings.find((f) => f.object === 'public.phrases_created_by_idx')!.drift).toMatchObject({
      migrationSql: 'DROP INDEX public.phrases_created_by_idx;',
      restoreSql: 'CREATE INDEX phrases_created_by_idx ON public.phrases USING btree (created_by);',
    });
  });

  it('carries kind, objectType, object and fields in --json', () => {
    const doc = toJson({ results: [r], summary: { passed: 0, failed: 5, warnings: 0 }, queries: r.queries, durationMs: 1, ok: false, database, policiesNotEvaluated: [] }, { strict: false, exitCode: 1 });
    expect(doc.checks[0]!.findings[1]).toEqual({
      severity: 'error',
      object: 'public.user_profiles.avatar_url',
      message: "default changed from none to 'https://example.test/a.png'::text",
      fix: expect.stringMatching(/^Either make it official/),
      fixable: false,
      kind: 'changed',
      objectType: 'column',
      fields: [{ field: 'default', expected: null, actual: "'https://example.test/a.png'::text", description: expect.any(String) }],
      migrationSql: "ALTER TABLE public.user_profiles ALTER COLUMN avatar_url SET DEFAULT 'https://example.test/a.png'::text;",
      restoreSql: 'ALTER TABLE public.user_profiles ALTER COLUMN avatar_url DROP DEFAULT;',
    });
  });

  it('counts its reads of the live database as the check\'s round trips, and passes the object types that match', () => {
    expect(r.queries).toBeGreaterThan(15);
    expect(r.passed).toEqual(expect.arrayContaining(['1 schema: as the migrations build them (4 migrations, reference on a scratch database on the same server)']));
    expect(r.passed.some((p) => /^\d+ constraints: /.test(p))).toBe(true);
    // An object type with a drifted object is not a passing subject.
    expect(r.passed.some((p) => /^\d+ (tables|columns|indexes|triggers):/.test(p))).toBe(false);
  });
});

describe('schema-drift, where nobody says which kind of target it is', () => {
  it('builds the reference on an ephemeral cluster, and a clean database passes', async () => {
    const db = await provisionDatabase('ckdrclean');
    const report = await runChecks({ connection: db.as(), only: ['schema-drift'] });
    const r = report.results[0]!;
    expect(r.status, r.error).toBe('passed');
    expect(r.findings).toEqual([]);
    expect(r.passed.length).toBeGreaterThan(8);
    for (const p of r.passed) expect(p).toMatch(/reference on an ephemeral PostgreSQL 17\.\d+ cluster\)$/);
  }, 120_000);

  it('says it did not compare a database no sqlx migrations built (a warning, never our setup as the advice)', async () => {
    const name = await createDatabase('ckdrnone');
    await withSql(pgAdmin(name), (sql) => sql.unsafe('CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL); CREATE TABLE t (id int PRIMARY KEY)'));
    const r = (await runChecks({ connection: pgAdmin(name), only: ['schema-drift'], target: { kind: 'local' } })).results[0]!;
    expect(r.status, r.error).toBe('warning');
    expect(r.findings.map((f) => [f.object, f.severity, f.message])).toEqual([
      ['migrations', 'warning', 'not compared: the database has no _sqlx_migrations ledger, so no migrations folder is known to have built it'],
    ]);
    expect(r.findings[0]!.fix).not.toContain('setup-db');
  });
});

describe('judgeDrift', () => {
  const place = { kind: 'scratch-database' as const, server: 'postgres://x@127.0.0.1:1/postgres', database: 'pgsteward_drift_1' };
  it('passes each object type whose objects all match, and nothing else', () => {
    const out = judgeDrift({
      findings: [{ kind: 'extra', objectType: 'index', object: 'public.i', fields: [], message: 'm', fix: 'f', restoreSql: 'DROP INDEX public.i;' }],
      notes: [],
      reference: place,
      migrationsApplied: 2,
      objectTypes: [
        { type: 'table', live: 3, reference: 3 },
        { type: 'index', live: 4, reference: 3 },
      ],
    });
    expect(out.passed).toEqual(['3 tables: as the migrations build them (2 migrations, reference on a scratch database on the same server)']);
    expect(out.passedCount).toBe(1);
    expect(out.findings).toEqual([
      { object: 'public.i', message: 'm', fix: 'f', fixable: false, drift: { kind: 'extra', objectType: 'index', fields: [], migrationSql: undefined, restoreSql: 'DROP INDEX public.i;' } },
    ]);
  });

  it('says, as a warning, what the comparison could not cover', () => {
    const out = judgeDrift({ findings: [], notes: ['1 migration(s) not applied yet (0005_x.sql) are not part of the comparison; setup-db applies them'], reference: place, migrationsApplied: 4, objectTypes: [] });
    expect(out.findings).toEqual([expect.objectContaining({ object: 'migrations', severity: 'warning', message: expect.stringMatching(/^not compared: 1 migration\(s\) not applied yet/) })]);
  });
});

describe('npm run checks -- --only schema-drift', () => {
  it('runs on a dev target (a loopback URL), with drift fields in --json, and exits 1', async () => {
    const { opts } = await fixtureRun(FIXTURE);
    const url = new URL(secretUrl(opts.connection));
    const password = decodeURIComponent(url.password);
    url.password = '';
    const r = await runCli('checks/cli.ts', ['--url', url.toString(), '--only', 'schema-drift', '--json'], { PGPASSWORD: password, DB_POOL_MAX: '10', DB_APP_INSTANCES: '1' });
    expect(r.code, r.stderr).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.checks.map((c: { id: string }) => c.id)).toEqual(['schema-drift']);
    const findings = doc.checks[0].findings as Array<{ kind: string; objectType: string; object: string; fields: unknown[]; fixable: boolean }>;
    expect(findings.map((f) => `${f.kind} ${f.objectType} ${f.object}`)).toContain('extra index public.users_created_at_idx');
    expect(findings.every((f) => f.fixable === false && Array.isArray(f.fields))).toBe(true);
  }, 120_000);
});
