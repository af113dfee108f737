import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../core/local/ports.ts';
import { parseManifest } from '../core/backup/manifest.ts';
import { toolsLayout } from '../core/pgtools/install-plan.ts';
import { expectMadeBy17 } from '../test/backups.ts';
import { runCli } from '../test/cli.ts';
import { linkInstalledTools } from '../test/pg-tools.ts';

/**
 * Issue 11's "done means", in a state folder nothing has touched (its own PGSTEWARD_HOME and
 * port, as a fresh clone has): npm start -- --detach, npm run pg-tools, npm run backup-db,
 * npm run verify-backup printing VERIFIED against PostgreSQL 17, then db:stop.
 *
 * The one stand-in: `npm run pg-tools` would download the Debian packages into this folder;
 * here the checkout's install (CI's install phase ran pg-tools) is linked in instead, so the
 * folder holds exactly what an install leaves, and pg-tools itself then runs and finds it
 * complete. ops/pg-tools.test.ts proves the download and install.
 */
let home: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-fresh-'));
  env = { PGSTEWARD_HOME: home, LOCAL_PG_PORT: String(await freePort()), DB_TARGET: '', DATABASE_URL: '' };
});
afterAll(async () => {
  await runCli('ops/db-stop.ts', [], env);
  rmSync(home, { recursive: true, force: true });
});

describe('a fresh state folder, start to a verified backup on PostgreSQL 17', () => {
  it('npm start -- --detach brings up PostgreSQL 17 and says no pg_dump 17 is there yet', async () => {
    const r = await runCli('ops/start.ts', ['--detach'], env, 120_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^PostgreSQL 17\.\d+ started \(local, data in /);
    expect(r.stdout).toContain('\nbackups: no pg_dump 17 found; run npm run pg-tools\n');
    // ...and a backup now fails the way the issue began, in one line, before anything is written.
    const early = await runCli('ops/backup-db.ts', [], env);
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/^error: (pg_dump 1[0-6]\.\d+ cannot dump PostgreSQL 17\.\d+; install postgresql-client-17 or set PG_BIN|no pg_dump found .*)\n$/);
  });

  it('npm run pg-tools: the tools in the state folder, complete, nothing left to do', async () => {
    expect(linkInstalledTools(home, 17)).toBe(true);
    const r = await runCli('ops/pg-tools.ts', [], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(`pg-tools: PostgreSQL 17 client tools already installed in ${toolsLayout(home, 17).bin}; nothing to do (--reinstall fetches them again)`);
    const status = JSON.parse((await runCli('ops/status.ts', ['--json'], env)).stdout) as { serverVersion: string; backups: string };
    expect(status.serverVersion).toMatch(/^17\./);
    expect(status.backups).toMatch(new RegExp(`^pg_dump 17\\.\\d+ \\(${escape(path.join(toolsLayout(home, 17).bin, 'pg_dump'))}\\)$`));
  });

  it('npm run backup-db, then npm run verify-backup: VERIFIED against PostgreSQL 17, with no other setting', async () => {
    const b = await runCli('ops/backup-db.ts', ['--json'], env, 120_000);
    expect(b.code, b.stderr).toBe(0);
    const { location } = JSON.parse(b.stdout) as { location: string };
    expect(location.startsWith(path.join(home, 'backups', 'local', 'app') + path.sep)).toBe(true);
    const manifest = parseManifest(readFileSync(location.replace(/\.dump$/, '.json'), 'utf8'), 'backup');
    expectMadeBy17(manifest);

    const v = await runCli('ops/verify-backup.ts', [], env, 180_000);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(new RegExp(`^verify-backup: ${escape(manifest.name)} VERIFIED against PostgreSQL 17\\.\\d+ in `));
    expect(v.stdout).toMatch(/\n {2}dump: pg_dump 17\.\d+ of PostgreSQL 17\.\d+; restored with pg_restore 17\.\d+\n/);
  });

  it('npm run db:stop stops the cluster it started', async () => {
    const r = await runCli('ops/db-stop.ts', [], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`stopped the local cluster (${path.join(home, 'local', 'pg17')})\n`);
    expect((await runCli('ops/db-stop.ts', [], env)).stdout).toMatch(/^the local cluster is not running /);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
