import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../errors.ts';
import { cacheValid, cachedProbe, describeBackupTools, discoverClientTool, findClientTool, overrideVariable, pickTool, probeCacheFile, readProbeCache, searchCandidates, type ProbeCache } from './discover.ts';
import { invocation, libpqEnv } from './invoke.ts';
import { backupToolsFor } from './backup-tools.ts';
import type { TargetConfig } from '../config/target-settings.ts';

const tmp = (prefix: string) => mkdtempSync(path.join(os.tmpdir(), `pgsteward-${prefix}-`));

/**
 * A stand-in client tool: a script that answers `--version` like PostgreSQL's and appends a
 * line to `runs` each time it is run, so a test can count probes.
 */
function fakeTool(file: string, version: string, runs?: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  const log = runs ? `echo x >> '${runs}'\n` : '';
  writeFileSync(file, `#!/bin/sh\n${log}echo "${path.basename(file)} (PostgreSQL) ${version}"\n`);
  chmodSync(file, 0o755);
  return file;
}
const runsOf = (file: string) => {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
};

describe('where discovery looks', () => {
  it('installed tools (newest first), then PATH, then /usr/lib/postgresql/<N> (newest first); a dispatcher last; each binary once', () => {
    const state = tmp('disc-state');
    const pathDir = tmp('disc-path');
    const sys = tmp('disc-sys');
    fakeTool(path.join(state, 'tools', 'postgresql-16', 'bin', 'pg_dump'), '16.4');
    fakeTool(path.join(state, 'tools', 'postgresql-17', 'bin', 'pg_dump'), '17.12');
    mkdirSync(path.join(state, 'tools', 'apt'), { recursive: true }); // not a major folder
    fakeTool(path.join(sys, '9.6', 'bin', 'pg_dump'), '9.6.24');
    fakeTool(path.join(sys, '15', 'bin', 'pg_dump'), '15.18');
    const dispatcher = fakeTool(path.join(pathDir, 'pg_wrapper'), '15.18');
    symlinkSync(dispatcher, path.join(pathDir, 'pg_dump'));
    const other = tmp('disc-path2');
    symlinkSync(path.join(sys, '15', 'bin', 'pg_dump'), path.join(other, 'pg_dump')); // same binary as system 15
    const found = searchCandidates('pg_dump', { PATH: [pathDir, other, '/nonexistent'].join(':') }, { stateDir: state, systemRoots: [sys] });
    expect(found.map((c) => [c.from, c.path, c.dispatcher])).toEqual([
      ['installed', path.join(state, 'tools', 'postgresql-17', 'bin', 'pg_dump'), false],
      ['installed', path.join(state, 'tools', 'postgresql-16', 'bin', 'pg_dump'), false],
      ['PATH', path.join(other, 'pg_dump'), false],
      ['system', path.join(sys, '9.6', 'bin', 'pg_dump'), false],
      ['PATH', path.join(pathDir, 'pg_dump'), true],
    ]);
  });

  it('passes over Debian’s pg_wrapper: it can only run what /usr/lib/postgresql holds, which is searched anyway', () => {
    const found = searchCandidates('pg_dump', { PATH: '/usr/bin' }, { stateDir: tmp('disc-deb') });
    expect(found.map((c) => c.path)).toEqual(['/usr/lib/postgresql/15/bin/pg_dump']);
    expect(searchCandidates('pg_dump', { PATH: '/usr/bin' }, { stateDir: tmp('disc-deb'), systemRoots: [] })).toEqual([{ path: '/usr/bin/pg_dump', from: 'PATH', dispatcher: true }]);
  });

  it('takes the first fitting tool in that order and probes nothing after it', () => {
    const probed: string[] = [];
    const versions: Record<string, number> = { a: 15, b: 17, c: 18, d: 16 };
    const probe = (c: { path: string }) => {
      probed.push(c.path);
      return versions[c.path] ? { path: c.path, major: versions[c.path]!, version: `${versions[c.path]}.1` } : undefined;
    };
    const cands = ['x', 'a', 'b', 'c', 'd'].map((p) => ({ path: p }));
    expect(pickTool(cands, probe, 17)).toEqual({ tool: { path: 'b', major: 17, version: '17.1' } });
    expect(probed).toEqual(['x', 'a', 'b']);
    expect(pickTool(cands, probe, 19)).toEqual({ best: { path: 'c', major: 18, version: '18.1' } });
    expect(pickTool([], probe, 17)).toEqual({});
  });

  it('finds Debian’s pg_dump 15 here, and refuses it for a PostgreSQL 17 server with the fix', () => {
    const opts = { stateDir: tmp('disc-empty') };
    const ok = findClientTool('pg_dump', 15, '15.8', { PATH: process.env.PATH }, opts);
    expect(ok).toEqual({ path: '/usr/lib/postgresql/15/bin/pg_dump', major: 15, version: expect.stringMatching(/^15\.\d+$/) });
    expect(() => findClientTool('pg_dump', 17, '17.6', { PATH: process.env.PATH }, opts)).toThrow(/^pg_dump 15\.\d+ cannot dump PostgreSQL 17\.6$/);
    expect(() => findClientTool('pg_restore', 17, '17.6', { PATH: '' }, opts)).toThrow(/^pg_restore 15\.\d+ cannot read a backup made by pg_dump 17\.6$/);
    expect(() => findClientTool('pg_dump', 15, '15.8', { PATH: '' }, { ...opts, systemRoots: [] })).toThrow(/^no pg_dump found/);
  });

  it('prefers the installed tools to everything on PATH, for the server they fit', () => {
    const state = tmp('disc-inst');
    const installed = fakeTool(path.join(state, 'tools', 'postgresql-17', 'bin', 'pg_dump'), '17.12');
    const pathDir = tmp('disc-inst-path');
    fakeTool(path.join(pathDir, 'pg_dump'), '18.1');
    expect(findClientTool('pg_dump', 17, '17.10', { PATH: pathDir }, { stateDir: state }).path).toBe(installed);
    expect(findClientTool('pg_dump', 18, '18.0', { PATH: pathDir }, { stateDir: state }).path).toBe(path.join(pathDir, 'pg_dump'));
    // the default state folder follows PGSTEWARD_HOME, as the target configuration does
    expect(findClientTool('pg_dump', 17, '17.10', { PATH: pathDir, PGSTEWARD_HOME: state }).path).toBe(installed);
  });

  it('honours PG_DUMP / PG_BIN or refuses them, never silently passing them over', () => {
    const opts = { stateDir: tmp('disc-over') };
    expect(overrideVariable('pg_dump')).toBe('PG_DUMP');
    expect(overrideVariable('pg_dumpall')).toBe('PG_DUMPALL');
    expect(() => findClientTool('pg_dump', 15, '15.8', { PG_DUMP: '/nonexistent/pg_dump' }, opts)).toThrow(/PG_DUMP points at \/nonexistent\/pg_dump, which is not a runnable pg_dump/);
    expect(() => findClientTool('pg_dump', 15, '15.8', { PG_BIN: '/tmp' }, opts)).toThrow(/PG_BIN points at \/tmp\/pg_dump/);
    expect(findClientTool('pg_dump', 14, '14.1', { PG_BIN: '/usr/lib/postgresql/15/bin' }, opts).path).toBe('/usr/lib/postgresql/15/bin/pg_dump');
    // an explicit tool wins over the installed ones, even an older one that still fits
    fakeTool(path.join(opts.stateDir, 'tools', 'postgresql-17', 'bin', 'pg_dump'), '17.12');
    expect(findClientTool('pg_dump', 15, '15.8', { PG_BIN: '/usr/lib/postgresql/15/bin' }, opts).major).toBe(15);
    expect(() => findClientTool('pg_dump', 17, '17.2', { PG_BIN: '/usr/lib/postgresql/15/bin' }, opts)).toThrow(/^pg_dump 15\.\d+ cannot dump PostgreSQL 17\.2$/);
  });
});

