import { describe, expect, it } from 'vitest';
import { withConnection } from './connect.ts';
import { parseServerInfo, serverInfo } from './server.ts';
import { otherSessions } from './sessions.ts';
import { pgAdmin } from '../../test/db.ts';

describe('withConnection', () => {
  it('closes the connection when fn returns and when it throws', async () => {
    const appName = `scope-${process.pid}`;
    const count = () => withConnection(pgAdmin(), {}, async (sql) => (await sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where application_name = ${appName}`)[0]!.n);
    await withConnection(pgAdmin(), { applicationName: appName }, async (sql) => sql`select 1`);
    await expect(withConnection(pgAdmin(), { applicationName: appName }, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    // A backend takes a moment to leave pg_stat_activity after its client hangs up.
    for (let i = 0; i < 50 && (await count()) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await count()).toBe(0);
  });

  it('turns a refused connection into one line naming the server without its password', async () => {
    const bad = { ...pgAdmin(), port: 1, password: 'hunter2-secret' };
    const err = (await withConnection(bad, { connectTimeoutSeconds: 2 }, async () => 1).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/cannot connect to postgres:\/\/.*:\*\*\*@127\.0\.0\.1:1\//);
    expect(err.message).not.toContain('hunter2-secret');
  });
});

describe('serverInfo', () => {
  it('parses version strings with a distribution suffix', () => {
    expect(parseServerInfo('17.12 (Debian 17.12-1)', 170012)).toEqual({ version: '17.12', versionNum: 170012, major: 17 });
    expect(parseServerInfo('9.6.24', 90624).major).toBe(9);
  });

  it('reads the suite server as PostgreSQL 17', async () => {
    const info = await withConnection(pgAdmin(), {}, serverInfo);
    expect(info.major).toBe(17);
    expect(info.version).toMatch(/^17\.\d+$/);
  });
});

describe('otherSessions', () => {
  it('lists client sessions on a database except the caller', async () => {
    await withConnection(pgAdmin(), {}, async (me) => {
      await withConnection(pgAdmin('template1'), { applicationName: 'other-session-probe' }, async (other) => {
        const pid = (await other<{ pid: number }[]>`select pg_backend_pid() as pid`)[0]!.pid;
        const sessions = await otherSessions(me, 'template1');
        expect(sessions.map((s) => s.pid)).toContain(pid);
        expect(sessions.find((s) => s.pid === pid)!.applicationName).toBe('other-session-probe');
        const own = (await me<{ pid: number }[]>`select pg_backend_pid() as pid`)[0]!.pid;
        expect((await otherSessions(me, 'postgres')).map((s) => s.pid)).not.toContain(own);
      });
    });
  });
});
