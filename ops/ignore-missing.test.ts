import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../core/paths.ts';
import { runCli } from '../test/cli.ts';
import { pgAdmin, uniqueName } from '../test/db.ts';

/**
 * sqlx's --ignore-missing, on setup-db, status and checks, for an application's reversible
 * folder (the fixture app) from which an applied migration's files were removed on purpose.
 */
const FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'app', 'migrations');

describe('applied versions with no file: refused by default, passed over with --ignore-missing', () => {
  const database = uniqueName('ignmiss');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-ignore-missing-'));
  const a = pgAdmin();
  const url = `postgres://${a.user}@127.0.0.1:${a.port}/${database}`;
  const env = { PGSTEWARD_HOME: mkdtempSync(path.join(os.tmpdir(), 'pgsteward-ignmiss-home-')), PGPASSWORD: a.password, DB_TARGET: '', DATABASE_URL: '' };
  const run = (script: string, args: string[]) => runCli(script, ['--url', url, '--migrations', dir, ...args], env, 120_000);
  let last = '';

  beforeAll(async () => {
    cpSync(FIXTURE, dir, { recursive: true });
    const setup = await run('ops/setup-db.ts', []);
    expect(setup.code, setup.stderr).toBe(0);
    // The newest migration, removed from the folder after it was applied.
    const { readdirSync } = await import('node:fs');
    const ups = readdirSync(dir).filter((f) => f.endsWith('.up.sql')).sort();
    last = ups.at(-1)!;
    rmSync(path.join(dir, last));
    rmSync(path.join(dir, last.replace('.up.sql', '.down.sql')), { force: true });
  }, 180_000);

  it('status refuses without the flag, naming it; with it, passes and says the folder is reversible', async () => {
    const version = last.split('_')[0]!;
    const refused = await run('ops/status.ts', ['--json']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout).migrations.problem).toMatch(new RegExp(`migration ${version} .*is applied but has no file.*--ignore-missing`));
    const ok = await run('ops/status.ts', ['--ignore-missing']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/reversible folder \(\.up\.sql\/\.down\.sql\): the \d+ \.up\.sql files are the migrations; the \d+ \.down\.sql files are never run \(up-only\)/);
  });

  it('setup-db refuses without the flag (exit 2, one line); with it, applies nothing', async () => {
    const refused = await run('ops/setup-db.ts', []);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/--ignore-missing/);
    const ok = await run('ops/setup-db.ts', ['--ignore-missing', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).migrations.applied).toEqual([]);
  });

  it('the migration-state check reports the missing version without the flag, and passes it over with it', async () => {
    const config = path.join(REPO_ROOT, 'test', 'fixtures', 'app', 'pgsteward.config.json');
    const refused = await run('checks/cli.ts', ['--config', config, '--only', 'migration-state', '--json']);
    expect(refused.code).toBe(1);
    const findings = JSON.parse(refused.stdout).checks[0].findings;
    expect(findings.map((f: { message: string }) => f.message)).toEqual([expect.stringMatching(/^missing: .*is applied but has no file/)]);
    const ok = await run('checks/cli.ts', ['--config', config, '--only', 'migration-state', '--ignore-missing', '--json', '--verbose']);
    expect(ok.code, ok.stdout).toBe(0);
    const passed = JSON.parse(ok.stdout).checks[0].passed as string[];
    expect(passed).toContain(`version ${BigInt(last.split('_')[0]!)}: applied, no file, passed over (--ignore-missing)`);
    expect(passed.some((p) => p.startsWith('reversible folder'))).toBe(true);
  });

  it('refuses a bad --lock-wait-timeout in one line, before connecting', async () => {
    const r = await run('ops/setup-db.ts', ['--lock-wait-timeout', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: --lock-wait-timeout must be a number of seconds between 0 and 86400, got "soon"; pass e.g. --lock-wait-timeout 120\n');
  });
});
