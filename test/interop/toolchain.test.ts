import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readMigrations } from '../../core/migrations/files.ts';
import { MIGRATIONS_DIR, REPO_ROOT } from '../../core/paths.ts';
import { APP_DIR, appInputsDigest, cargoFailure, embeddedFolders, sqlxToolchain, SQLX_CLI_VERSION, toolchainPaths } from './toolchain.ts';

const FIXTURE_MIGRATIONS = path.join(REPO_ROOT, 'test', 'fixtures', 'app', 'migrations');
const tmp = (prefix: string) => mkdtempSync(path.join(os.tmpdir(), `pgsteward-${prefix}-`));

describe('the sqlx toolchain built in the install phase', () => {
  it('has the pinned sqlx-cli and the app, which embeds our migrations', () => {
    const { sqlx, app } = sqlxToolchain();
    expect(execFileSync(sqlx, ['--version'], { encoding: 'utf8' }).trim()).toBe(`sqlx-cli ${SQLX_CLI_VERSION}`);
    expect(execFileSync(sqlx, ['migrate', '--help'], { encoding: 'utf8' })).toMatch(/^\s+run\s/m);
    expect(execFileSync(app, ['--help'], { encoding: 'utf8' })).toMatch(/^sqlx-app: a Rust application that runs sqlx::migrate!\(\) \(sqlx 0\.8\.6\)\n/);
    const versions = (dir: string) => readMigrations(dir).map((m) => String(m.version));
    const sets = execFileSync(app, ['list'], { encoding: 'utf8' }).trimEnd().split('\n').map((l) => /^([\w-]+): (\d+) migrations: (.*)$/.exec(l)!.slice(1));
    // Each set embeds its folder's migrations (a reversible folder's downs listed as `<version>(down)`).
    expect(sets.map(([name, n, list]) => [name, Number(n), [...new Set(list!.split(' ').filter((v) => !v.endsWith('(down)')))]])).toEqual([
      ['ours', versions(MIGRATIONS_DIR).length, versions(MIGRATIONS_DIR)],
      ['fixture', versions(FIXTURE_MIGRATIONS).length, versions(FIXTURE_MIGRATIONS)],
      ['no-transaction', 3, ['1', '2', '3']],
    ]);
    expect(sets[1]![2]!.split(' ').filter((v) => v.endsWith('(down)'))).toHaveLength(versions(FIXTURE_MIGRATIONS).length);
    // bad usage is exit 2 with one line, a failed migration run exit 1 with one line
    const r = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      new Promise<{ code: number; stderr: string }>((resolve) => execFile(app, args, { env: { PATH: process.env.PATH, ...env } }, (e, _o, stderr) => resolve({ code: (e as { code?: number } | null)?.code ?? 0, stderr })));
    return Promise.all([
      r(['frobnicate']).then((x) => expect(x).toEqual({ code: 2, stderr: 'error: unknown arguments ["frobnicate"]; see sqlx-app --help\n' })),
      r(['run']).then((x) => expect(x).toEqual({ code: 1, stderr: 'error: DATABASE_URL is not set\n' })),
      r(['run', 'nope'], { DATABASE_URL: 'postgres://x@127.0.0.1:1/x' }).then((x) => expect(x).toEqual({ code: 1, stderr: 'error: no migration set "nope" (sqlx-app list shows them)\n' })),
    ]);
  });
});

