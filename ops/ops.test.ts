import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, spawnCli, waitFor } from '../test/cli.ts';
import { freePort } from '../core/local/ports.ts';
import { withSql } from '../test/db.ts';
import { expectMadeBy17 } from '../test/backups.ts';
import { linkInstalledTools } from '../test/pg-tools.ts';
import { parseManifest } from '../core/backup/manifest.ts';
import type { ConnectionSettings } from '../core/db/url.ts';

/**
 * The ops commands end to end, on a local cluster of their own (own state folder and port),
 * exactly as a user runs them: no TTY, real PostgreSQL 17.
 */
let home: string;
let env: NodeJS.ProcessEnv;
let port: number;

function secrets(): { superuser: string; roles: Record<string, string> } {
  return JSON.parse(readFileSync(path.join(home, 'secrets', 'local-pg17.json'), 'utf8'));
}
function admin(database = 'app'): ConnectionSettings {
  return { host: '127.0.0.1', port, database, user: 'postgres', password: secrets().superuser, ssl: 'disable' };
}
function allOutput(...rs: { stdout: string; stderr: string }[]): string {
  return rs.map((r) => r.stdout + r.stderr).join('\n');
}
const oneLine = (s: string) => s.trim().split('\n').filter((l) => !l.startsWith('npm warn')).length === 1;

beforeAll(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-ops-'));
  port = await freePort();
  env = { PGSTEWARD_HOME: home, LOCAL_PG_PORT: String(port), DB_TARGET: '', DATABASE_URL: '' };
});
afterAll(async () => {
  await runCli('ops/db-stop.ts', [], env);
  rmSync(home, { recursive: true, force: true });
});

