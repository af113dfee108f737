import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { parseServerVersion } from '../local/binaries.ts';
import { REPO_ROOT } from '../paths.ts';
import { defaultStateDir, installedMajors, toolsRootDir } from './install-plan.ts';

export type ClientToolName = 'pg_dump' | 'pg_restore' | 'psql' | 'pg_dumpall';

export interface ClientTool {
  path: string;
  major: number;
  version: string;
}

export interface DiscoverOptions {
  /** The state folder whose `tools/postgresql-N/bin` npm run pg-tools filled. Default: PGSTEWARD_HOME or `.pgsteward`. */
  stateDir?: string | undefined;
  /** Debian's layout of installed PostgreSQL versions. */
  systemRoots?: readonly string[];
}

const SYSTEM_ROOTS = ['/usr/lib/postgresql'];
const DEBIAN_PG_WRAPPER = '/usr/share/postgresql-common/pg_wrapper';

/** The environment variable that names one tool exactly: PG_DUMP, PG_RESTORE, PG_PSQL, PG_DUMPALL. */
export function overrideVariable(tool: string): string {
  return `PG_${tool.replace(/^pg_/, '').toUpperCase()}`;
}

export type CandidateSource = 'installed' | 'PATH' | 'system';

export interface Candidate {
  path: string;
  from: CandidateSource;
  /** A dispatcher script (Debian's pg_wrapper) whose answer can change under us: tried only when no real binary fits. */
  dispatcher: boolean;
}

/**
 * Where to look when nothing is set explicitly, in order: the tools npm run pg-tools installed
 * (newest major first), PATH, then `/usr/lib/postgresql/<N>/bin` (newest first). Dispatchers go
 * last. One binary reached by two routes is listed once, at its first place.
 */
export function searchCandidates(tool: string, env: NodeJS.ProcessEnv, opts: DiscoverOptions = {}): Candidate[] {
  const raw: { path: string; from: CandidateSource }[] = [];
  const toolsRoot = toolsRootDir(opts.stateDir ?? defaultStateDir(REPO_ROOT, env));
  for (const major of installedMajors(listDir(toolsRoot))) raw.push({ path: path.join(toolsRoot, `postgresql-${major}`, 'bin', tool), from: 'installed' });
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) raw.push({ path: path.join(dir, tool), from: 'PATH' });
  for (const root of opts.systemRoots ?? SYSTEM_ROOTS) {
    const versions = listDir(root).filter((v) => /^\d+(\.\d+)?$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) raw.push({ path: path.join(root, v, 'bin', tool), from: 'system' });
  }
  const seen = new Set<string>();
  const out: Candidate[] = [];
  const roots = opts.systemRoots ?? SYSTEM_ROOTS;
  for (const c of raw) {
    const real = realPath(c.path);
    if (!real || seen.has(real)) continue;
    // Debian's pg_wrapper only ever runs /usr/lib/postgresql/<N>/bin/<tool>, which step 4 probes
    // anyway: probing it too (a perl start, ~130 ms) could never find anything new.
    if (real === DEBIAN_PG_WRAPPER && roots.includes('/usr/lib/postgresql')) continue;
    seen.add(real);
    out.push({ ...c, dispatcher: path.basename(real) !== tool });
  }
  return [...out.filter((c) => !c.dispatcher), ...out.filter((c) => c.dispatcher)];
}

/**
 * The first candidate, in search order, whose major is at least `minMajor`, probing lazily:
 * once one fits, nothing after it runs. `best` is the newest seen, for the error when none fits.
 */
export function pickTool<C extends { path: string }>(candidates: readonly C[], probe: (c: C) => ClientTool | undefined, minMajor: number): { tool?: ClientTool; best?: ClientTool } {
  let best: ClientTool | undefined;
  for (const c of candidates) {
    const t = probe(c);
    if (!t) continue;
    if (t.major >= minMajor) return { tool: t };
    if (!best || t.major > best.major) best = t;
  }
  return { best };
}

