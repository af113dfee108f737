import path from 'node:path';
import { UserError } from '../errors.ts';

/**
 * The pure half of `npm run pg-tools`: where things go, which Debian packages, the private apt
 * configuration, the commands, the wrapper scripts and the manifest. install.ts does the I/O.
 */

/** The major the product is built for: the embedded server's, and the wording of refusals before any server is found. */
export const PRODUCT_MAJOR = 17;

/** The client tools we install and expose as wrappers. */
export const INSTALLED_TOOLS = ['pg_dump', 'pg_restore', 'psql', 'pg_dumpall'] as const;
export type InstalledTool = (typeof INSTALLED_TOOLS)[number];

/** The Debian release that ships each PostgreSQL major's client as its own version (not a backport). */
export const DEBIAN_SUITES: Readonly<Record<number, { suite: string; release: string }>> = {
  17: { suite: 'trixie', release: 'Debian 13' },
};

/**
 * What postgresql-client-N links against on Debian 13: the loader's --list of every installed
 * tool resolves inside the tools folder with exactly these, and install verifies it. libxxhash0
 * (needed by Debian 13's libzstd1) is missing from issue 11's list; that list only worked where
 * Debian 12's own libxxhash0 filled the gap from /lib.
 */
export const CLIENT_LIBRARIES = [
  'libpq5', 'libc6', 'libssl3t64', 'libzstd1', 'liblz4-1', 'zlib1g', 'libgssapi-krb5-2', 'libk5crypto3', 'libkrb5-3',
  'libkrb5support0', 'libkeyutils1', 'libcom-err2', 'libldap2', 'libsasl2-2', 'libreadline8t64', 'libtinfo6', 'libgcc-s1', 'libcrypt1', 'libxxhash0',
] as const;

export function clientPackages(major: number): string[] {
  return [`postgresql-client-${major}`, ...CLIENT_LIBRARIES];
}

/** The archive keyring of the Debian system itself: apt checks the suite's signatures against it. */
export const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
export const DEFAULT_MIRRORS: Mirrors = { archive: 'http://deb.debian.org/debian', security: 'http://deb.debian.org/debian-security' };

export interface Mirrors {
  archive: string;
  security: string;
}

/** The state folder, by the same rule as the target configuration (PGSTEWARD_HOME, default `.pgsteward`). */
export function defaultStateDir(repoRoot: string, env: NodeJS.ProcessEnv): string {
  return path.resolve(repoRoot, env.PGSTEWARD_HOME ?? '.pgsteward');
}

export interface ToolsLayout {
  /** `<state>/tools`: every installed major, the private apt folder, the discovery cache. */
  toolsRoot: string;
  /** `<state>/tools/postgresql-N`: what one install owns, replaced as a whole. */
  dir: string;
  /** The wrapper scripts: point PG_BIN here to use them by hand. */
  bin: string;
  /** What `dpkg -x` extracted. */
  root: string;
  manifest: string;
  apt: AptLayout;
}

export interface AptLayout {
  dir: string;
  config: string;
  etc: string;
  sourcesList: string;
  state: string;
  lists: string;
  status: string;
  cache: string;
  debs: string;
}

export function toolsRootDir(stateDir: string): string {
  return path.join(stateDir, 'tools');
}

export function toolsLayout(stateDir: string, major: number): ToolsLayout {
  const toolsRoot = toolsRootDir(stateDir);
  const dir = path.join(toolsRoot, `postgresql-${major}`);
  const apt = path.join(toolsRoot, 'apt');
  return {
    toolsRoot,
    dir,
    bin: path.join(dir, 'bin'),
    root: path.join(dir, 'root'),
    manifest: path.join(dir, 'manifest.json'),
    apt: {
      dir: apt,
      config: path.join(apt, 'apt.conf'),
      etc: path.join(apt, 'etc'),
      sourcesList: path.join(apt, 'etc', 'sources.list'),
      state: path.join(apt, 'state'),
      lists: path.join(apt, 'state', 'lists'),
      status: path.join(apt, 'state', 'status'),
      cache: path.join(apt, 'cache'),
      debs: path.join(apt, 'debs'),
    },
  };
}

/** The installed major folders under `<state>/tools`, newest first. Pure over the folder's entry names. */
export function installedMajors(entries: readonly string[]): number[] {
  return entries
    .map((e) => /^postgresql-(\d+)$/.exec(e))
    .filter((m): m is RegExpExecArray => Boolean(m))
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
}

/**
 * The Debian mirrors this machine already uses (a company mirror is often the only one
 * reachable), from its sources.list and deb822 `.sources` files; Debian's own otherwise.
 * Ubuntu and third-party repositories are passed over: they do not carry trixie.
 */