describe('ops commands on the local target', () => {
  it('npm start: brings up PostgreSQL 17, sets up, proves it works, redacts every URL', async () => {
    const r = await runCli('ops/start.ts', ['--detach', '--json'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(true);
    expect(report.cluster.started).toBe(true);
    expect(report.cluster.version).toMatch(/^17\./);
    expect(report.smoke.map((s: { name: string; ok: boolean }) => s.ok)).toEqual([true, true, true, true, true]);
    expect(report.roles.app).toBe(`postgres://app_app:***@127.0.0.1:${port}/app`);
    const s = secrets();
    for (const pw of [s.superuser, ...Object.values(s.roles)]) expect(r.stdout).not.toContain(pw);
    const mode = (f: string) => statSync(f).mode & 0o777;
    expect(mode(path.join(home, 'secrets', 'local-pg17.json'))).toBe(0o600);
  });

  it('a second start reuses the running cluster and applies nothing', async () => {
    const r = await runCli('ops/start.ts', ['--detach', '--json'], env);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.cluster.started).toBe(false);
    expect(report.setup.applied).toEqual([]);
  });

  it('status reports target, version, migrations and roles', async () => {
    const r = await runCli('ops/status.ts', ['--json'], env);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.target).toBe('local');
    expect(s.serverVersion).toMatch(/^17\./);
    expect(s.migrations.pending).toEqual([]);
    expect(s.migrations.applied.length).toBeGreaterThanOrEqual(4);
    expect(s.roles.missing).toEqual([]);
  });

  it('reset-db refuses prod, refuses without confirmation, and refuses --yes off local, changing nothing', async () => {
    await withSql(admin(), (sql) => sql`insert into users (email, slug) values ('keep@example.test', 'keep')`);
    const prod = await runCli('ops/reset-db.ts', ['--target', 'prod'], { ...env, DATABASE_URL: 'postgres://master:Sup3rSecretPw@db.example.invalid/postgres' });
    expect(prod.code).toBe(2);
    expect(prod.stderr).toMatch(/^error: reset-db refuses the prod target; /);
    expect(oneLine(prod.stderr)).toBe(true);
    expect(allOutput(prod)).not.toContain('Sup3rSecretPw');

    const unconfirmed = await runCli('ops/reset-db.ts', [], env);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/needs confirmation and no terminal is attached; nothing was changed/);

    const devYes = await runCli('ops/reset-db.ts', ['--yes', '--target', 'dev', '--url', `postgres://postgres@127.0.0.1:${port}/postgres`], env);
    expect(devYes.code).toBe(2);
    expect(devYes.stderr).toMatch(/--yes is accepted only for the local target/);

    const rows = await withSql(admin(), (sql) => sql`select 1 from users where slug = 'keep'`);
    expect(rows).toHaveLength(1);
  });

  it('reset-db --yes on local keeps a way back, then rebuilds the schema', async () => {
    const r = await runCli('ops/reset-db.ts', ['--yes', '--json'], env);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.summary).toMatch(/^applied \d+, 0 already applied$/);
    const after = await withSql(admin(), (sql) => sql`select 1 from users where slug = 'keep'`);
    expect(after).toHaveLength(0);
    // This state folder has no client tools yet and only Debian's pg_dump 15 is on the machine, so
    // no pg_dump can dump PostgreSQL 17: the way back is a server-side copy that still has the row.
    expect(out.backup).toBe(null);
    const copy = /database (app_bak_[a-z0-9]+)/.exec(out.wayBack)?.[1];
    expect(copy, out.wayBack).toBeDefined();
    expect(out.copy).toBe(copy);
    const kept = await withSql(admin(copy!), (sql) => sql`select 1 from users where slug = 'keep'`);
    expect(kept).toHaveLength(1);
  });

  it('reset-db --yes after npm run pg-tools keeps a pg_dump 17 safety backup, which restore-db brings back', async () => {
    // What npm run pg-tools leaves in a state folder (the checkout's installed tools, linked).
    expect(linkInstalledTools(home, 17)).toBe(true);
    await withSql(admin(), (sql) => sql`insert into users (email, slug) values ('keep2@example.test', 'keep2')`);
    const r = await runCli('ops/reset-db.ts', ['--yes', '--json'], env, 120_000);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.copy).toBe(null);
    expect(out.backup).toMatch(new RegExp(`^${home.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/backups/local/app/local-\\d{8}T\\d{6}Z-pre-reset\\.dump$`));
    expect(out.wayBack).toContain(`restore-db ${path.basename(out.backup)} --into-existing --confirm app`);
    const manifest = parseManifest(readFileSync(out.backup.replace(/\.dump$/, '.json'), 'utf8'), 'safety backup');
    expectMadeBy17(manifest);
    expect(manifest.label).toBe('pre-reset');
    expect(await withSql(admin(), (sql) => sql`select 1 from users where slug = 'keep2'`)).toHaveLength(0);

    const restored = await runCli('ops/restore-db.ts', [path.basename(out.backup), '--as', 'app_wayback', '--json'], env, 120_000);
    expect(restored.code, restored.stderr).toBe(0);
    expect(JSON.parse(restored.stdout)).toMatchObject({ ok: true, destination: { database: 'app_wayback', created: true } });
    try {
      expect(await withSql(admin('app_wayback'), (sql) => sql`select 1 from users where slug = 'keep2'`)).toHaveLength(1);
    } finally {
      await withSql(admin('postgres'), (sql) => sql`drop database if exists app_wayback with (force)`);
    }
  });

  it('bad names and bad connection settings give one clear line and exit 2, with no password', async () => {
    const badName = await runCli('ops/setup-db.ts', ['--database', 'Bad-Name'], env);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toMatch(/^error: invalid database name "Bad-Name"; use 1-48 characters/);
    expect(oneLine(badName.stderr)).toBe(true);

    const refused = await runCli('ops/setup-db.ts', ['--target', 'dev'], { ...env, DATABASE_URL: 'postgres://admin:Hunter2Hunter2@127.0.0.1:1/postgres' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/cannot connect to postgres:\/\/admin:\*\*\*@127\.0\.0\.1:1\/postgres: connection refused/);
    expect(oneLine(refused.stderr)).toBe(true);
    expect(allOutput(refused)).not.toContain('Hunter2Hunter2');

    const badAuth = await runCli('ops/status.ts', ['--target', 'dev', '--url', `postgres://postgres@127.0.0.1:${port}/postgres`], { ...env, PGPASSWORD: 'WrongPassword99' });
    expect(badAuth.code).toBe(2);
    expect(badAuth.stderr).toMatch(/authentication failed for user "postgres"/);
    expect(allOutput(badAuth)).not.toContain('WrongPassword99');

    const badUrl = await runCli('ops/setup-db.ts', ['--url', 'mysql://x:Pw123456@h/db'], env);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/--url has scheme "mysql", expected postgres/);

    const badFlag = await runCli('ops/setup-db.ts', ['--frobnicate'], env);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/Unknown option '--frobnicate'.*see setup-db --help/);
    expect(badFlag.stderr).not.toMatch(/\n\s+at /);
  });

  it('setup-db prints one line per change it makes, and nothing extra on a converged database', async () => {
    await withSql(admin(), (sql) => sql.unsafe('GRANT pg_execute_server_program TO app_app; GRANT TRUNCATE ON users TO app_app; ALTER ROLE app_app CREATEROLE'));
    const fixed = await runCli('ops/setup-db.ts', [], env);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stdout.trim().split('\n')).toEqual([
      'removed CREATEROLE from app_app',
      'revoked membership of app_app in pg_execute_server_program',
      'revoked TRUNCATE on table public.users from app_app',
      expect.stringMatching(/^setup-db \(local\/app\): applied 0, \d+ already applied$/),
    ]);
    const again = await runCli('ops/setup-db.ts', [], env);
    expect(again.stdout).toMatch(/^setup-db \(local\/app\): applied 0, \d+ already applied\n$/);
  });

  it('keeps a password given by hand: recorded in the secrets file, not undone by the next run; a weak one is refused', async () => {
    const given = 'Given-By-Hand-Password-42';
    const weak = await runCli('ops/setup-db.ts', [], { ...env, DB_APP_PASSWORD: 'short' });
    expect(weak.code).toBe(2);
    expect(weak.stderr).toMatch(/^error: DB_APP_PASSWORD is too weak \(5 characters, 5 different\); nothing was changed; use at least 16 characters/);
    expect(weak.stderr).not.toMatch(/short\b(?! characters)/);

    const set = await runCli('ops/setup-db.ts', [], { ...env, DB_APP_PASSWORD: given });
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/^set the password of app_app$/m);
    expect(set.stdout + set.stderr).not.toContain(given);
    expect(secrets().roles.app_app).toBe(given);
    // the next run without the variable keeps it
    const next = await runCli('ops/setup-db.ts', [], env);
    expect(next.stdout).not.toMatch(/password/);
    await withSql({ ...admin(), user: 'app_app', password: given }, (sql) => sql`select 1`);
  });

  it('refuses a secrets file other users can read, as ssh refuses such a key', async () => {
    const file = path.join(home, 'secrets', 'local-pg17.json');
    chmodSync(file, 0o644);
    try {
      const r = await runCli('ops/status.ts', [], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`error: secrets file ${file} is readable or writable by other users (mode 0644); run chmod 600 ${file}; if others could read it, rotate: remove the "roles" entries from it and run setup-db, which generates new passwords\n`);
    } finally {
      chmodSync(file, 0o600);
    }
    expect((await runCli('ops/status.ts', [], env)).code).toBe(0);
  });

  it('--help documents the flags and exit codes for every command', async () => {
    for (const script of ['ops/start.ts', 'ops/setup-db.ts', 'ops/reset-db.ts', 'ops/status.ts', 'ops/db-start.ts', 'ops/db-stop.ts']) {
      const r = await runCli(script, ['--help'], env);
      expect(r.code, script).toBe(0);
      expect(r.stdout).toMatch(/Usage: /);
      expect(r.stdout).toMatch(/Exit codes: 0 success, 1 findings, 2 errors\./);
    }
  });

  it('recovers from a crash: a stale postmaster.pid is handled on the next start', async () => {
    const pidFile = path.join(home, 'local', 'pg17', 'postmaster.pid');
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !alive(pid));
    // children notice the dead postmaster and exit; the pid file stays behind
    expect(existsSync(pidFile)).toBe(true);
    const r = await runCli('ops/db-start.ts', ['--json'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).started).toBe(true);
    const st = await runCli('ops/status.ts', [], env);
    expect(st.code).toBe(0);
  });

  it('npm start shuts PostgreSQL down cleanly on Ctrl-C when it started it', async () => {
    expect((await runCli('ops/db-stop.ts', [], env)).code).toBe(0);
    const child = spawnCli('ops/start.ts', [], env);
    await waitFor(() => child.output.stdout.includes('Press Ctrl-C'), 60_000);
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(child.output.stderr).toMatch(/stopping PostgreSQL cleanly/);
    expect(existsSync(path.join(home, 'local', 'pg17', 'postmaster.pid'))).toBe(false);
    const log = readFileSync(path.join(home, 'local', 'pg17.log'), 'utf8');
    expect(log).toMatch(/database system is shut down/);
    const st = await runCli('ops/status.ts', [], env);
    expect(st.code).toBe(1);
    expect(st.stdout).toMatch(/cluster not running/);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
