import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ident } from '../../core/db/connect.ts';
import { pgAdmin, withSql } from '../../test/db.ts';
import { fixtureDatabase, objects, runOne } from '../test-support.ts';
import type { CheckResult } from '../types.ts';
import { judgeFunctions, pinnedPath, type FunctionRow } from './function-search-path.ts';

describe('function-search-path', () => {
  let r: CheckResult;
  let database: string;
  beforeAll(async () => {
    ({ database } = await fixtureDatabase(new URL('./function-search-path.fixture.sql', import.meta.url)));
    r = await runOne('function-search-path', { connection: pgAdmin(database) });
  });

  it('warns on ordinary functions and procedures, fails on SECURITY DEFINER ones', () => {
    expect(r.status).toBe('failed');
    expect(r.findings.map((f) => [f.object, f.severity])).toEqual([
      ['app.purge(IN days integer)', 'warning'],
      ['public.count_accounts()', 'error'],
      ['public.grant_admin(target uuid)', 'error'],
      ['public.touch()', 'warning'],
    ]);
  });

  it('pins the path the function resolves through today, pg_temp last where the function runs with its owner\'s rights', () => {
    const fix = (o: string) => r.findings.find((f) => f.object === o)!.fix;
    expect(fix('public.touch()')).toBe('ALTER FUNCTION public.touch() SET search_path = pg_catalog, public;');
    expect(fix('public.grant_admin(target uuid)')).toBe('ALTER FUNCTION public.grant_admin(target uuid) SET search_path = pg_catalog, public, pg_temp;');
    expect(fix('app.purge(IN days integer)')).toBe('ALTER PROCEDURE app.purge(IN days integer) SET search_path = pg_catalog, public;');
    expect(fix('public.count_accounts()')).toBe('ALTER FUNCTION public.count_accounts() SET search_path = pg_catalog, public, pg_temp;');
  });

  it("leaves pinned functions, SQL-standard bodies and the extension's own functions alone", () => {
    expect(r.passed).toEqual([
      'public.account_total(): search_path pinned to ""',
      'public.admin_count(): SQL-standard body, its names were bound when it was created',
      'public.is_admin(who uuid): search_path pinned to pg_catalog, public, pg_temp',
      'public.touch_pinned(): search_path pinned to pg_catalog, public',
    ]);
    expect(objects(r).some((o) => /similarity|gtrgm|show_trgm/.test(o))).toBe(false);
  });

  describe('what the error is about', () => {
    const mallory = () => `${database}_mallory`;
    beforeAll(async () => {
      await withSql(pgAdmin(database), (sql) => sql.unsafe(`CREATE ROLE ${ident(mallory())} NOLOGIN; INSERT INTO accounts (id) SELECT gen_random_uuid() FROM generate_series(1, 3)`));
    });
    afterAll(async () => {
      await withSql(pgAdmin(database), (sql) => sql.unsafe(`DROP ROLE IF EXISTS ${ident(mallory())}`));
    });

    /** As an unprivileged caller with a temporary table of its own named like the real one. */
    const countAsMallory = () =>
      withSql(pgAdmin(database), async (sql) => {
        await sql.unsafe(`SET ROLE ${ident(mallory())}; CREATE TEMP TABLE accounts AS SELECT generate_series(1, 1000) AS id`);
        const [row] = await sql.unsafe<{ n: string }[]>('SELECT count_accounts()::text AS n');
        return Number(row!.n);
      });

    it("lets a caller's temporary table stand in for the real one until the finding's fix is applied", async () => {
      expect(await countAsMallory()).toBe(1000);
      await withSql(pgAdmin(database), (sql) => sql.unsafe(r.findings.find((f) => f.object === 'public.count_accounts()')!.fix));
      expect(await countAsMallory()).toBe(3);
      const again = await runOne('function-search-path', { connection: pgAdmin(database) });
      expect(objects(again)).not.toContain('public.count_accounts()');
    });
  });
});

describe('pinnedPath', () => {
  it('puts pg_catalog first, keeps the schemas in between, and pg_temp last only for SECURITY DEFINER', () => {
    expect(pinnedPath(['public'], false)).toBe('pg_catalog, public');
    expect(pinnedPath(['app', 'public'], true)).toBe('pg_catalog, app, public, pg_temp');
    expect(pinnedPath(['pg_catalog', '"My App"'], false)).toBe('pg_catalog, "My App"');
    expect(pinnedPath([], true)).toBe('pg_catalog, pg_temp');
  });
});

describe('judgeFunctions', () => {
  const row = (extra: Partial<FunctionRow>): FunctionRow => ({ signature: 'public.f()', kind: 'function', security_definer: false, search_path: null, standard_body: false, pg_temp_last: false, ok: false, ...extra });
  it('counts the safe ones unless listing', () => {
    const out = judgeFunctions({ pinned: 12, standard: 2, rows: [row({})], session_path: ['public'] }, false);
    expect(out.passed).toEqual(['12 functions: search_path pinned', '2 functions: SQL-standard body, names bound at creation']);
    expect(out.passedCount).toBe(14);
    expect(out.findings).toEqual([expect.objectContaining({ object: 'public.f()', severity: 'warning', fixable: true })]);
  });
  it('fails a SECURITY DEFINER function pinned without pg_temp last, and appends it', () => {
    const out = judgeFunctions({ pinned: 0, standard: 0, rows: [row({ security_definer: true, search_path: 'public' })], session_path: ['public'] }, false);
    expect(out.findings[0]).toMatchObject({ severity: 'error', fix: 'ALTER FUNCTION public.f() SET search_path = public, pg_temp;' });
  });
});