export function debianMirrors(files: readonly { name: string; text: string }[], env: NodeJS.ProcessEnv = {}): Mirrors {
  const found: Partial<Mirrors> = {};
  const note = (uri: string, suite: string) => {
    if (!/^(bookworm|bullseye|trixie|forky|sid|stable|oldstable|testing|unstable)(-updates|-backports|-security|\/updates)?$/.test(suite)) return;
    const kind = /security|\/updates$/.test(suite) ? 'security' : 'archive';
    found[kind] ??= uri.replace(/\/+$/, '');
  };
  for (const f of files) {
    if (f.name.endsWith('.sources')) {
      for (const stanza of f.text.split(/\n\s*\n/)) {
        const fields = deb822(stanza);
        if (!(fields.types ?? '').split(/\s+/).includes('deb') || /^no$/i.test(fields.enabled ?? 'yes')) continue;
        for (const uri of (fields.uris ?? '').split(/\s+/).filter(Boolean)) for (const s of (fields.suites ?? '').split(/\s+/).filter(Boolean)) note(uri, s);
      }
    } else if (f.name.endsWith('.list') || f.name === 'sources.list') {
      for (const raw of f.text.split('\n')) {
        const line = raw.replace(/#.*/, '').replace(/\[[^\]]*\]/, ' ').trim();
        const [type, uri, suite] = line.split(/\s+/);
        if (type === 'deb' && uri && suite) note(uri, suite);
      }
    }
  }
  return {
    archive: env.PGSTEWARD_DEBIAN_MIRROR || found.archive || DEFAULT_MIRRORS.archive,
    security: env.PGSTEWARD_DEBIAN_SECURITY_MIRROR || found.security || DEFAULT_MIRRORS.security,
  };
}

function deb822(stanza: string): Record<string, string> {
  const out: Record<string, string> = {};
  let key: string | undefined;
  for (const line of stanza.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (m) {
      key = m[1]!.toLowerCase();
      out[key] = m[2]!.trim();
    } else if (key && /^\s/.test(line)) out[key] += ` ${line.trim()}`;
  }
  return out;
}

/** Only the suite we need, each line bound to the Debian keyring: no other key can vouch for it. */
export function aptSourcesList(suite: string, mirrors: Mirrors, keyring = DEBIAN_KEYRING): string {
  const opts = `[arch=amd64 signed-by=${keyring}]`;
  return [
    `deb ${opts} ${mirrors.archive} ${suite} main`,
    `deb ${opts} ${mirrors.archive} ${suite}-updates main`,
    `deb ${opts} ${mirrors.security} ${suite}-security main`,
    '',
  ].join('\n');
}

/**
 * The private apt configuration, passed as APT_CONFIG. apt reads APT_CONFIG before anything
 * else, and this file moves every configuration, source, trust, state and cache folder into
 * ours, so nothing of the system's apt setup is read (its apt.conf.d, sources, keys, dpkg status)
 * or written. Verification is stated rather than inherited: signed indexes, hashed packages.
 */
export function aptConfig(apt: AptLayout, opts: { runningAsRoot: boolean }): string {
  const q = (s: string) => `"${s.replace(/["\\]/g, '')}"`;
  const lines = [
    `Dir::Etc ${q(apt.etc + '/')};`,
    `Dir::Etc::main "apt.conf";`,
    `Dir::Etc::parts "apt.conf.d";`,
    `Dir::Etc::sourcelist "sources.list";`,
    `Dir::Etc::sourceparts "sources.list.d";`,
    `Dir::Etc::preferences "preferences";`,
    `Dir::Etc::preferencesparts "preferences.d";`,
    `Dir::Etc::trusted "trusted.gpg";`,
    `Dir::Etc::trustedparts "trusted.gpg.d";`,
    `Dir::State ${q(apt.state + '/')};`,
    `Dir::State::lists "lists/";`,
    `Dir::State::status ${q(apt.status)};`,
    `Dir::Cache ${q(apt.cache + '/')};`,
    `Dir::Log ${q(path.join(apt.dir, 'log') + '/')};`,
    `APT::Architecture "amd64";`,
    `APT::Architectures { "amd64"; };`,
    `Acquire::Languages "none";`,
    `Acquire::Check-Valid-Until "true";`,
    `Acquire::AllowInsecureRepositories "false";`,
    `Acquire::AllowDowngradeToInsecureRepositories "false";`,
    `Acquire::AllowWeakRepositories "false";`,
    `APT::Get::AllowUnauthenticated "false";`,
    `APT::Update::Error-Mode "any";`,
  ];
  // As root apt downloads as the unprivileged _apt user, which cannot write into our 0700
  // folders; apt would fall back to root anyway, with a warning on every run. Signature and
  // hash checks are unaffected.
  if (opts.runningAsRoot) lines.push(`APT::Sandbox::User "root";`);
  return lines.join('\n') + '\n';
}

export interface Command {
  file: string;
  args: string[];
  cwd?: string;
  env?: Record<string, string>;
}

/** apt-get update, then apt-get download into the debs folder, both under the private configuration. */
export function aptCommands(layout: ToolsLayout, major: number): { update: Command; download: Command } {
  const env = { APT_CONFIG: layout.apt.config, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' };
  return {
    update: { file: 'apt-get', args: ['-q', 'update'], env },
    download: { file: 'apt-get', args: ['-q', 'download', ...clientPackages(major)], cwd: layout.apt.debs, env },
  };
}

/** `dpkg -x` of one package into the extraction root; and the fields we record about it. */
export function extractCommand(deb: string, root: string): Command {
  return { file: 'dpkg', args: ['-x', deb, root] };
}

export function fieldsCommand(deb: string): Command {
  return { file: 'dpkg-deb', args: ['--field', deb, 'Package', 'Version', 'Architecture'] };
}

export function parseDebFields(text: string): { name: string; version: string; architecture: string } {
  const f: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z-]+):\s*(.+)$/.exec(line.trim());
    if (m) f[m[1]!.toLowerCase()] = m[2]!;
  }
  if (!f.package || !f.version) throw new Error(`unreadable package fields: ${text.trim().split('\n')[0] ?? ''}`);
  return { name: f.package, version: f.version, architecture: f.architecture ?? '' };
}

