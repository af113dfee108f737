import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../../core/db/connect.ts';
import type { ConnectionSettings } from '../../../core/db/url.ts';
import { LocalCluster } from '../../../core/local/cluster.ts';
import { unprivileged } from '../../../core/local/unprivileged.ts';
import { withSql } from '../../../test/db.ts';
import { freePort } from '../../../core/local/ports.ts';

/**
 * The dev image's entrypoint step that re-applies the superuser password to a kept data
 * volume, run for real against a PostgreSQL 17 data directory (the embedded binaries stand
 * in for the image's; the script only needs `postgres` on PATH).
 */

const run = promisify(execFile);
const SCRIPT = path.join(import.meta.dirname, 'pgsteward-entrypoint.sh');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-entrypoint-'));
let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await LocalCluster.open({ stateDir: tmp, port: await freePort() });
  await cluster.init();
});
afterAll(async () => {
  await cluster?.stop().catch(() => {});
  rmSync(tmp, { recursive: true, force: true });
});

async function sync(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const cmd = unprivileged('bash', [SCRIPT, '--sync-superuser-password']);
  try {
    const out = await run(cmd.file, cmd.args, { env: { PATH: `${cluster.bins.binDir}:${process.env.PATH}`, POSTGRES_USER: 'postgres', ...env } });
    return { code: 0, stderr: out.stderr };
  } catch (e) {
    const err = e as { code?: number; stderr?: string };
    return { code: err.code ?? -1, stderr: err.stderr ?? '' };
  }
}

/** The SQLSTATE a login fails with, or 'ok'. */
async function loginResult(settings: ConnectionSettings): Promise<string> {
  const sql = connect(settings, { max: 1 });
  try {
    await sql`select 1`;
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? 'error';
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

function passwordFile(password: string): string {
  const file = path.join(tmp, `pw-${randomBytes(4).toString('hex')}`);
  writeFileSync(file, password + '\n', { mode: 0o400 });
  return file;
}

describe('pgsteward-entrypoint.sh', () => {
  it('re-applies a new superuser password to an existing data directory', async () => {
    const old = cluster.adminSettings().password!;
    const fresh = `N${randomBytes(16).toString('hex')}`;
    const result = await sync({ PGDATA: cluster.dataDir, POSTGRES_PASSWORD_FILE: passwordFile(fresh) });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('superuser password re-applied');
    expect(result.stderr).not.toContain(fresh);

    await cluster.start();
    try {
      expect(await withSql({ ...cluster.adminSettings(), password: fresh }, async (sql) => (await sql`select current_user as u`)[0]!.u)).toBe('postgres');
      expect(await loginResult({ ...cluster.adminSettings(), password: old })).toBe('28P01');
    } finally {
      await cluster.stop();
    }
  });

  it('leaves a new (empty) data directory to the official entrypoint', async () => {
    const result = await sync({ PGDATA: path.join(tmp, 'not-initialised'), POSTGRES_PASSWORD_FILE: passwordFile('x') });
    expect(result).toEqual({ code: 0, stderr: '' });
  });

  it('refuses a password it would have to quote, without printing it', async () => {
    const odd = "it's-not-generated";
    const result = await sync({ PGDATA: cluster.dataDir, POSTGRES_PASSWORD_FILE: passwordFile(odd) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('unexpected superuser name or password format');
    expect(result.stderr).not.toContain(odd);
  });
});
