import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pgAdmin } from '../../test/db.ts';
import { installedToolsBin } from '../../test/pg-tools.ts';
import type { PgTool } from './invoke.ts';
import { lastErrorLine, runTool, startTool, toolFailure } from './run.ts';

const tool = (name: PgTool['name'], file = path.join(installedToolsBin(17), name)): PgTool => ({ name, path: file, major: 17, version: '17', placement: { kind: 'host' } });
const psql = tool('psql');

describe('the process runner (real psql and pg_dump 17 against PostgreSQL 17)', () => {
  it('passes arguments through unchanged, however they are quoted, and captures stdout', async () => {
    const text = `it's "quoted" $HOME; \`id\` \\ *`;
    const exit = await runTool(psql, ['-XAt', '-c', `select $q$${text}$q$`], pgAdmin(), { stdout: 'capture', fix: 'x' });
    expect(exit.code).toBe(0);
    expect(exit.stdout).toBe(text + '\n');
  });

  it('feeds a file to stdin', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'pgsteward-run-')), 'q.sql');
    writeFileSync(file, 'select 6 * 7;\n');
    const exit = await runTool(psql, ['-XAt', '-f', '-'], pgAdmin(), { stdinFile: file, stdout: 'capture', fix: 'x' });
    expect(exit.stdout).toBe('42\n');
    // the tools and the server these tests ran against
    const versions = await runTool(psql, ['-XAt', '-c', `select current_setting('server_version_num')`], pgAdmin(), { stdout: 'capture', fix: 'x' });
    expect(Math.floor(Number(versions.stdout.trim()) / 10000)).toBe(17);
    expect((await runTool(psql, ['--version'], pgAdmin(), { stdout: 'capture', fix: 'x' })).stdout).toMatch(/^psql \(PostgreSQL\) 17\.\d+/);
  });

  it('streams stdout (a custom-format dump)', async () => {
    const run = startTool(tool('pg_dump'), ['--format=custom', '--schema-only'], pgAdmin(), { stdout: 'stream' });
    const chunks: Buffer[] = [];
    for await (const c of run.stdout!) chunks.push(c as Buffer);
    expect((await run.exit).code).toBe(0);
    expect(Buffer.concat(chunks).subarray(0, 5).toString()).toBe('PGDMP');
  });

  it('a failure is one line with the tool\'s own reason, and no password', async () => {
    const err = await runTool(psql, ['-X', '-v', 'ON_ERROR_STOP=1', '-c', 'select nope'], pgAdmin(), { fix: 'fix the query' }).catch((e: Error) => e);
    expect((err as Error).message).toBe('psql failed: ERROR:  column "nope" does not exist');
    const bad = await runTool(psql, ['-X', '-c', 'select 1'], { ...pgAdmin(), password: 'not-the-password-123' }, { fix: 'check it' }).catch((e: Error) => e);
    expect((bad as Error).message).toMatch(/^psql failed: .*password authentication failed for user "postgres"$/);
    expect((bad as Error).message).not.toContain('not-the-password-123');
  });

  it('a missing binary says it cannot run it', async () => {
    const err = await runTool(tool('pg_dump', '/nonexistent/bin/pg_dump'), ['--version'], pgAdmin(), { fix: 'x' }).catch((e: Error) => e);
    expect((err as Error).message).toBe('cannot run /nonexistent/bin/pg_dump');
  });

  it('abort kills the tool at once, and a timeout stops it', async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    const run = startTool(psql, ['-X', '-c', 'select pg_sleep(30)'], pgAdmin(), { signal: ac.signal });
    setTimeout(() => ac.abort(), 300);
    const exit = await run.exit;
    expect(exit).toMatchObject({ aborted: true, signal: 'SIGTERM', timedOut: false });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(toolFailure('psql', exit, 'x')?.message).toBe('psql was stopped');

    const slow = await startTool(psql, ['-X', '-c', 'select pg_sleep(30)'], pgAdmin(), { timeoutMs: 400 }).exit;
    expect(slow).toMatchObject({ timedOut: true, aborted: false, code: null });
    expect(toolFailure('psql', slow, 'x')?.message).toBe('psql did not finish in time and was stopped');
  });

  it('lastErrorLine picks the error, strips the tool prefix', () => {
    expect(lastErrorLine('pg_restore', 'pg_restore: connecting\npg_restore: error: could not read input file: end of file\n')).toBe('could not read input file: end of file');
    expect(lastErrorLine('pg_dump', '')).toBe('no output');
  });
});