/** Paths inside the extraction root. */
export function rootPaths(root: string, major: number) {
  const lib = path.join(root, 'usr', 'lib', 'x86_64-linux-gnu');
  return { lib, loader: path.join(lib, 'ld-linux-x86-64.so.2'), binDir: path.join(root, 'usr', 'lib', 'postgresql', String(major), 'bin') };
}

/**
 * Running an extracted tool through the packaged loader: Debian 13's binaries need its glibc,
 * so the system's loader cannot run them. --inhibit-cache keeps the system's ld.so.cache
 * (Debian 12 libraries) out; --argv0 gives the tool the path of its wrapper, so pg_dumpall
 * finds pg_dump beside it as a runnable wrapper too.
 */
export function loaderInvocation(root: string, major: number, tool: string, args: string[], argv0?: string): Command {
  const p = rootPaths(root, major);
  return { file: p.loader, args: ['--inhibit-cache', '--library-path', p.lib, ...(argv0 ? ['--argv0', argv0] : []), path.join(p.binDir, tool), ...args] };
}

/** The loader's `--list` of a tool: every library it would load. */
export function libraryListCommand(root: string, major: number, tool: string): Command {
  const p = rootPaths(root, major);
  return { file: p.loader, args: ['--inhibit-cache', '--library-path', p.lib, '--list', path.join(p.binDir, tool)] };
}

/** Libraries from a `--list` output that resolve outside the extraction root, or not at all. */
export function librariesOutside(listOutput: string, root: string): string[] {
  const out: string[] = [];
  for (const raw of listOutput.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('linux-vdso') || line.startsWith('linux-gate')) continue;
    const m = /^(\S+)\s+=>\s+(.+?)\s+\(0x[0-9a-f]+\)$/.exec(line);
    if (m) {
      if (!m[2]!.startsWith(root + path.sep)) out.push(`${m[1]} => ${m[2]}`);
      continue;
    }
    if (/not found/.test(line)) {
      out.push(line);
      continue;
    }
    const direct = /^(\/\S+)\s+\(0x[0-9a-f]+\)$/.exec(line);
    if (direct && !direct[1]!.startsWith(root + path.sep)) out.push(direct[1]!);
  }
  return out;
}

/**
 * A wrapper is the same text wherever the folder lives: it finds its root from its own
 * resolved path, so the state folder can move and a symlink to a wrapper still works.
 */
export function wrapperScript(major: number, tool: string): string {
  return [
    '#!/bin/sh',
    `# ${tool} ${major} from Debian's postgresql-client-${major}, run through its own loader and libraries.`,
    '# Written by npm run pg-tools; see manifest.json beside this folder for the exact versions.',
    'self=$(readlink -f -- "$0") || exit 127',
    'root=${self%/bin/*}/root',
    `exec "$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" --inhibit-cache --library-path "$root/usr/lib/x86_64-linux-gnu" --argv0 "$self" "$root/usr/lib/postgresql/${major}/bin/${tool}" "$@"`,
    '',
  ].join('\n');
}

