import { execFile } from 'node:child_process';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { connectChecked } from '../db/connect.ts';
import { secretUrl } from '../db/url.ts';
import { isUserError } from '../errors.ts';
import { scrub } from '../secrets.ts';
import { findClientTool } from '../pgtools/discover.ts';
import { adminConnection, type Target } from '../target.ts';

const run = promisify(execFile);

export type SafetyBackupResult = { ok: true; location: string } | { ok: false; reason: string };

/**
 * A backup taken before destructive work. Never throws: when no compatible pg_dump exists
 * the caller is told plainly that no backup was taken and decides what to do.
 */
export async function takeSafetyBackup(target: Target, reason: string): Promise<SafetyBackupResult> {
  const conn = adminConnection(target);
  try {
    const sql = await connectChecked(conn, { max: 1 });
    let version: string;
    let major: number;
    try {
      const [v] = await sql<{ v: string; n: number }[]>`select current_setting('server_version') as v, current_setting('server_version_num')::int / 10000 as n`;
      version = v!.v;
      major = v!.n;
    } finally {
      await sql.end({ timeout: 5 });
    }
    const pgDump = findClientTool('pg_dump', major, version);
    const dir = path.join(target.config.stateDir, 'backups', target.config.kind);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    const file = path.join(dir, `${target.config.kind}-${stamp}-${reason}.dump`);
    const tmp = `${file}.partial`;
    try {
      // The password travels in the environment, never on a command line that `ps` or an error message could show.
      await run(pgDump.path, ['-Fc', '-f', tmp, '--dbname', secretUrl({ ...conn, password: undefined })], {
        env: { ...process.env, PGPASSWORD: conn.password ?? '', PGCONNECT_TIMEOUT: '10' },
      });
      renameSync(tmp, file);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    return { ok: true, location: file };
  } catch (e) {
    const why = isUserError(e) ? e.line : ((e as Error).message ?? String(e)).split('\n')[0]!;
    return { ok: false, reason: scrub(why) };
  }
}