describe('the probe cache', () => {
  it('a cached answer holds only for the same file: same inode, size and modification time', () => {
    const record = { size: 120, mtimeMs: 1_700_000_000_123.5, ino: 42, version: '17.12', major: 17 };
    expect(cacheValid(record, { size: 120, mtimeMs: 1_700_000_000_123.5, ino: 42 })).toBe(true);
    expect(cacheValid(record, { size: 121, mtimeMs: 1_700_000_000_123.5, ino: 42 })).toBe(false);
    expect(cacheValid(record, { size: 120, mtimeMs: 1_700_000_000_124, ino: 42 })).toBe(false);
    expect(cacheValid(record, { size: 120, mtimeMs: 1_700_000_000_123.5, ino: 43 })).toBe(false);
    expect(cacheValid(undefined, { size: 120, mtimeMs: 1_700_000_000_123.5, ino: 42 })).toBe(false);
  });

  it('runs --version once per binary, and again when the binary changes (size, mtime or inode)', () => {
    const dir = tmp('cache');
    const runs = path.join(dir, 'runs');
    const tool = fakeTool(path.join(dir, 'bin', 'pg_dump'), '17.2', runs);
    const cache: ProbeCache = new Map();
    expect(cachedProbe(tool, cache)).toEqual({ tool: { path: tool, major: 17, version: '17.2' }, ran: true });
    expect(cachedProbe(tool, cache)).toEqual({ tool: { path: tool, major: 17, version: '17.2' }, ran: false });
    expect(runsOf(runs)).toBe(1);

    fakeTool(tool, '18.10', runs); // new content, new size
    expect(cachedProbe(tool, cache).tool?.version).toBe('18.10');
    expect(runsOf(runs)).toBe(2);

    fakeTool(tool, '18.11', runs); // same size: only the mtime tells
    const later = new Date(Date.now() + 5_000);
    utimesSync(tool, later, later);
    expect(cachedProbe(tool, cache).tool?.version).toBe('18.11');
    expect(runsOf(runs)).toBe(3);
    expect(cachedProbe(tool, cache).ran).toBe(false);

    // a dispatcher's answer depends on what else is installed: never cached
    expect(cachedProbe(tool, cache, { dispatcher: true }).ran).toBe(true);
    expect(cachedProbe(tool, new Map(), {}).ran).toBe(true);
    expect(cachedProbe(path.join(dir, 'missing'), cache)).toEqual({ ran: false });
  });

  it('persists in the state folder, so a second command runs no --version at all', () => {
    const state = tmp('cache-state');
    const runs = path.join(state, 'runs');
    fakeTool(path.join(state, 'tools', 'postgresql-17', 'bin', 'pg_dump'), '17.12', runs);
    const env = { PATH: '' };
    expect(discoverClientTool('pg_dump', 17, '17.10', env, { stateDir: state })).toMatchObject({ kind: 'found', tool: { version: '17.12' } });
    expect(runsOf(runs)).toBe(1);
    expect([...readProbeCache(probeCacheFile(state)).keys()]).toEqual([path.join(state, 'tools', 'postgresql-17', 'bin', 'pg_dump')]);
    expect(discoverClientTool('pg_dump', 17, '17.10', env, { stateDir: state })).toMatchObject({ kind: 'found', tool: { version: '17.12' } });
    expect(runsOf(runs)).toBe(1);
    writeFileSync(probeCacheFile(state), '{ not json');
    expect(discoverClientTool('pg_dump', 17, '17.10', env, { stateDir: state }).kind).toBe('found');
    expect(runsOf(runs)).toBe(2);
  });

  it('probes a binary again in the next command once it changed (an upgrade in place), and caches the new answer', () => {
    const state = tmp('cache-upgrade');
    const runs = path.join(state, 'runs');
    const tool = fakeTool(path.join(state, 'tools', 'postgresql-17', 'bin', 'pg_dump'), '17.12', runs);
    const discover = () => discoverClientTool('pg_dump', 17, '17.10', { PATH: '' }, { stateDir: state });
    expect(discover()).toMatchObject({ kind: 'found', tool: { version: '17.12' } });
    expect(runsOf(runs)).toBe(1);

    fakeTool(tool, '17.13', runs); // same length: only the modification time differs
    const later = new Date(Date.now() + 60_000);
    utimesSync(tool, later, later);
    expect(discover()).toMatchObject({ kind: 'found', tool: { version: '17.13' } });
    expect(runsOf(runs)).toBe(2);
    expect(readProbeCache(probeCacheFile(state)).get(tool)).toMatchObject({ version: '17.13', mtimeMs: statSync(tool).mtimeMs });
    expect(discover()).toMatchObject({ kind: 'found', tool: { version: '17.13' } });
    expect(runsOf(runs)).toBe(2);

    fakeTool(tool, '17.130', runs); // longer: the size differs
    expect(discover()).toMatchObject({ kind: 'found', tool: { version: '17.130' } });
    expect(runsOf(runs)).toBe(3);
  });
});

