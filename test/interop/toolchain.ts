import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../core/paths.ts';

/**
 * The real sqlx toolchain for the interop tests (issue 18): sqlx-cli from crates.io and a tiny
 * Rust application using `sqlx::migrate!()`. build-toolchain.ts builds both in CI's install
 * phase; tests call sqlxToolchain(), which returns the binaries or throws one line saying why
 * there are none (no cargo, crates.io unreachable, not built, built from other sources).
 */

/** The newest sqlx-cli 0.8.x on crates.io when this was written; sqlx-app pins the same sqlx. */
export const SQLX_CLI_VERSION = '0.8.6';
export const SQLX_CLI_FEATURES = ['postgres', 'rustls'] as const;

export const APP_DIR = path.join(REPO_ROOT, 'test', 'interop', 'sqlx-app');

/**
 * Compiled things every checkout on this machine can share: outside the git tree, so a fresh
 * clone reuses them. PGSTEWARD_CACHE, else $XDG_CACHE_HOME/pgsteward, else ~/.cache/pgsteward.
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.PGSTEWARD_CACHE || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'pgsteward'));
}

export function toolchainPaths(env: NodeJS.ProcessEnv = process.env, repoRoot = REPO_ROOT) {
  const cache = cacheDir(env);
  const cliRoot = path.join(cache, 'sqlx-cli', `${SQLX_CLI_VERSION}-${SQLX_CLI_FEATURES.join('-')}`);
  // What this checkout built: the app embeds this checkout's migrations, so its binary is
  // copied out of the shared target folder, which another checkout may rebuild at any time.
  // PGSTEWARD_INTEROP_DIR moves it (the tests of the failure lines use a throwaway one).
  const local = path.resolve(env.PGSTEWARD_INTEROP_DIR || path.join(repoRoot, '.pgsteward', 'interop'));
  return {
    cache,
    cliRoot,
    sqlx: path.join(cliRoot, 'bin', 'sqlx'),
    cliLock: path.join(cache, 'sqlx-cli', 'install.lock'),
    appTarget: path.join(cache, 'sqlx-app', 'target'),
    appLock: path.join(cache, 'sqlx-app', 'build.lock'),
    app: path.join(local, 'sqlx-app'),
    status: path.join(local, 'toolchain.json'),
    log: path.join(local, 'build.log'),
  };
}

/** The folders the app's `sqlx::migrate!("…")` calls embed, relative to the app (as build.rs reads them). */
export function embeddedFolders(mainRs: string): string[] {
  return mainRs.split('sqlx::migrate!("').slice(1).map((piece) => piece.split('"')[0]!);
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile())
    .sort();
}

/**
 * A digest of everything the app binary is built from: its manifest, lock file, build script,
 * sources and the migration files it embeds. A binary whose recorded digest differs would run
 * other migrations than the checkout has.
 */
export function appInputsDigest(appDir = APP_DIR): string {
  const mainRs = readFileSync(path.join(appDir, 'src', 'main.rs'), 'utf8');
  const files = [
    ...['Cargo.toml', 'Cargo.lock', 'build.rs'].map((f) => path.join(appDir, f)),
    ...filesUnder(path.join(appDir, 'src')),
    ...embeddedFolders(mainRs).flatMap((folder) => filesUnder(path.resolve(appDir, folder)).filter((f) => f.endsWith('.sql'))),
  ];
  const h = createHash('sha256');
  for (const f of files) h.update(path.relative(appDir, f)).update('\0').update(readFileSync(f)).update('\0');
  return h.digest('hex');
}

export type ToolchainStatus =
  | { format: 1; ok: true; sqlx: string; sqlxVersion: string; app: string; appInputs: string; builtAt: string }
  | { format: 1; ok: false; line: string; builtAt: string };

export interface Toolchain {
  sqlx: string;
  app: string;
}

/** The toolchain, or an Error whose message is the one line the failing test shows. */
export function sqlxToolchain(env: NodeJS.ProcessEnv = process.env, repoRoot = REPO_ROOT, appDir = APP_DIR): Toolchain {
  const p = toolchainPaths(env, repoRoot);
  const rebuild = 'run npx tsx test/interop/build-toolchain.ts (CI’s install phase does)';
  let status: ToolchainStatus;
  try {
    status = JSON.parse(readFileSync(p.status, 'utf8')) as ToolchainStatus;
  } catch {
    throw new Error(`the sqlx interop toolchain is not built (no ${p.status}); ${rebuild}`);
  }
  if (!status.ok) throw new Error(status.line);
  for (const f of [status.sqlx, status.app]) if (!existsSync(f)) throw new Error(`the sqlx interop toolchain is incomplete: ${f} is missing; ${rebuild}`);
  if (status.appInputs !== appInputsDigest(appDir)) throw new Error(`the sqlx app was built from other sources than this checkout's (its code or the migrations it embeds changed since); ${rebuild}`);
  return { sqlx: status.sqlx, app: status.app };
}

const REBUILD = 'then run npx tsx test/interop/build-toolchain.ts';

/** The one line for a failed cargo run: crates.io unreachable, or cargo's own first error. Pure. */
export function cargoFailure(output: string, step: string, logFile: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const network = /Couldn't resolve host|Could not resolve host|failed to (get|download|query|fetch|update)|network failure|spurious network error|Connection refused|Connection timed out|Operation timed out|SSL connect error|failed to get a 200 OK response/i;
  const hit = lines.find((l) => network.test(l));
  if (hit) {
    // cargo nests the cause: the first network line says what, the last says why
    const cause = lines.at(-1)!;
    const why = cause === hit ? '' : `: ${cause}`;
    return `the sqlx interop toolchain could not be built: crates.io is unreachable (${step}: ${hit.replace(/^error:\s*/, '')}${why}); restore access to crates.io, ${REBUILD}`;
  }
  const err = lines.find((l) => l.startsWith('error')) ?? lines.at(-1) ?? 'no output';
  return `the sqlx interop toolchain could not be built: ${step} failed (${err.replace(/^error(\[E\d+\])?:\s*/, '')}); see ${logFile}, fix it, ${REBUILD}`;
}
