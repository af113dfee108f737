import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { takeLock } from './install-lock.ts';
import { pidAlive } from '../processes.ts';
import { parseServerVersion } from '../local/binaries.ts';
import {
  aptCommands,
  aptConfig,
  aptProblem,
  aptSourcesList,
  clientPackages,
  DEBIAN_KEYRING,
  DEBIAN_SUITES,
  debianMirrors,
  extractCommand,
  fieldsCommand,
  INSTALLED_TOOLS,
  isUnreachable,
  libraryListCommand,
  librariesOutside,
  loaderInvocation,
  parseDebFields,
  parseManifest,
  platformRefusal,
  toolsLayout,
  wrapperScript,
  type Command,
  type InstalledPackage,
  type InstalledTool,
  type Platform,
  type ToolsLayout,
  type ToolsManifest,
} from './install-plan.ts';

export interface InstallOptions {
  stateDir: string;
  major: number;
  /** Fetch and extract again even when everything is in place. */
  reinstall?: boolean;
  env?: NodeJS.ProcessEnv;
  onProgress?: (message: string) => void;
}

export interface InstallReport {
  outcome: 'installed' | 'already-installed';
  bin: string;
  manifestFile: string;
  manifest: ToolsManifest;
}

/** The facts platformRefusal decides on, read from this machine. */
export function thisPlatform(): Platform {
  const onPath = (cmd: string) => (process.env.PATH ?? '').split(path.delimiter).some((d) => d && existsSync(path.join(d, cmd)));
  return { platform: process.platform, arch: process.arch, hasApt: onPath('apt-get'), hasDpkg: onPath('dpkg') && onPath('dpkg-deb'), hasKeyring: existsSync(DEBIAN_KEYRING) };
}

/**
 * The installed tools, if everything an install leaves is in place: the manifest, each
 * wrapper exactly as we write it, each extracted binary and the loader. Cheap: no process runs.
 */
export function installedTools(stateDir: string, major: number): ToolsManifest | undefined {
  const layout = toolsLayout(stateDir, major);
  let manifest: ToolsManifest | undefined;
  try {
    manifest = parseManifest(readFileSync(layout.manifest, 'utf8'), major);
  } catch {
    return undefined;
  }
  if (!manifest) return undefined;
  for (const tool of INSTALLED_TOOLS) {
    const inv = loaderInvocation(layout.root, major, tool, []);
    if (!existsSync(inv.file) || !existsSync(inv.args.at(-1)!)) return undefined;
    try {
      if (readFileSync(path.join(layout.bin, tool), 'utf8') !== wrapperScript(major, tool)) return undefined;
    } catch {
      return undefined;
    }
  }
  return manifest;
}

/**
 * Installs pg_dump, pg_restore, psql and pg_dumpall of `major` into `<state>/tools/postgresql-N`
 * from Debian's packages, through a private apt configuration. The new install is built beside
 * the old one and swapped in only once every tool has run, so an interrupted or failed run
 * leaves the previous install (or nothing) in place, never half of one.
 */
export async function installClientTools(opts: InstallOptions): Promise<InstallReport> {
  const { stateDir, major } = opts;
  const env = opts.env ?? process.env;
  const progress = opts.onProgress ?? (() => {});
  const refusal = platformRefusal(thisPlatform(), major);
  if (refusal) throw refusal;
  const layout = toolsLayout(stateDir, major);
  const report = (outcome: InstallReport['outcome'], manifest: ToolsManifest): InstallReport => ({ outcome, bin: layout.bin, manifestFile: layout.manifest, manifest });

  const present = installedTools(stateDir, major);
  if (present && !opts.reinstall) return report('already-installed', present);

  mkdirSync(layout.toolsRoot, { recursive: true });
  // One install at a time per state folder: apt locks its lists, and two swaps would race.
  const release = await takeLock(path.join(layout.toolsRoot, 'install.lock'), { what: 'pg-tools', onWait: (pid) => progress(`waiting for another pg-tools (pid ${pid})`) });
  try {
    // A concurrent run may have finished the same install while we waited.
    const now = installedTools(stateDir, major);
    if (now && !opts.reinstall && !present) return report('already-installed', now);
    removeLeftovers(layout);
    const manifest = await fetchAndExtract(layout, major, env, progress);
    return report('installed', manifest);
  } finally {
    release();
  }
}