describe('what status and start say about backups', () => {
  it('names the pg_dump a backup would use, or the one-line fix', () => {
    const tool = { path: '/s/tools/postgresql-17/bin/pg_dump', major: 17, version: '17.12' };
    expect(describeBackupTools({ kind: 'found', tool }, 17)).toEqual({ status: 'pg_dump 17.12 (/s/tools/postgresql-17/bin/pg_dump)' });
    expect(describeBackupTools({ kind: 'found', tool, explicit: 'PG_BIN' }, 17).status).toBe('pg_dump 17.12 (/s/tools/postgresql-17/bin/pg_dump, from PG_BIN)');
    expect(describeBackupTools({ kind: 'missing', best: { path: '/usr/lib/postgresql/15/bin/pg_dump', major: 15, version: '15.18' } }, 17)).toEqual({
      status: 'no pg_dump 17 found (newest here: pg_dump 15.18, /usr/lib/postgresql/15/bin/pg_dump); run npm run pg-tools',
      warning: 'backups: no pg_dump 17 found; run npm run pg-tools',
    });
    expect(describeBackupTools({ kind: 'missing' }, 17).warning).toBe('backups: no pg_dump 17 found; run npm run pg-tools');
    const refused = describeBackupTools({ kind: 'refused', variable: 'PG_DUMP', error: new UserError('PG_DUMP points at /x, which is not a runnable pg_dump', 'fix PG_DUMP') }, 17);
    expect(refused).toEqual({ status: 'PG_DUMP points at /x, which is not a runnable pg_dump; fix PG_DUMP', warning: 'backups: PG_DUMP points at /x, which is not a runnable pg_dump; fix PG_DUMP' });
    expect(describeBackupTools({ kind: 'container', container: 'pgsteward-dev-db' }, 17)).toEqual({ status: 'pg_dump inside container pgsteward-dev-db (docker exec)' });
  });

  it('for a target: Debian’s pg_dump for 15, the start line for 17, the container when backups run in one', () => {
    const config = (kind: TargetConfig['kind']): TargetConfig => ({
      kind,
      database: 'app',
      stateDir: tmp('view'),
      pool: { max: 10, min: 2, instances: 1 },
      admin: { host: '127.0.0.1', port: 1, database: 'postgres', user: 'postgres', ssl: 'disable' },
      local: { binDir: undefined, dataDir: undefined, port: 54317 },
      rolePasswords: {},
    });
    const env = { PATH: process.env.PATH };
    expect(backupToolsFor(config('dev'), '15.18', env)).toEqual({ status: expect.stringMatching(/^pg_dump 15\.\d+ \(\/usr\/lib\/postgresql\/15\/bin\/pg_dump\)$/) });
    expect(backupToolsFor(config('local'), '17.10', env).warning).toBe('backups: no pg_dump 17 found; run npm run pg-tools');
    const dir = tmp('view-config');
    writeFileSync(path.join(dir, 'c.json'), JSON.stringify({ backups: { targets: { dev: { docker: { container: 'pgsteward-dev-db' } } } } }));
    expect(backupToolsFor(config('dev'), '17.10', { ...env, PGSTEWARD_CONFIG: path.join(dir, 'c.json') })).toEqual({ status: 'pg_dump inside container pgsteward-dev-db (docker exec)' });
    // a config file that does not parse is backup-db's error; here it means: look on this machine
    expect(backupToolsFor(config('local'), '17.10', { ...env, PGSTEWARD_CONFIG: path.join(dir, 'missing.json') }).warning).toBe('backups: no pg_dump 17 found; run npm run pg-tools');
  });
});

