import { describe, expect, it } from 'vitest';
import { chooseTool, findClientTool, overrideVariable } from './discover.ts';
import { invocation, libpqEnv } from './invoke.ts';

const t = (path: string, major: number, wrapper = false) => ({ path, major, version: `${major}.3`, wrapper });

describe('choosing pg_dump', () => {
  it('takes the highest major at least the server’s, preferring a real binary to a wrapper', () => {
    const found = [t('/usr/bin/pg_dump', 15, true), t('/usr/lib/postgresql/15/bin/pg_dump', 15), t('/opt/pg17/bin/pg_dump', 17), t('/opt/pg16/bin/pg_dump', 16)];
    expect(chooseTool(found, 15).tool?.path).toBe('/opt/pg17/bin/pg_dump');
    expect(chooseTool(found.slice(0, 2), 15).tool?.path).toBe('/usr/lib/postgresql/15/bin/pg_dump');
    expect(chooseTool(found.slice(0, 2), 17)).toEqual({ tool: undefined, best: expect.objectContaining({ major: 15 }) });
    expect(chooseTool([], 17)).toEqual({ tool: undefined, best: undefined });
  });

  it('finds Debian’s pg_dump 15 here, and refuses it for a PostgreSQL 17 server with the fix', () => {
    const ok = findClientTool('pg_dump', 15, '15.8', { PATH: process.env.PATH });
    expect(ok.major).toBe(15);
    expect(ok.path).toBe('/usr/lib/postgresql/15/bin/pg_dump');
    expect(() => findClientTool('pg_dump', 17, '17.6', { PATH: process.env.PATH })).toThrow(/^pg_dump 15\.\d+ cannot dump PostgreSQL 17\.6$/);
    expect(() => findClientTool('pg_restore', 17, '17.6', { PATH: '' })).toThrow(/^pg_restore 15\.\d+ cannot read a backup made by pg_dump 17\.6$/);
  });

  it('honours PG_DUMP / PG_BIN or refuses them, never silently passing them over', () => {
    expect(overrideVariable('pg_dump')).toBe('PG_DUMP');
    expect(() => findClientTool('pg_dump', 15, '15.8', { PG_DUMP: '/nonexistent/pg_dump' })).toThrow(/PG_DUMP points at \/nonexistent\/pg_dump, which is not a runnable pg_dump/);
    expect(() => findClientTool('pg_dump', 15, '15.8', { PG_BIN: '/tmp' })).toThrow(/PG_BIN points at \/tmp\/pg_dump/);
    expect(findClientTool('pg_dump', 14, '14.1', { PG_BIN: '/usr/lib/postgresql/15/bin' }).path).toBe('/usr/lib/postgresql/15/bin/pg_dump');
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
