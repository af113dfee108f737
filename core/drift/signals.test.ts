import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { secretUrl } from '../db/url.ts';
import { exitOf, spawnCli, waitFor } from '../../test/cli.ts';
import { pgAdmin, provisionDatabase, withSql } from '../../test/db.ts';
import { sweepAbandonedClusters } from './ephemeral.ts';
import { sweepAbandonedScratch } from './scratch.ts';
import { pidAlive } from '../processes.ts';

/**
 * The reference is always removed: on SIGINT and SIGTERM by the process itself (exit 130 and
 * 143), and after a SIGKILL by the next run's sweep. Each test signals a real process in the
 * middle of building the reference (its last migration sleeps).
 */

const ENTRY = 'core/drift/testing/drift-entry.ts';
const env = () => ({ DRIFT_ADMIN_URL: secretUrl(pgAdmin()) });

function progressValue(stdout: string, pattern: RegExp): string | undefined {
  return pattern.exec(stdout)?.[1];
}

async function scratchLeft(database: string): Promise<number> {
  const [row] = await withSql(pgAdmin(), (sql) => sql<{ n: number }[]>`
    select (select count(*)::int from pg_database where datname = ${database})
         + (select count(*)::int from pg_roles where rolname like ${database + '\\_%'}) as n`);
  return row!.n;
}

async function sleepingIn(database: string): Promise<boolean> {
  const rows = await withSql(pgAdmin(), (sql) => sql`select 1 from pg_stat_activity where datname = ${database} and query like '%pg_sleep%' and state = 'active'`);
  return rows.length > 0;
}

describe('the reference is removed whatever ends the run', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} while migrations run in the scratch database: dropped with its roles, exit ${signal === 'SIGINT' ? 130 : 143}`, async () => {
      const db = await provisionDatabase('drsig');
      const child = spawnCli(ENTRY, ['--kind', 'local', '--database', db.database, '--pause', '60'], env());
      let scratch: string | undefined;
      await waitFor(() => Boolean((scratch = progressValue(child.output.stdout, /reference scratch database (\S+)/))), 30_000, 'the scratch database');
      await waitFor(() => sleepingIn(scratch!), 30_000, 'the reference migration');
      expect(await scratchLeft(scratch!)).toBeGreaterThan(0);
      child.kill(signal);
      const exit = await exitOf(child);
      expect(exit.code).toBe(signal === 'SIGINT' ? 130 : 143);
      expect(child.output.stderr).toContain(`interrupted (${signal}): removing the reference scratch database ${scratch}`);
      expect(await scratchLeft(scratch!)).toBe(0);
    });
  }

  it('SIGTERM while the prod reference is built on an ephemeral cluster: server stopped, folder deleted, exit 143', async () => {
    const db = await provisionDatabase('drsigp');
    const child = spawnCli(ENTRY, ['--kind', 'prod', '--database', db.database, '--pause', '60'], env());
    let root: string | undefined;
    await waitFor(() => Boolean((root = progressValue(child.output.stdout, /reference cluster running in (\S+) on port/))), 60_000, 'the reference cluster');
    await waitFor(() => child.output.stdout.includes('applying'), 30_000, 'the reference migrations');
    const postmaster = Number(readFileSync(path.join(root!, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(pidAlive(postmaster)).toBe(true);
    child.kill('SIGTERM');
    const exit = await exitOf(child);
    expect(exit.code).toBe(143);
    expect(child.output.stderr).toContain('interrupted (SIGTERM): removing the reference cluster');
    expect(existsSync(root!)).toBe(false);
    await waitFor(() => !pidAlive(postmaster), 10_000, 'the postmaster to end');
  }, 120_000);

  it('SIGKILL leaves a marked scratch database that the next run removes, and only that one', async () => {
    const db = await provisionDatabase('drkill');
    const child = spawnCli(ENTRY, ['--kind', 'local', '--database', db.database, '--pause', '60'], env());
    let scratch: string | undefined;
    await waitFor(() => Boolean((scratch = progressValue(child.output.stdout, /reference scratch database (\S+)/))), 30_000, 'the scratch database');
    await waitFor(() => sleepingIn(scratch!), 30_000, 'the reference migration');
    child.kill('SIGKILL');
    await exitOf(child);
    expect(await scratchLeft(scratch!)).toBeGreaterThan(0);
    const swept = await withSql(pgAdmin(), (sql) => sweepAbandonedScratch(sql));
    expect(swept).toContain(scratch);
    expect(await scratchLeft(scratch!)).toBe(0);
    // The live database is no scratch of ours: untouched.
    const [live] = await withSql(pgAdmin(), (sql) => sql<{ n: number }[]>`select count(*)::int as n from pg_database where datname = ${db.database}`);
    expect(live!.n).toBe(1);
  });

  it('SIGKILL leaves a running ephemeral cluster that the next run stops and deletes', async () => {
    const db = await provisionDatabase('drkillp');
    const child = spawnCli(ENTRY, ['--kind', 'prod', '--database', db.database, '--pause', '60'], env());
    let root: string | undefined;
    await waitFor(() => Boolean((root = progressValue(child.output.stdout, /reference cluster running in (\S+) on port/))), 60_000, 'the reference cluster');
    const postmaster = Number(readFileSync(path.join(root!, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
    child.kill('SIGKILL');
    await exitOf(child);
    expect(pidAlive(postmaster)).toBe(true);
    const swept = await sweepAbandonedClusters(path.dirname(root!));
    expect(swept).toContain(root);
    expect(existsSync(root!)).toBe(false);
    await waitFor(() => !pidAlive(postmaster), 10_000, 'the postmaster to end');
  }, 120_000);
});
