import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../db/connect.ts';
import { isUserError } from '../errors.ts';
import { LocalCluster } from '../local/cluster.ts';
import { freePort } from '../local/ports.ts';
import { readMigrations } from '../migrations/files.ts';
import { MIGRATIONS_DIR } from '../paths.ts';
import { setupDatabase } from '../setup.ts';
import { generatePassword } from '../secrets.ts';
import { createDatabase, pgAdmin, uniqueName, withSql } from '../../test/db.ts';
import { pgUuidv7 } from './bundled.ts';
import { pgTleInstallBundled } from './pgtle.ts';
import { implementationOf, planUuidV7, planUuidV7ForRestore, preloads, provideUuidV7, readUuidV7Offer, uuidV7Status, type UuidV7Offer } from './uuidv7.ts';

const NO_TLE = { available: false, preloaded: false, installed: false, registered: false };
const offer = (o: Partial<UuidV7Offer>): UuidV7Offer => ({ pgTle: NO_TLE, tleAdmin: true, ...o });

describe('planUuidV7: what to do, from what the server offers (pure)', () => {
  it('does nothing when the database has it, whatever else is offered', () => {
    expect(planUuidV7(offer({ installed: { schema: 'app', version: '1.5' }, available: { defaultVersion: '1.6', comment: null } }), { schema: 'public' })).toEqual({ action: 'none', statements: [] });
  });

  it('creates it from share/extension (the C extension, or ours on the local cluster), even when pg_tle is offered too', () => {
    const expected = { action: 'create', statements: ['CREATE EXTENSION IF NOT EXISTS pg_uuidv7 SCHEMA "public"'] };
    expect(planUuidV7(offer({ available: { defaultVersion: '1.6', comment: null } }), { schema: 'public' })).toEqual(expected);
    expect(planUuidV7(offer({ available: { defaultVersion: '1.6', comment: null }, pgTle: { ...NO_TLE, available: true, preloaded: true } }), { schema: 'public' })).toEqual(expected);
  });

  it('on a pg_tle server: creates pg_tle, joins pgtle_admin, registers our SQL pg_uuidv7, then creates it', () => {
    const plan = planUuidV7(offer({ pgTle: { available: true, preloaded: true, installed: false, registered: false }, tleAdmin: false }), { schema: 'public' });
    expect(plan.action).toBe('pg_tle');
    expect(plan.statements).toEqual([
      'CREATE EXTENSION IF NOT EXISTS pg_tle',
      'GRANT pgtle_admin TO CURRENT_USER',
      pgTleInstallBundled(pgUuidv7()),
      'CREATE EXTENSION IF NOT EXISTS pg_uuidv7 SCHEMA "public"',
    ]);
  });

  it('on a pg_tle server where it is registered already, or the role is pgtle_admin, skips those steps', () => {
    expect(planUuidV7(offer({ pgTle: { available: true, preloaded: true, installed: true, registered: true }, tleAdmin: false }), { schema: 'app' }).statements).toEqual([
      'CREATE EXTENSION IF NOT EXISTS pg_uuidv7 SCHEMA "app"',
    ]);
    expect(planUuidV7(offer({ pgTle: { available: true, preloaded: true, installed: true, registered: false }, tleAdmin: true }), { schema: 'app' }).statements).toEqual([
      pgTleInstallBundled(pgUuidv7()),
      'CREATE EXTENSION IF NOT EXISTS pg_uuidv7 SCHEMA "app"',
    ]);
  });

  it('refuses, with one line naming the fix, when pg_tle is there but not loaded', () => {
    const e = catchError(() => planUuidV7(offer({ pgTle: { ...NO_TLE, available: true } }), { schema: 'public' }));
    expect(isUserError(e)).toBe(true);
    expect(e.line).toMatch(/offers pg_tle but does not load it.*add pg_tle to shared_preload_libraries/);
    expect(e.line).not.toMatch(/\n/);
  });

  it('refuses, with one line naming both choices, when the server offers neither', () => {
    const e = catchError(() => planUuidV7(offer({}), { schema: 'public' }));
    expect(isUserError(e)).toBe(true);
    expect(e.line).toMatch(/^the server offers neither the pg_uuidv7 extension nor pg_tle.*; install pg_uuidv7 on the server.*, or enable pg_tle/);
    expect(e.line).not.toMatch(/\n/);
  });

  it('reads shared_preload_libraries the way the server writes it', () => {
    expect(preloads('pg_stat_statements, pg_tle', 'pg_tle')).toBe(true);
    expect(preloads('"pg_tle",auto_explain', 'pg_tle')).toBe(true);
    expect(preloads('pg_tle_extra', 'pg_tle')).toBe(false);
    expect(preloads('', 'pg_tle')).toBe(false);
  });

  it('tells the implementations apart from catalog facts', () => {
    expect(implementationOf({ language: 'c', viaPgTle: false })).toBe('c');
    expect(implementationOf({ language: 'sql', viaPgTle: false })).toBe('sql');
    expect(implementationOf({ language: 'sql', viaPgTle: true })).toBe('pg_tle');
    expect(implementationOf({ language: 'plpgsql', viaPgTle: false })).toBe('other');
  });
});

