import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readMigrationFolder } from '../../core/migrations/files.ts';
import { migrate } from '../../core/migrations/runner.ts';
import { createDatabase, pgAdmin, withSql } from '../../test/db.ts';
import { runChecks } from '../suite.ts';
import { writeFixes } from './write.ts';

/**
 * Issue 15 §1: a failed CREATE INDEX CONCURRENTLY leaves an invalid index of its name, which
 * IF NOT EXISTS would take for done. The guard before each build drops it when, and only when,
 * it is invalid, so the build runs again: whether the leftover was there when the fixes were
 * written or appeared between writing and applying them.
 */

const SCHEMA = `
CREATE TABLE accounts (id integer PRIMARY KEY);
CREATE TABLE orders (id integer PRIMARY KEY, account_id integer NOT NULL REFERENCES accounts (id), qty integer NOT NULL);
INSERT INTO accounts SELECT g FROM generate_series(1, 5) g;
INSERT INTO orders SELECT g, 1 + g % 5, g % 3 FROM generate_series(1, 30) g;
CREATE FUNCTION fragile(integer) RETURNS integer IMMUTABLE LANGUAGE sql AS 'SELECT 1 / $1';
`;
/** A concurrent build under the fix's own index name that fails on qty = 0, as an interrupted one would, leaving it invalid. */
const FAILED_BUILD = 'CREATE INDEX CONCURRENTLY orders_account_id_idx ON orders (fragile(qty))';
const ONLY = ['foreign-key-indexes', 'invalid-indexes'];

async function scratch(): Promise<{ database: string; dir: string }> {
  const database = await createDatabase('fxrerun');
  await withSql(pgAdmin(database), (sql) => sql.unsafe(SCHEMA));
  return { database, dir: mkdtempSync(path.join(os.tmpdir(), 'pgsteward-rerun-')) };
}

const failBuild = (database: string) => withSql(pgAdmin(database), (sql) => sql.unsafe(FAILED_BUILD).then(() => 'built', (e: Error) => e.message));
const check = (database: string, dir: string) => runChecks({ connection: pgAdmin(database), migrationsDir: dir, only: ONLY, expectations: { schemas: ['public'] } });
const objects = (r: Awaited<ReturnType<typeof check>>) => r.results.flatMap((x) => x.findings.map((f) => `${x.id} ${f.object}`));
const apply = (database: string, dir: string) => withSql(pgAdmin(database), (sql) => migrate(sql, database, readMigrationFolder(dir)));

describe('a concurrent build after a failed one', () => {
  it('left before the fixes are written: the guard drops the leftover, the build replaces it, and the rebuild the invalid-indexes finding asks for is not written twice', async () => {
    const { database, dir } = await scratch();
    expect(await failBuild(database)).toBe('division by zero');
    const before = await check(database, dir);
    expect(objects(before)).toEqual(['foreign-key-indexes public.orders.orders_account_id_fkey', 'invalid-indexes public.orders_account_id_idx']);
    const written = await writeFixes({ report: before, connection: pgAdmin(database), dir, dryRun: false });
    expect(written.plan.files.map((f) => f.name.replace(/^\d+_/, ''))).toEqual(['pgsteward_fixes.sql', 'pgsteward_create_orders_account_id_idx.sql']);
    await apply(database, dir);
    expect(objects(await check(database, dir))).toEqual([]);
  });

  it('appearing between writing and applying: the guard, run at apply time, still drops it first', async () => {
    const { database, dir } = await scratch();
    const written = await writeFixes({ report: await check(database, dir), connection: pgAdmin(database), dir, dryRun: false });
    expect(written.plan.files).toHaveLength(2);
    expect(await failBuild(database)).toBe('division by zero');
    await apply(database, dir);
    expect(objects(await check(database, dir))).toEqual([]);
    const def = await withSql(pgAdmin(database), (sql) => sql`select pg_get_indexdef('public.orders_account_id_idx'::regclass) as d`);
    expect(def[0]!.d).toBe('CREATE INDEX orders_account_id_idx ON public.orders USING btree (account_id)');
  });

  it('a valid index of that name is left alone by the guard', async () => {
    const { database, dir } = await scratch();
    const written = await writeFixes({ report: await check(database, dir), connection: pgAdmin(database), dir, dryRun: false });
    expect(written.plan.files).toHaveLength(2);
    // Someone built it by hand meanwhile, on purpose and valid: IF NOT EXISTS keeps theirs.
    await withSql(pgAdmin(database), (sql) => sql.unsafe('CREATE INDEX orders_account_id_idx ON orders (account_id, qty)'));
    await apply(database, dir);
    const def = await withSql(pgAdmin(database), (sql) => sql`select pg_get_indexdef('public.orders_account_id_idx'::regclass) as d`);
    expect(def[0]!.d).toBe('CREATE INDEX orders_account_id_idx ON public.orders USING btree (account_id, qty)');
  });
});
