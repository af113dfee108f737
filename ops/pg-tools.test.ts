import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { secretUrl } from '../core/db/url.ts';
import { findClientTool } from '../core/pgtools/discover.ts';
import { libpqEnv } from '../core/pgtools/invoke.ts';
import { clientPackages, parseManifest, toolsLayout } from '../core/pgtools/install-plan.ts';
import { installedTools } from '../core/pgtools/install.ts';
import { exitOf, runCli, spawnCli, waitFor } from '../test/cli.ts';
import { installedToolsBin } from '../test/pg-tools.ts';

/**
 * The real install, end to end: apt-get update and download from Debian 13 under the private
 * configuration, dpkg -x, the wrappers, against the suite's PostgreSQL 17. A few seconds.
 */
const home = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-pgtools-'));
const layout = toolsLayout(home, 17);
const systemApt = ['/var/lib/apt/lists', '/var/lib/dpkg/status', '/var/cache/apt'].filter(existsSync);
const mtimes = () => systemApt.map((p) => statSync(p).mtimeMs);

describe('npm run pg-tools', () => {
  it('installs pg_dump, pg_restore, psql and pg_dumpall 17 with a manifest of exact versions; a second run does nothing', async () => {
    // a staging folder left by a killed run (its pid is gone) is cleared, not mistaken for an install
    const leftover = path.join(layout.toolsRoot, '.postgresql-17.staging-2147483646');
    mkdirSync(leftover, { recursive: true });
    const before = mtimes();

    const r = await runCli('ops/pg-tools.ts', [], { PGSTEWARD_HOME: home }, 180_000);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`pg-tools: installed PostgreSQL 17 client tools in ${layout.bin}`);
    expect(lines[1]).toMatch(/^ {2}pg_dump 17\.\d+, pg_restore 17\.\d+, psql 17\.\d+, pg_dumpall 17\.\d+$/);
    expect(lines[2]).toBe('packages (Debian 13 trixie, index signatures and package hashes verified by apt):');
    expect(lines[3]).toMatch(/^ {2}postgresql-client-17 +17\.\d+-\S+$/);
    expect(lines.at(-1)).toBe(`manifest: ${layout.manifest}`);
    expect(existsSync(leftover)).toBe(false);
    expect(mtimes()).toEqual(before); // the system's apt lists, cache and dpkg status untouched

    const manifest = parseManifest(readFileSync(layout.manifest, 'utf8'), 17)!;
    expect(manifest.packages.map((p) => p.name)).toEqual(clientPackages(17));
    for (const p of manifest.packages) expect(p.sha256).toMatch(/^[0-9a-f]{64}$/);
    for (const p of manifest.packages) expect(lines).toContain(`  ${p.name.padEnd('postgresql-client-17'.length)} ${p.version}`);
    expect(readdirSync(layout.bin).sort()).toEqual(['pg_dump', 'pg_dumpall', 'pg_restore', 'psql']);

    const again = await runCli('ops/pg-tools.ts', [], { PGSTEWARD_HOME: home });
    expect(again.code).toBe(0);
    expect(again.stdout.split('\n')[0]).toBe(`pg-tools: PostgreSQL 17 client tools already installed in ${layout.bin}; nothing to do (--reinstall fetches them again)`);
    expect(again.stdout).toContain(`postgresql-client-17 ${manifest.packages[0]!.version}`);
    expect(parseManifest(readFileSync(layout.manifest, 'utf8'), 17)!.installedAt).toBe(manifest.installedAt);
  });

  it('the installed tools work against PostgreSQL 17 and are what discovery picks for it', async () => {
    const pg = inject('pg17');
    const env = { ...process.env, ...libpqEnv(pg.admin, 'pgsteward pg-tools test') };
    const run = (file: string, args: string[]) => execFileSync(file, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(run(path.join(layout.bin, 'psql'), ['-XAtc', 'show server_version_num'])).toMatch(/^17\d{4}\n$/);
    expect(run(path.join(layout.bin, 'pg_dump'), ['--schema-only', '--dbname', 'postgres'])).toMatch(/^-- Dumped by pg_dump version 17\.\d+/m);
    // pg_dumpall runs pg_dump from its own folder: through a symlink too, it finds the wrapper there
    const link = path.join(mkdtempSync(path.join(os.tmpdir(), 'pgsteward-link-')), 'pg_dumpall');
    symlinkSync(path.join(layout.bin, 'pg_dumpall'), link);
    expect(run(link, ['--globals-only'])).toMatch(/^CREATE ROLE /m);

    const found = findClientTool('pg_dump', 17, '17.10', { PATH: process.env.PATH }, { stateDir: home });
    expect(found).toEqual({ path: path.join(layout.bin, 'pg_dump'), major: 17, version: expect.stringMatching(/^17\.\d+$/) });
    expect(findClientTool('pg_restore', 17, found.version, { PATH: process.env.PATH }, { stateDir: home }).path).toBe(path.join(layout.bin, 'pg_restore'));

    // status names the pg_dump a backup would use; without the tools, the fix
    const url = secretUrl(pg.admin);
    const status = await runCli('ops/status.ts', ['--target', 'dev', '--url', url], { PGSTEWARD_HOME: home });
    expect(status.stdout).toMatch(new RegExp(`^backups: {4}pg_dump 17\\.\\d+ \\(${layout.bin.replace(/[.]/g, '\\.')}/pg_dump\\)$`, 'm'));
    const bare = await runCli('ops/status.ts', ['--target', 'dev', '--url', url], { PGSTEWARD_HOME: mkdtempSync(path.join(os.tmpdir(), 'pgsteward-bare-')) });
    expect(bare.stdout).toMatch(/^backups: {4}no pg_dump 17 found \(newest here: pg_dump 15\.\d+, \/usr\/lib\/postgresql\/15\/bin\/pg_dump\); run npm run pg-tools$/m);

    // the test-side helper: the installed bin folder, or one line saying how to get it
    const saved = process.env.PGSTEWARD_HOME;
    try {
      process.env.PGSTEWARD_HOME = home;
      expect(installedToolsBin(17)).toBe(layout.bin);
      process.env.PGSTEWARD_HOME = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-none-'));
      expect(() => installedToolsBin(17)).toThrow(/^the PostgreSQL 17 client tools are not installed in .*\/tools\/postgresql-17; run npm run pg-tools$/);
    } finally {
      if (saved === undefined) delete process.env.PGSTEWARD_HOME;
      else process.env.PGSTEWARD_HOME = saved;
    }
  });

  it('a reinstall killed midway leaves the previous install intact, and the next run clears what it left', async () => {
    const before = installedTools(home, 17)!;
    const child = spawnCli('ops/pg-tools.ts', ['--reinstall'], { PGSTEWARD_HOME: home });
    await waitFor(() => readdirSync(layout.toolsRoot).some((e) => e.startsWith('.postgresql-17.staging-')), 60_000, 'the reinstall to start extracting');
    child.kill('SIGKILL');
    await exitOf(child);
    expect(readdirSync(layout.toolsRoot).some((e) => e.startsWith('.postgresql-17.'))).toBe(true);
    expect(installedTools(home, 17)).toEqual(before);
    expect(execFileSync(path.join(layout.bin, 'pg_dump'), ['--version'], { encoding: 'utf8' })).toMatch(/^pg_dump \(PostgreSQL\) 17\./);

    const next = await runCli('ops/pg-tools.ts', ['--reinstall'], { PGSTEWARD_HOME: home }, 180_000);
    expect(next.code).toBe(0);
    expect(next.stdout.split('\n')[0]).toBe(`pg-tools: installed PostgreSQL 17 client tools in ${layout.bin}`);
    expect(readdirSync(layout.toolsRoot).filter((e) => e.startsWith('.'))).toEqual([]);
    expect(installedTools(home, 17)!.installedAt).not.toBe(before.installedAt);
  });

  it('without a reachable Debian archive: exit 2, one line naming the other ways, nothing installed', async () => {
    const offline = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-pgtools-off-'));
    const r = await runCli('ops/pg-tools.ts', [], { PGSTEWARD_HOME: offline, PGSTEWARD_DEBIAN_MIRROR: 'http://127.0.0.1:1/debian', PGSTEWARD_DEBIAN_SECURITY_MIRROR: 'http://127.0.0.1:1/debian-security' });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: cannot reach the Debian archive \(http:\/\/127\.0\.0\.1:1\/debian\): .*; install postgresql-client-17 from the PostgreSQL project's apt repository \(apt\.postgresql\.org\), or set PG_BIN to a folder with pg_dump 17\n$/);
    expect(existsSync(toolsLayout(offline, 17).dir)).toBe(false);
  });

  it('--help and a bad flag follow the CLI contract', async () => {
    const help = await runCli('ops/pg-tools.ts', ['--help'], { PGSTEWARD_HOME: home });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^pg-tools: install pg_dump, pg_restore, psql and pg_dumpall/);
    expect(help.stdout).toContain('brew install postgresql@17');
    const bad = await runCli('ops/pg-tools.ts', ['--frobnicate'], { PGSTEWARD_HOME: home });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: pg-tools: Unknown option '--frobnicate'; see pg-tools --help\n$/);
  });
});