async function fetchAndExtract(layout: ToolsLayout, major: number, env: NodeJS.ProcessEnv, progress: (m: string) => void): Promise<ToolsManifest> {
  const { suite, release } = DEBIAN_SUITES[major]!;
  const mirrors = debianMirrors(systemSourceFiles(), env);
  prepareApt(layout, suite, mirrors);
  const cmds = aptCommands(layout, major);

  progress(`apt-get update (${release} ${suite}, private configuration)`);
  const update = await run(cmds.update);
  if (update.code !== 0) {
    const problem = aptProblem(update.output);
    if (isUnreachable(update.output)) {
      throw new UserError(`cannot reach the Debian archive (${mirrors.archive}): ${problem}`, `install postgresql-client-${major} from the PostgreSQL project's apt repository (apt.postgresql.org), or set PG_BIN to a folder with pg_dump ${major}`);
    }
    throw new UserError(`apt-get update of Debian ${suite} failed: ${problem}`, `fix the network or mirror (PGSTEWARD_DEBIAN_MIRROR), or set PG_BIN to a folder with pg_dump ${major}`);
  }

  progress(`apt-get download ${clientPackages(major).length} packages`);
  rmSync(layout.apt.debs, { recursive: true, force: true });
  mkdirSync(layout.apt.debs, { recursive: true });
  const download = await run(cmds.download);
  if (download.code !== 0) {
    throw new UserError(`apt-get download from Debian ${suite} failed: ${aptProblem(download.output)}`, `run npm run pg-tools again, or set PG_BIN to a folder with pg_dump ${major}`);
  }

  const staging = path.join(layout.toolsRoot, `.postgresql-${major}.staging-${process.pid}`);
  const stagingRoot = path.join(staging, 'root');
  mkdirSync(path.join(staging, 'bin'), { recursive: true });
  const cleanup = () => rmSync(staging, { recursive: true, force: true });
  const onSignal = (signal: NodeJS.Signals) => {
    cleanup();
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const packages: InstalledPackage[] = [];
    const debs = readdirSync(layout.apt.debs).filter((f) => f.endsWith('.deb')).sort();
    for (const deb of debs) {
      const file = path.join(layout.apt.debs, deb);
      progress(`extracting ${deb}`);
      const fields = parseDebFields(runSync(fieldsCommand(file)));
      runSync(extractCommand(file, stagingRoot));
      packages.push({ ...fields, sha256: createHash('sha256').update(readFileSync(file)).digest('hex') });
    }
    const wanted = clientPackages(major);
    const missing = wanted.filter((p) => !packages.some((x) => x.name === p));
    if (missing.length) throw new UserError(`apt-get download did not fetch ${missing.join(', ')}`, 'run npm run pg-tools again');
    packages.sort((a, b) => wanted.indexOf(a.name) - wanted.indexOf(b.name));

    progress('checking the tools run');
    const tools = {} as Record<InstalledTool, string>;
    for (const tool of INSTALLED_TOOLS) {
      const outside = librariesOutside(runSync(libraryListCommand(stagingRoot, major, tool)), stagingRoot);
      if (outside.length) throw new UserError(`${tool} from postgresql-client-${major} needs libraries the install lacks: ${outside.join(', ')}`, 'this is a bug in the package list of core/pgtools/install-plan.ts, please report it');
      const v = parseServerVersion(runSync(loaderInvocation(stagingRoot, major, tool, ['--version'])));
      if (!v || v.major !== major) throw new UserError(`${tool} from postgresql-client-${major} reports ${v?.version ?? 'no version'}`, 'run npm run pg-tools -- --reinstall');
      tools[tool] = v.version;
      const wrapper = path.join(staging, 'bin', tool);
      writeFileSync(wrapper, wrapperScript(major, tool));
      chmodSync(wrapper, 0o755);
    }
    const manifest: ToolsManifest = {
      format: 1,
      major,
      source: { release, suite, mirrors, keyring: DEBIAN_KEYRING },
      packages,
      tools,
      installedAt: new Date().toISOString(),
    };
    writeFileSync(path.join(staging, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    swapIn(staging, layout.dir);
    // The wrappers, run from where they now live, are what everything else will run.
    const check = parseServerVersion(runSync({ file: path.join(layout.bin, 'pg_dump'), args: ['--version'] }));
    if (check?.major !== major) throw new UserError(`the installed pg_dump wrapper does not run (${check?.version ?? 'no version'})`, 'run npm run pg-tools -- --reinstall');
    return manifest;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    cleanup();
  }
}

/** Replaces `dir` with `staging` by renames, so readers see the old install or the new one. */
function swapIn(staging: string, dir: string): void {
  const old = `${path.join(path.dirname(dir), '.' + path.basename(dir))}.old-${process.pid}`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(staging, dir);
  rmSync(old, { recursive: true, force: true });
}

function prepareApt(layout: ToolsLayout, suite: string, mirrors: ReturnType<typeof debianMirrors>): void {
  const a = layout.apt;
  for (const d of [a.etc, path.join(a.etc, 'apt.conf.d'), path.join(a.etc, 'sources.list.d'), path.join(a.etc, 'preferences.d'), path.join(a.etc, 'trusted.gpg.d'), path.join(a.lists, 'partial'), path.join(a.cache, 'archives', 'partial'), path.join(a.dir, 'log')]) {
    mkdirSync(d, { recursive: true });
  }
  writeFileSync(a.sourcesList, aptSourcesList(suite, mirrors));
  writeFileSync(a.config, aptConfig(a, { runningAsRoot: process.getuid?.() === 0 }));
  // apt-get download needs no installed packages; an empty status keeps the system's out.
  if (!existsSync(a.status)) writeFileSync(a.status, '');
}

/** The system's apt sources, read only to learn which Debian mirror this machine uses. */
function systemSourceFiles(): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = [];
  const read = (file: string) => {
    try {
      out.push({ name: path.basename(file), text: readFileSync(file, 'utf8') });
    } catch {
      /* absent or unreadable: not a source */
    }
  };
  read('/etc/apt/sources.list');
  try {
    for (const f of readdirSync('/etc/apt/sources.list.d').sort()) read(path.join('/etc/apt/sources.list.d', f));
  } catch {
    /* no sources.list.d */
  }
  return out;
}

/** Staging and old folders left by a run that was killed (SIGKILL cannot clean up). */
function removeLeftovers(layout: ToolsLayout): void {
  for (const e of readdirSync(layout.toolsRoot)) {
    const m = /^\.postgresql-\d+\.(?:staging|old)-(\d+)$/.exec(e);
    if (m && !pidAlive(Number(m[1]))) rmSync(path.join(layout.toolsRoot, e), { recursive: true, force: true });
  }
}


function run(cmd: Command): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd.file, cmd.args, { cwd: cmd.cwd, env: { ...process.env, ...cmd.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output = (output + d).slice(-65_536)));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output = (output + d).slice(-65_536)));
    child.on('error', (e) => resolve({ code: null, output: `E: ${e.message}` }));
    child.on('close', (code) => resolve({ code, output }));
  });
}

function runSync(cmd: Command): string {
  try {
    return execFileSync(cmd.file, cmd.args, { cwd: cmd.cwd, env: { ...process.env, ...cmd.env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  } catch (e) {
    const detail = ((e as { stderr?: string }).stderr ?? (e as Error).message).trim().split('\n')[0];
    throw new UserError(`${path.basename(cmd.file)} ${cmd.args.slice(0, 2).join(' ')} failed: ${detail}`, 'run npm run pg-tools -- --reinstall');
  }
}
