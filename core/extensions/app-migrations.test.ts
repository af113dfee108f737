import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../local/ports.ts';
import { REPO_ROOT } from '../paths.ts';
import { runCli } from '../../test/cli.ts';
import { withSql } from '../../test/db.ts';
import type { ConnectionSettings } from '../db/url.ts';

/**
 * An application's own migrations, starting with CREATE EXTENSION IF NOT EXISTS pg_uuidv7 and
 * using all five functions, applied by setup-db on the local target (embedded PostgreSQL 17,
 * a cluster of its own), then used as the migrator the way a developer would with psql.
 */
const FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'uuidv7-app', 'migrations');
let home: string;
let env: NodeJS.ProcessEnv;
let port: number;

function settings(user: string, password: string): ConnectionSettings {
  return { host: '127.0.0.1', port, database: 'uuidapp', user, password, ssl: 'disable' };
}
function secrets(): { superuser: string; roles: Record<string, string> } {
  return JSON.parse(readFileSync(path.join(home, 'secrets', 'local-pg17.json'), 'utf8'));
}

beforeAll(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-uuidapp-'));
  port = await freePort();
  env = { PGSTEWARD_HOME: home, LOCAL_PG_PORT: String(port), DB_TARGET: '', DATABASE_URL: '' };
});
afterAll(async () => {
  await runCli('ops/db-stop.ts', [], env);
  rmSync(home, { recursive: true, force: true });
});

describe('an application’s pg_uuidv7 migrations on the local target', () => {
  it('setup-db applies them on the embedded PostgreSQL 17', async () => {
    const r = await runCli('ops/setup-db.ts', ['--database', 'uuidapp', '--migrations', FIXTURE, '--json'], env, 120_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.migrations.applied.map((a: { version: string }) => a.version)).toEqual(['20240101000000', '20240102000000']);
  });

  it('the migrator can run CREATE EXTENSION IF NOT EXISTS pg_uuidv7 and every function', async () => {
    const migrator = settings('uuidapp_migrator', secrets().roles['uuidapp_migrator']!);
    await withSql(migrator, async (sql) => {
      await sql.unsafe('CREATE EXTENSION IF NOT EXISTS pg_uuidv7');
      const [now] = await sql`select uuid_generate_v7() as id, uuid_v7_to_timestamptz(uuid_generate_v7()) <= clock_timestamp() as ok`;
      expect(now!.ok).toBe(true);
      const rows = await sql<{ name: string; id: string; created: string; created_utc: string }[]>`
        select name, id::text, created::text, created_utc::text from event_times where name <> 'migrated' order by id`;
      expect(rows.map((x) => [x.name, x.id.slice(0, 13), x.created, x.created_utc])).toEqual([
        ['readme', '018570bb-4a7d', '2023-01-02 04:26:40.637+00', '2023-01-02 04:26:40.637'],
        ['leap day', '018df4dc-5495', '2024-02-29 12:34:56.789+00', '2024-02-29 12:34:56.789'],
      ]);
      expect(rows[1]!.id).toBe('018df4dc-5495-7000-8000-000000000000');
      const since = await sql<{ name: string }[]>`select name from events_since('2024-01-01 00:00:00+00')`;
      expect(since.map((x) => x.name)).toEqual(['leap day', 'migrated']);
    });
  });

  it('a later setup-db applies a new migration that makes keys, after setup has granted and revoked privileges', async () => {
    const dir = path.join(home, 'migrations');
    cpSync(FIXTURE, dir, { recursive: true });
    writeFileSync(path.join(dir, '20240103000000_more.sql'), "INSERT INTO events (happened_at, name) VALUES (clock_timestamp(), 'later');\n");
    const r = await runCli('ops/setup-db.ts', ['--database', 'uuidapp', '--migrations', dir, '--json'], env, 120_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).migrations.applied.map((a: { version: string }) => a.version)).toEqual(['20240103000000']);
  });
});