describe('when the toolchain is missing, tests fail with one line that says why', () => {
  it('not built, incomplete, or built from other sources', () => {
    const interop = tmp('interop');
    const env = { PGSTEWARD_INTEROP_DIR: interop };
    expect(() => sqlxToolchain(env)).toThrow(new RegExp(`^the sqlx interop toolchain is not built \\(no ${interop}/toolchain\\.json\\); run npx tsx test/interop/build-toolchain\\.ts`));
    const ok = { format: 1, ok: true, sqlx: path.join(interop, 'sqlx'), sqlxVersion: SQLX_CLI_VERSION, app: path.join(interop, 'sqlx-app'), appInputs: appInputsDigest(), builtAt: '' };
    writeFileSync(toolchainPaths(env).status, JSON.stringify(ok));
    expect(() => sqlxToolchain(env)).toThrow(`the sqlx interop toolchain is incomplete: ${ok.sqlx} is missing; run npx tsx test/interop/build-toolchain.ts (CI’s install phase does)`);
    writeFileSync(ok.sqlx, '');
    writeFileSync(ok.app, '');
    expect(sqlxToolchain(env)).toEqual({ sqlx: ok.sqlx, app: ok.app });
    writeFileSync(toolchainPaths(env).status, JSON.stringify({ ...ok, appInputs: 'other' }));
    expect(() => sqlxToolchain(env)).toThrow(/^the sqlx app was built from other sources than this checkout's/);
  });

  it('the app’s digest covers the migrations its migrate!() calls embed', () => {
    const dir = tmp('digest');
    const app = path.join(dir, 'app');
    cpSync(APP_DIR, app, { recursive: true, filter: (f) => !f.includes(`${path.sep}target`) });
    mkdirSync(path.join(dir, 'm'));
    writeFileSync(path.join(dir, 'm', '0001_a.sql'), 'select 1;');
    const main = path.join(app, 'src', 'main.rs');
    writeFileSync(main, readFileSync(main, 'utf8').replace('("ours", sqlx::migrate!("../../../migrations")),', '("ours", sqlx::migrate!("../m")),'));
    expect(embeddedFolders(readFileSync(main, 'utf8'))[0]).toBe('../m');
    const before = appInputsDigest(app);
    writeFileSync(path.join(dir, 'm', 'notes.txt'), 'not a migration');
    expect(appInputsDigest(app)).toBe(before);
    writeFileSync(path.join(dir, 'm', '0001_a.sql'), 'select 2;');
    expect(appInputsDigest(app)).not.toBe(before);
    expect(embeddedFolders(readFileSync(path.join(APP_DIR, 'src', 'main.rs'), 'utf8'))).toEqual(['../../../migrations', '../../fixtures/app/migrations', '../migrations/no-transaction']);
  });

  it('crates.io unreachable: the build records the line, exits 1, and the helper throws it', async () => {
    const cargoHome = tmp('cargo-home');
    writeFileSync(path.join(cargoHome, 'config.toml'), '[source.crates-io]\nreplace-with = "dead"\n[source.dead]\nregistry = "sparse+http://127.0.0.1:1/index/"\n[net]\nretry = 0\n');
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, CARGO_HOME: cargoHome, PGSTEWARD_CACHE: tmp('cache'), PGSTEWARD_INTEROP_DIR: tmp('interop-off') };
    const tsx = path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs');
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, ['--import', tsx, path.join(REPO_ROOT, 'test', 'interop', 'build-toolchain.ts')], { env, timeout: 120_000 }, (e, stdout, stderr) => resolve({ code: (e as { code?: number } | null)?.code ?? 0, stdout, stderr })),
    );
    expect(r.code).toBe(1);
    const line = /^the sqlx interop toolchain could not be built: crates\.io is unreachable \(cargo install sqlx-cli 0\.8\.6: failed to query replaced source registry `crates-io`: .*Could not connect to server.*\); restore access to crates\.io, then run npx tsx test\/interop\/build-toolchain\.ts$/;
    expect(r.stderr.trimEnd()).toMatch(line);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(() => sqlxToolchain(env)).toThrow(line);
  });

  it('names cargo’s own error otherwise', () => {
    const out = '   Compiling pgsteward-sqlx-app v0.0.0\nerror[E0425]: cannot find value `x` in this scope\n --> src/main.rs:3:5\nerror: could not compile `pgsteward-sqlx-app`\n';
    expect(cargoFailure(out, 'cargo build of test/interop/sqlx-app', '/l/build.log')).toBe('the sqlx interop toolchain could not be built: cargo build of test/interop/sqlx-app failed (cannot find value `x` in this scope); see /l/build.log, fix it, then run npx tsx test/interop/build-toolchain.ts');
    expect(cargoFailure('error: failed to get a 200 OK response, got 404', 'cargo install sqlx-cli 0.8.6', '/l')).toMatch(/crates\.io is unreachable \(cargo install sqlx-cli 0\.8\.6: failed to get a 200 OK response, got 404\)/);
  });
});