/** What a `--version` run taught us about one file, valid while the file is the same one. */
export interface ProbeRecord {
  size: number;
  mtimeMs: number;
  ino: number;
  version: string;
  major: number;
}

export type ProbeCache = Map<string, ProbeRecord>;

/** Whether a cached probe still describes the file: same inode, size and modification time. */
export function cacheValid(r: ProbeRecord | undefined, s: Pick<Stats, 'size' | 'mtimeMs' | 'ino'>): r is ProbeRecord {
  return Boolean(r && r.size === s.size && r.mtimeMs === s.mtimeMs && r.ino === s.ino);
}

/** The on-disk cache of probes, beside the installed tools; shared by every command on the state folder. */
export function probeCacheFile(stateDir: string): string {
  return path.join(toolsRootDir(stateDir), 'probe-cache.json');
}

export function readProbeCache(file: string): ProbeCache {
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as { format?: number; probes?: Record<string, ProbeRecord> };
    if (raw.format !== 1 || !raw.probes) return new Map();
    return new Map(Object.entries(raw.probes).filter(([, r]) => r && typeof r.major === 'number' && typeof r.version === 'string'));
  } catch {
    return new Map();
  }
}

/** Best effort, atomic (rename): a cache that cannot be written only costs the next run its probes. */
export function writeProbeCache(file: string, cache: ProbeCache): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ format: 1, probes: Object.fromEntries(cache) }, null, 1) + '\n');
    renameSync(tmp, file);
  } catch {
    /* read-only state folder: discovery still works, just slower */
  }
}