describe('running the tools', () => {
  const conn = { host: 'db.internal', port: 5432, database: 'app', user: 'app_backup', password: 's3cret-pass', ssl: 'require' as const };
  it('passes the connection in libpq variables, never on the command line', () => {
    const inv = invocation({ name: 'pg_dump', path: '/usr/bin/pg_dump', major: 17, version: '17.2', placement: { kind: 'host' } }, ['--format=custom'], conn, 'pgsteward backup', {});
    expect(inv.file).toBe('/usr/bin/pg_dump');
    expect(inv.args).toEqual(['--format=custom']);
    expect(inv.env).toMatchObject({ PGHOST: 'db.internal', PGPORT: '5432', PGDATABASE: 'app', PGUSER: 'app_backup', PGPASSWORD: 's3cret-pass', PGSSLMODE: 'require', PGAPPNAME: 'pgsteward backup' });
    expect(libpqEnv({ ...conn, password: undefined }, 'x').PGPASSWORD).toBeUndefined();
  });

  it('inside the dev container: docker exec with the variables forwarded by name and the server as the container sees it', () => {
    const inv = invocation({ name: 'pg_dump', path: 'pg_dump', major: 17, version: '17.2', placement: { kind: 'docker', container: 'pgsteward-dev-db', host: '127.0.0.1', port: 5432 } }, ['--format=custom'], { ...conn, host: '127.0.0.1', port: 15432 }, 'pgsteward backup', {});
    expect(inv.file).toBe('docker');
    expect(inv.args).toEqual(['exec', '-i', '-e', 'PGHOST', '-e', 'PGPORT', '-e', 'PGDATABASE', '-e', 'PGUSER', '-e', 'PGSSLMODE', '-e', 'PGAPPNAME', '-e', 'PGCONNECT_TIMEOUT', '-e', 'PGPASSWORD', 'pgsteward-dev-db', 'pg_dump', '--format=custom']);
    expect(inv.args.join(' ')).not.toContain('s3cret-pass');
    expect(inv.env).toMatchObject({ PGHOST: '127.0.0.1', PGPORT: '5432', PGSSLMODE: 'disable', PGPASSWORD: 's3cret-pass' });
  });
});
