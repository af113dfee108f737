import { execFileSync } from 'node:child_process';
import type { ConnectionSettings } from '../db/url.ts';
import { UserError } from '../errors.ts';
import { parseServerVersion } from '../local/binaries.ts';
import { findClientTool, tooOldError, type ClientTool, type ClientToolName, type DiscoverOptions } from './discover.ts';

/**
 * How a client tool is run: from this machine, or inside the database's Docker container
 * (the dev target), where a pg_dump matching the server always exists.
 */
export type ToolPlacement = { kind: 'host' } | { kind: 'docker'; container: string; host: string; port: number };

export interface PgTool extends ClientTool {
  name: ClientToolName;
  placement: ToolPlacement;
}

export interface Invocation {
  file: string;
  args: string[];
  /** Connection details travel here, as libpq variables: never on a command line `ps` can show. */
  env: NodeJS.ProcessEnv;
}

/** libpq's environment for one connection. */
export function libpqEnv(c: ConnectionSettings, applicationName: string): Record<string, string> {
  const env: Record<string, string> = {
    PGHOST: c.host,
    PGPORT: String(c.port),
    PGDATABASE: c.database,
    PGUSER: c.user,
    PGSSLMODE: c.ssl,
    PGAPPNAME: applicationName,
    PGCONNECT_TIMEOUT: '10',
  };
  if (c.password) env.PGPASSWORD = c.password;
  return env;
}

/**
 * The command line for running `tool args` against `conn`. Pure. For docker the variables are
 * forwarded by name (`-e NAME`), so their values stay out of docker's argv too, and the
 * connection goes to the server as the container sees it.
 */
export function invocation(tool: PgTool, args: string[], conn: ConnectionSettings, applicationName = `pgsteward ${tool.name}`, baseEnv: NodeJS.ProcessEnv = process.env): Invocation {
  if (tool.placement.kind === 'host') {
    return { file: tool.path, args, env: { ...baseEnv, ...libpqEnv(conn, applicationName) } };
  }
  const inside = { ...conn, host: tool.placement.host, port: tool.placement.port, ssl: 'disable' as const };
  const pg = libpqEnv(inside, applicationName);
  return {
    file: 'docker',
    args: ['exec', '-i', ...Object.keys(pg).flatMap((k) => ['-e', k]), tool.placement.container, tool.name, ...args],
    env: { ...baseEnv, ...pg },
  };
}

function probeDocker(container: string, tool: ClientToolName): ClientTool {
  let out: string;
  try {
    out = execFileSync('docker', ['exec', container, tool, '--version'], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const detail = ((e as { stderr?: string }).stderr ?? (e as Error).message ?? '').trim().split('\n')[0];
    throw new UserError(`cannot run ${tool} in container ${container}: ${detail || 'docker exec failed'}`, 'start the dev stack (pulumi up) or remove backups.targets.dev.docker from the config');
  }
  const v = parseServerVersion(out);
  if (!v) throw new UserError(`container ${container} has no usable ${tool}`, 'use a PostgreSQL image, or remove backups.targets.dev.docker from the config');
  return { path: tool, ...v };
}

/** Finds the tool on this machine (`discover.stateDir`: whose installed tools count), or inside the container when a placement says so. */
export function locateTool(name: ClientToolName, needMajor: number, needVersion: string, placement: ToolPlacement = { kind: 'host' }, env: NodeJS.ProcessEnv = process.env, discover: DiscoverOptions = {}): PgTool {
  if (placement.kind === 'docker') {
    const t = probeDocker(placement.container, name);
    if (t.major < needMajor) throw tooOldError(name, t, needMajor, needVersion);
    return { ...t, name, placement };
  }
  return { ...findClientTool(name, needMajor, needVersion, env, discover), name, placement };
}