/** Runs `<path> --version`; undefined when it is missing or not a PostgreSQL tool. */
export function probeTool(p: string): ClientTool | undefined {
  if (!existsSync(p)) return undefined;
  try {
    const v = parseServerVersion(execFileSync(p, ['--version'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] }));
    return v ? { path: p, ...v } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * probeTool through the cache. Dispatchers are never cached: what they run depends on what
 * else is installed, not on their own file.
 */
export function cachedProbe(p: string, cache: ProbeCache, opts: { dispatcher?: boolean } = {}): { tool?: ClientTool; ran: boolean } {
  let s: Stats;
  try {
    s = statSync(p);
  } catch {
    return { ran: false };
  }
  const hit = cache.get(p);
  if (!opts.dispatcher && cacheValid(hit, s)) return { tool: { path: p, major: hit.major, version: hit.version }, ran: false };
  const tool = probeTool(p);
  if (opts.dispatcher) return { tool, ran: true };
  if (tool) cache.set(p, { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino, version: tool.version, major: tool.major });
  else cache.delete(p);
  return { tool, ran: true };
}

/** The error for a tool too old for the job, worded as the operator needs it. */
export function tooOldError(tool: ClientToolName, have: ClientTool, needMajor: number, needVersion: string): UserError {
  if (tool === 'pg_restore') {
    return new UserError(`pg_restore ${have.version} cannot read a backup made by pg_dump ${needVersion}`, `install postgresql-client-${needMajor} or set PG_BIN`);
  }
  const verb = tool === 'pg_dump' ? 'dump' : 'work with';
  return new UserError(`${tool} ${have.version} cannot ${verb} PostgreSQL ${needVersion}`, `install postgresql-client-${needMajor} or set PG_BIN`);
}

/** Discovery's answer, before it is turned into a tool or an error. */
export type Discovery =
  | { kind: 'found'; tool: ClientTool; explicit?: string }
  /** An explicit PG_DUMP / PG_BIN that is not runnable or too old. */
  | { kind: 'refused'; error: UserError; variable: string }
  /** Nothing fits; `best` is the newest found, if any. */
  | { kind: 'missing'; best?: ClientTool };

/**
 * Looks for `tool` with major ≥ `needMajor`: an explicit PG_DUMP (per tool) or PG_BIN is
 * honoured or refused, never passed over; otherwise the search order of searchCandidates.
 * What each binary's `--version` said is cached per (path, inode, size, mtime) in the state
 * folder, so a command's preflight runs no process for a tool it has seen before.
 */
export function discoverClientTool(tool: ClientToolName, needMajor: number, needVersion: string, env: NodeJS.ProcessEnv = process.env, opts: DiscoverOptions = {}): Discovery {
  const stateDir = opts.stateDir ?? defaultStateDir(REPO_ROOT, env);
  const file = probeCacheFile(stateDir);
  const cache = readProbeCache(file);
  let dirty = false;
  const probe = (p: string, dispatcher = false) => {
    const r = cachedProbe(p, cache, { dispatcher });
    dirty ||= r.ran && !dispatcher;
    return r.tool;
  };
  try {
    const explicitVar = env[overrideVariable(tool)] ? overrideVariable(tool) : env.PG_BIN ? 'PG_BIN' : undefined;
    if (explicitVar) {
      const p = explicitVar === 'PG_BIN' ? path.join(env.PG_BIN!, tool) : env[explicitVar]!;
      const real = realPath(p);
      const t = probe(p, Boolean(real && path.basename(real) !== tool));
      if (!t) return { kind: 'refused', variable: explicitVar, error: new UserError(`${explicitVar} points at ${p}, which is not a runnable ${tool}`, `fix ${explicitVar} or unset it to search the installed tools, PATH and /usr/lib/postgresql`) };
      if (t.major < needMajor) return { kind: 'refused', variable: explicitVar, error: tooOldError(tool, t, needMajor, needVersion) };
      return { kind: 'found', tool: t, explicit: explicitVar };
    }
    const { tool: chosen, best } = pickTool(searchCandidates(tool, env, { ...opts, stateDir }), (c) => probe(c.path, c.dispatcher), needMajor);
    return chosen ? { kind: 'found', tool: chosen } : { kind: 'missing', ...(best ? { best } : {}) };
  } finally {
    if (dirty) writeProbeCache(file, cache);
  }
}

/**
 * The client tool to use: for pg_dump and psql one at least as new as the server
 * (`needMajor` = the server's major; pg_dump refuses newer servers), for pg_restore one at
 * least as new as the pg_dump that wrote the archive. Fails before anything runs.
 */
export function findClientTool(tool: ClientToolName, needMajor: number, needVersion: string, env: NodeJS.ProcessEnv = process.env, opts: DiscoverOptions = {}): ClientTool {
  const d = discoverClientTool(tool, needMajor, needVersion, env, opts);
  if (d.kind === 'found') return d.tool;
  if (d.kind === 'refused') throw d.error;
  if (d.best) throw tooOldError(tool, d.best, needMajor, needVersion);
  throw new UserError(`no ${tool} found (looked in PG_BIN, the installed tools, PATH and /usr/lib/postgresql/*/bin)`, `run npm run pg-tools, install postgresql-client-${needMajor}, or set PG_BIN`);
}

/** What status and start say about the pg_dump a backup would use. */
export interface BackupToolsView {
  /** For status: always one line. */
  status: string;
  /** For start: one line, only when a backup could not run. */
  warning?: string;
}

/**
 * The words for a pg_dump discovery against a server of `serverMajor`. Pure. A dev target whose
 * backups run inside its container (`docker exec`) needs nothing on this machine.
 */
export function describeBackupTools(d: Discovery | { kind: 'container'; container: string }, serverMajor: number): BackupToolsView {
  switch (d.kind) {
    case 'container':
      return { status: `pg_dump inside container ${d.container} (docker exec)` };
    case 'found':
      return { status: `pg_dump ${d.tool.version} (${d.tool.path}${d.explicit ? `, from ${d.explicit}` : ''})` };
    case 'refused':
      return { status: d.error.line, warning: `backups: ${d.error.line}` };
    case 'missing': {
      const fix = 'run npm run pg-tools';
      const newest = d.best ? ` (newest here: pg_dump ${d.best.version}, ${d.best.path})` : '';
      return { status: `no pg_dump ${serverMajor} found${newest}; ${fix}`, warning: `backups: no pg_dump ${serverMajor} found; ${fix}` };
    }
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function realPath(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}
