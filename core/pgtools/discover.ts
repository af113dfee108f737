import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { parseServerVersion } from '../local/binaries.ts';

export type ClientToolName = 'pg_dump' | 'pg_restore' | 'psql';

export interface ClientTool {
  path: string;
  major: number;
  version: string;
}

/** The environment variable that names one tool exactly: PG_DUMP, PG_RESTORE, PG_PSQL. */
export function overrideVariable(tool: string): string {
  return `PG_${tool.replace(/^pg_/, '').toUpperCase()}`;
}

/** Where to look for a client tool, most specific first. Pure given its inputs. */
export function candidatePaths(tool: string, env: NodeJS.ProcessEnv, installedRoots: string[] = ['/usr/lib/postgresql']): string[] {
  const out: string[] = [];
  const override = env[overrideVariable(tool)];
  if (override) out.push(override);
  if (env.PG_BIN) out.push(path.join(env.PG_BIN, tool));
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) out.push(path.join(dir, tool));
  for (const root of installedRoots) {
    if (!existsSync(root)) continue;
    for (const v of readdirSync(root)) out.push(path.join(root, v, 'bin', tool));
  }
  return [...new Set(out)];
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
 * The choice among the tools found, pure so the policy is tested directly: the highest major
 * that is at least `minMajor`; among equals the first found, except that a real binary beats
 * a dispatcher script (Debian's pg_wrapper) whose version could change under us.
 */
export function chooseTool(found: readonly (ClientTool & { wrapper?: boolean })[], minMajor: number): { tool?: ClientTool; best?: ClientTool } {
  const ranked = found
    .map((t, i) => ({ t, i }))
    .sort((a, b) => b.t.major - a.t.major || Number(Boolean(a.t.wrapper)) - Number(Boolean(b.t.wrapper)) || a.i - b.i)
    .map((x) => x.t);
  const tool = ranked.find((t) => t.major >= minMajor);
  return { tool: tool && { path: tool.path, major: tool.major, version: tool.version }, best: ranked[0] };
}

function isWrapper(p: string, tool: string): boolean {
  try {
    return path.basename(realpathSync(p)) !== tool;
  } catch {
    return false;
  }
}

/** The error for a tool too old for the job, worded as the operator needs it. */
export function tooOldError(tool: ClientToolName, have: ClientTool, needMajor: number, needVersion: string): UserError {
  if (tool === 'pg_restore') {
    return new UserError(`pg_restore ${have.version} cannot read a backup made by pg_dump ${needVersion}`, `install postgresql-client-${needMajor} or set PG_BIN`);
  }
  const verb = tool === 'pg_dump' ? 'dump' : 'work with';
  return new UserError(`${tool} ${have.version} cannot ${verb} PostgreSQL ${needVersion}`, `install postgresql-client-${needMajor} or set PG_BIN`);
}

/**
 * The client tool to use: for pg_dump and psql one at least as new as the server
 * (`needMajor` = the server's major; pg_dump refuses newer servers), for pg_restore one at
 * least as new as the pg_dump that wrote the archive. An explicit PG_DUMP / PG_RESTORE or
 * PG_BIN is honoured or refused, never silently passed over. Fails before anything runs.
 */
export function findClientTool(tool: ClientToolName, needMajor: number, needVersion: string, env: NodeJS.ProcessEnv = process.env): ClientTool {
  const explicitVar = env[overrideVariable(tool)] ? overrideVariable(tool) : env.PG_BIN ? 'PG_BIN' : undefined;
  if (explicitVar) {
    const p = explicitVar === 'PG_BIN' ? path.join(env.PG_BIN!, tool) : env[explicitVar]!;
    const t = probeTool(p);
    if (!t) throw new UserError(`${explicitVar} points at ${p}, which is not a runnable ${tool}`, `fix ${explicitVar} or unset it to search PATH and /usr/lib/postgresql`);
    if (t.major < needMajor) throw tooOldError(tool, t, needMajor, needVersion);
    return t;
  }
  const found = candidatePaths(tool, env)
    .map((p) => {
      const t = probeTool(p);
      return t && { ...t, wrapper: isWrapper(p, tool) };
    })
    .filter((t): t is ClientTool & { wrapper: boolean } => Boolean(t));
  const { tool: chosen, best } = chooseTool(found, needMajor);
  if (chosen) return chosen;
  if (best) throw tooOldError(tool, best, needMajor, needVersion);
  throw new UserError(`no ${tool} found (looked in PG_BIN, PATH and /usr/lib/postgresql/*/bin)`, `install postgresql-client-${needMajor} or set PG_BIN`);
}
