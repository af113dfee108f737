#!/usr/bin/env -S npx tsx
/**
 * CI's install phase: installs sqlx-cli (pinned, postgres + rustls only) into the shared cache
 * unless it is already there, builds test/interop/sqlx-app with its target folder in the cache,
 * copies the app into this checkout's .pgsteward/interop, and records the outcome for
 * sqlxToolchain(). Where cargo or crates.io is missing it records that one line and exits 1;
 * the interop tests then fail with it instead of being skipped.
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { takeLock } from '../../core/pgtools/install-lock.ts';
import { APP_DIR, appInputsDigest, cargoFailure, SQLX_CLI_FEATURES, SQLX_CLI_VERSION, toolchainPaths, type ToolchainStatus } from './toolchain.ts';

const p = toolchainPaths();
mkdirSync(path.dirname(p.status), { recursive: true });
writeFileSync(p.log, '');
const rebuild = 'then run npx tsx test/interop/build-toolchain.ts';

class BuildFailure extends Error {}

function record(status: ToolchainStatus): void {
  const tmp = `${p.status}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(status, null, 2) + '\n');
  renameSync(tmp, p.status);
}

function cargo(args: string[], step: string): Promise<void> {
  appendFileSync(p.log, `\n$ cargo ${args.join(' ')}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn('cargo', args, { env: { ...process.env, CARGO_TERM_COLOR: 'never', CARGO_TERM_PROGRESS_WHEN: 'never' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const take = (d: Buffer) => {
      appendFileSync(p.log, d);
      output = (output + d.toString('utf8')).slice(-65_536);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (e) => reject(new BuildFailure(`the sqlx interop toolchain could not be built: cargo cannot run (${e.message}); install Rust (https://rustup.rs), ${rebuild}`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new BuildFailure(cargoFailure(output, step, p.log)))));
  });
}

function versionOf(bin: string): string | undefined {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  if (spawnSync('cargo', ['--version'], { encoding: 'utf8' }).status !== 0) {
    throw new BuildFailure(`the sqlx interop toolchain could not be built: cargo is not on PATH; install Rust (https://rustup.rs), ${rebuild}`);
  }

  const wanted = `sqlx-cli ${SQLX_CLI_VERSION}`;
  let started = Date.now();
  mkdirSync(path.dirname(p.cliLock), { recursive: true });
  const releaseCli = await takeLock(p.cliLock, { what: 'sqlx-cli install', onWait: (pid) => console.log(`sqlx-cli: waiting for another install (pid ${pid})`) });
  try {
    if (versionOf(p.sqlx) === wanted) {
      console.log(`sqlx-cli ${SQLX_CLI_VERSION}: reused ${p.sqlx}`);
    } else {
      await cargo(['install', 'sqlx-cli', '--version', `=${SQLX_CLI_VERSION}`, '--locked', '--force', '--no-default-features', '--features', SQLX_CLI_FEATURES.join(','), '--root', p.cliRoot], `cargo install sqlx-cli ${SQLX_CLI_VERSION}`);
      const got = versionOf(p.sqlx);
      if (got !== wanted) throw new BuildFailure(`the sqlx interop toolchain could not be built: the installed ${p.sqlx} reports ${got ?? 'nothing'}, not ${wanted}; ${rebuild}`);
      console.log(`sqlx-cli ${SQLX_CLI_VERSION}: installed in ${seconds(started)} (${p.sqlx})`);
    }
  } finally {
    releaseCli();
  }

  started = Date.now();
  mkdirSync(path.dirname(p.appLock), { recursive: true });
  const releaseApp = await takeLock(p.appLock, { what: 'sqlx-app build', onWait: (pid) => console.log(`sqlx-app: waiting for another build (pid ${pid})`) });
  try {
    // The digest is taken before the build: a source edited during it makes the copy stale, not wrongly fresh.
    const inputs = appInputsDigest();
    await cargo(['build', '--locked', '--manifest-path', path.join(APP_DIR, 'Cargo.toml'), '--target-dir', p.appTarget], 'cargo build of test/interop/sqlx-app');
    // Copied while the lock is held: another checkout's build cannot overwrite it before.
    const tmp = `${p.app}.${process.pid}.tmp`;
    copyFileSync(path.join(p.appTarget, 'debug', 'sqlx-app'), tmp);
    chmodSync(tmp, 0o755);
    renameSync(tmp, p.app);
    record({ format: 1, ok: true, sqlx: p.sqlx, sqlxVersion: SQLX_CLI_VERSION, app: p.app, appInputs: inputs, builtAt: new Date().toISOString() });
    console.log(`sqlx-app: built in ${seconds(started)} (target folder ${p.appTarget}; binary ${p.app})`);
  } finally {
    releaseApp();
  }
}

try {
  await main();
} catch (e) {
  const line = e instanceof BuildFailure ? e.message : `the sqlx interop toolchain could not be built: ${(e as Error).message.split('\n')[0]}; ${rebuild}`;
  record({ format: 1, ok: false, line, builtAt: new Date().toISOString() });
  console.error(line);
  process.exitCode = 1;
}