export interface InstalledPackage {
  name: string;
  version: string;
  architecture: string;
  sha256: string;
}

export interface ToolsManifest {
  format: 1;
  major: number;
  source: { release: string; suite: string; mirrors: Mirrors; keyring: string };
  packages: InstalledPackage[];
  /** Each tool's `--version`, e.g. `17.12`, as run after the install. */
  tools: Record<InstalledTool, string>;
  installedAt: string;
}

/** A manifest we wrote, or undefined for anything else (missing fields, other format, other major). */
export function parseManifest(text: string, major: number): ToolsManifest | undefined {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = m as Partial<ToolsManifest>;
  if (!r || r.format !== 1 || r.major !== major || !Array.isArray(r.packages) || !r.tools) return undefined;
  if (!clientPackages(major).every((p) => r.packages!.some((x) => x?.name === p && typeof x.version === 'string'))) return undefined;
  if (!INSTALLED_TOOLS.every((t) => typeof r.tools![t] === 'string')) return undefined;
  return r as ToolsManifest;
}

/** The lines pg-tools prints about an install: tools, then every package with its exact version. */
export function describeManifest(m: ToolsManifest): string[] {
  const width = Math.max(...m.packages.map((p) => p.name.length));
  return [
    `  ${INSTALLED_TOOLS.map((t) => `${t} ${m.tools[t]}`).join(', ')}`,
    `packages (${m.source.release} ${m.source.suite}, index signatures and package hashes verified by apt):`,
    ...m.packages.map((p) => `  ${p.name.padEnd(width)} ${p.version}`),
  ];
}

export interface Platform {
  platform: NodeJS.Platform;
  arch: string;
  hasApt: boolean;
  hasDpkg: boolean;
  hasKeyring: boolean;
}

/**
 * Why pg-tools cannot install here, worded with the platform's usual way to get the tools,
 * or undefined when it can. Pure.
 */
export function platformRefusal(p: Platform, major: number): UserError | undefined {
  const pgBin = `set PG_BIN to a folder with pg_dump ${major}`;
  if (p.platform === 'darwin') return new UserError(`pg-tools installs Debian packages, which macOS cannot run`, `brew install postgresql@${major}, then ${pgBin} (e.g. PG_BIN=$(brew --prefix postgresql@${major})/bin)`);
  if (p.platform === 'win32') return new UserError(`pg-tools installs Debian packages, which Windows cannot run`, `install PostgreSQL ${major} from postgresql.org/download/windows, then ${pgBin}`);
  if (p.platform !== 'linux') return new UserError(`pg-tools works on Linux x64 with apt; this is ${p.platform}`, `install the PostgreSQL ${major} client with the system's package manager, then ${pgBin}`);
  if (p.arch !== 'x64') return new UserError(`pg-tools works on Linux x64 only; this machine is ${p.arch}`, `install postgresql-client-${major} from the PostgreSQL project's apt repository (apt.postgresql.org), or ${pgBin}`);
  if (!p.hasApt || !p.hasDpkg) return new UserError(`pg-tools needs apt-get and dpkg, which this machine lacks`, `install the PostgreSQL ${major} client with the system's package manager, or ${pgBin}`);
  if (!p.hasKeyring) return new UserError(`the Debian archive keyring ${DEBIAN_KEYRING} is missing, so apt cannot verify Debian's packages`, `install debian-archive-keyring, or install postgresql-client-${major} from the PostgreSQL project's apt repository (apt.postgresql.org), or ${pgBin}`);
  if (!DEBIAN_SUITES[major]) return new UserError(`pg-tools knows no Debian release with PostgreSQL ${major} client tools`, `install postgresql-client-${major} from the PostgreSQL project's apt repository (apt.postgresql.org), or ${pgBin}`);
  return undefined;
}

/** The first line of apt's output that says what went wrong (E:, then W:, then the last line). */
export function aptProblem(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const pick = lines.find((l) => l.startsWith('E:') && !/Some index files failed to download/.test(l)) ?? lines.find((l) => l.startsWith('W:')) ?? lines.find((l) => l.startsWith('E:')) ?? lines.at(-1) ?? 'no output';
  return pick.replace(/^[EW]:\s*/, '');
}

/** Whether apt's failure means the archive was not reachable (rather than, say, a bad signature). */
export function isUnreachable(output: string): boolean {
  return /Could not resolve|Temporary failure resolving|Could not connect|Connection refused|Connection timed out|Network is unreachable|No route to host|Failed to fetch|Unable to connect/i.test(output)
    && !/NO_PUBKEY|not signed|signature|EXPKEYSIG|BADSIG|Hash Sum mismatch/i.test(output);
}