describe('planUuidV7ForRestore: a new database before pg_restore replays the dump (pure)', () => {
  const tle = (o: Partial<UuidV7Offer['pgTle']> = {}) => ({ available: true, preloaded: true, installed: false, registered: false, ...o });
  const plain = { registeredViaPgTle: false };
  const viaTle = { registeredViaPgTle: true };

  it('dump without a registration, pg_tle server: creates pg_tle, joins pgtle_admin and registers our SQL pg_uuidv7, but leaves CREATE EXTENSION to the dump', () => {
    expect(planUuidV7ForRestore(offer({ pgTle: tle(), tleAdmin: false }), plain)).toEqual({
      action: 'pg_tle',
      statements: ['CREATE EXTENSION IF NOT EXISTS pg_tle', 'GRANT pgtle_admin TO CURRENT_USER', pgTleInstallBundled(pgUuidv7())],
    });
    expect(planUuidV7ForRestore(offer({ pgTle: tle(), tleAdmin: true }), plain).statements).toEqual(['CREATE EXTENSION IF NOT EXISTS pg_tle', pgTleInstallBundled(pgUuidv7())]);
    const sql = planUuidV7ForRestore(offer({ pgTle: tle() }), plain).statements.join(';\n');
    expect(sql).not.toMatch(/CREATE EXTENSION IF NOT EXISTS pg_uuidv7/);
    expect(sql).toMatch(/^SELECT pgtle\.install_extension\(\n {2}'pg_uuidv7',\n {2}'1\.6',/m);
  });

  it('dump without a registration, share/extension has pg_uuidv7 (C, or ours on the local cluster): nothing to do', () => {
    expect(planUuidV7ForRestore(offer({ available: { defaultVersion: '1.6', comment: null } }), plain)).toEqual({ action: 'none', statements: [] });
    expect(planUuidV7ForRestore(offer({ available: { defaultVersion: '1.5', comment: null }, pgTle: tle() }), plain)).toEqual({ action: 'none', statements: [] });
  });

  it('dump that carries its pg_tle registration (an RDS source): registers nothing itself, so the dump\'s CREATE FUNCTION cannot collide; only makes the role pgtle_admin', () => {
    expect(planUuidV7ForRestore(offer({ pgTle: tle(), tleAdmin: true }), viaTle)).toEqual({ action: 'none', statements: [] });
    expect(planUuidV7ForRestore(offer({ pgTle: tle(), tleAdmin: false }), viaTle)).toEqual({ action: 'pg_tle', statements: ['CREATE EXTENSION IF NOT EXISTS pg_tle', 'GRANT pgtle_admin TO CURRENT_USER'] });
    expect(planUuidV7ForRestore(offer({ pgTle: tle({ installed: true }), tleAdmin: false }), viaTle)).toEqual({ action: 'pg_tle', statements: ['GRANT pgtle_admin TO CURRENT_USER'] });
  });

  it('refuses, in one line, what the server cannot give the dump', () => {
    expect(catchError(() => planUuidV7ForRestore(offer({}), plain)).line).toMatch(/^the server offers neither the pg_uuidv7 extension nor pg_tle/);
    expect(catchError(() => planUuidV7ForRestore(offer({ pgTle: tle({ preloaded: false }) }), plain)).line).toMatch(/offers pg_tle but does not load it/);
    expect(catchError(() => planUuidV7ForRestore(offer({ available: { defaultVersion: '1.6', comment: null } }), viaTle)).line).toMatch(/^the backup registers pg_uuidv7 through pg_tle, and this server does not offer pg_tle; restore it on a server that loads pg_tle/);
    expect(catchError(() => planUuidV7ForRestore(offer({ pgTle: tle({ preloaded: false }) }), viaTle)).line).toMatch(/^the backup registers pg_uuidv7 through pg_tle, and this server offers pg_tle but does not load it; add pg_tle to shared_preload_libraries/);
  });
});

function catchError(fn: () => unknown): Error & { line: string } {
  try {
    fn();
  } catch (e) {
    return e as Error & { line: string };
  }
  throw new Error('expected a throw');
}

describe('provideUuidV7 on the embedded PostgreSQL 17', () => {
  it('sees our SQL extension in share/extension and no pg_tle, then creates it once, idempotently', async () => {
    const db = await createDatabase('provide');
    await withSql(pgAdmin(db), async (sql) => {
      const seen = await readUuidV7Offer(sql);
      expect(seen).toEqual({
        installed: undefined,
        available: { defaultVersion: '1.6', comment: 'pg_uuidv7: create UUIDv7 values in postgres (SQL implementation)' },
        pgTle: NO_TLE,
        tleAdmin: true,
      });
      expect(await provideUuidV7(sql)).toEqual({ action: 'create', schema: 'public', version: '1.6', implementation: 'sql' });
      expect(await provideUuidV7(sql)).toEqual({ action: 'none', schema: 'public', version: '1.6', implementation: 'sql' });
      const [r] = await sql`select uuid_v7_to_timestamptz(uuid_generate_v7()) <= clock_timestamp() as ok`;
      expect(r!.ok).toBe(true);
    });
  });

  it('reports the implementation wherever the extension was put', async () => {
    const db = await createDatabase('provide');
    await withSql(pgAdmin(db), async (sql) => {
      expect(await uuidV7Status(sql)).toBeUndefined();
      await sql.unsafe('CREATE SCHEMA ids');
      expect(await provideUuidV7(sql, { schema: 'ids' })).toEqual({ action: 'create', schema: 'ids', version: '1.6', implementation: 'sql' });
    });
  });
});

describe('a server with neither pg_uuidv7 nor pg_tle', () => {
  let stateDir: string;
  let cluster: LocalCluster;
  beforeAll(async () => {
    stateDir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-nouuid-'));
    // The embedded binaries as they ship: no bundled extensions, so no overlay and no pg_uuidv7.
    cluster = await LocalCluster.open({ stateDir, port: await freePort(), bundled: [] });
    await cluster.init();
    await cluster.start();
  });
  afterAll(async () => {
    await cluster?.stop().catch(() => {});
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('runs from the installation itself', () => {
    expect(cluster.runtime().added).toEqual([]);
    expect(cluster.runtime().overlay).toBeUndefined();
  });

  it('setup refuses with one line naming both choices, before any migration runs', async () => {
    const database = uniqueName('nouuid');
    const e = await setupDatabase({
      admin: cluster.adminSettings(),
      database,
      pool: { max: 10, min: 2, instances: 1 },
      passwords: { migrator: generatePassword() },
      migrations: readMigrations(MIGRATIONS_DIR),
    }).catch((x: unknown) => x);
    expect(isUserError(e)).toBe(true);
    expect((e as { line: string }).line).toMatch(/offers neither the pg_uuidv7 extension nor pg_tle.*install pg_uuidv7.*or enable pg_tle/);
    const sql = connect({ ...cluster.adminSettings(), database }, { max: 1 });
    try {
      const [r] = await sql`select to_regclass('public._sqlx_migrations') is null as no_ledger, (select count(*)::int from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public') as objects`;
      expect({ ...r }).toEqual({ no_ledger: true, objects: 0 });
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});
