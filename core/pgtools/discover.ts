import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { parseServerVersion } from '../local/binaries.ts';

export interface ClientTool {
  path: string;
  major: number;
  version: string;
}

/** Where to look for a client tool, most specific first. Pure given its inputs. */
export function candidatePaths(tool: string, env: NodeJS.ProcessEnv, installedRoots: string[] = ['/usr/lib/postgresql']): string[] {
  const out: string[] = [];
  const override = env[`PG_${tool.replace(/^pg_/, '').toUpperCase()}`];
  if (override) out.push(override);
  if (env.PG_BIN) out.push(path.join(env.PG_BIN, tool));
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) out.push(path.join(dir, tool));
  for (const root of installedRoots) {
    if (!existsSync(root)) continue;
    for (const v of readdirSync(root)) out.push(path.join(root, v, 'bin', tool));
  }
  return [...new Set(out)];
}

function probe(p: string): ClientTool | undefined {
  if (!existsSync(p)) return undefined;
  try {
    const v = parseServerVersion(execFileSync(p, ['--version'], { encoding: 'utf8', timeout: 10_000 }));
    return v ? { path: p, ...v } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The client tool to use against a server of `serverMajor`: an explicit override wins if it
 * fits, otherwise the highest version found that is at least the server's (pg_dump refuses
 * newer servers). Fails before anything runs when none fits.
 */
export function findClientTool(tool: 'pg_dump' | 'pg_restore' | 'psql', serverMajor: number, serverVersion: string, env: NodeJS.ProcessEnv = process.env): ClientTool {
  const found = candidatePaths(tool, env).map(probe).filter((t): t is ClientTool => Boolean(t));
  const fitting = found.filter((t) => t.major >= serverMajor).sort((a, b) => b.major - a.major);
  if (fitting[0]) return fitting[0];
  const best = found.sort((a, b) => b.major - a.major)[0];
  if (best) {
    throw new UserError(`${tool} ${best.version} cannot ${tool === 'pg_dump' ? 'dump' : 'work with'} PostgreSQL ${serverVersion}`, `install postgresql-client-${serverMajor} or set PG_BIN`);
  }
  throw new UserError(`no ${tool} found`, `install postgresql-client-${serverMajor} or set PG_BIN`);
}
