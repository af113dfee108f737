import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseOpsConfig } from '../../core/config/ops-config.ts';
import { resolveTarget } from '../../core/config/target-settings.ts';
import { silentLogger } from '../../core/log.ts';
import { Scheduler } from '../../core/cron/runner.ts';
import { runCli } from '../../test/cli.ts';
import { loadStackOpsConfig } from '../program.ts';
import { runStack, type StackRun } from '../test/pulumi-mocks.ts';
import { CRON_CONFIG_FILE, RUNNER_ENV_FILE } from './cron.ts';

/**
 * "Its history is readable with `npm run cron -- status --target dev`": the dev stack is
 * built under the mocks with the ops config the host's commands read (PGSTEWARD_HOME); the
 * history is then written the way the cron container writes it (its env file, its config,
 * its own Scheduler) into the host folder its volume binds; and the host's `cron status
 * --target dev`, run as a CLI, reads those runs back.
 */

const CONTAINER = 'docker:index/container:Container';
const VOLUME = 'docker:index/volume:Volume';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-dev-status-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** What the cron container sees: its environment, its config, and where its history lands on the host. */
function containerView(run: StackRun) {
  const cron = run.ofType(CONTAINER).find((c) => (c.inputs.labels as { label: string; value: string }[]).some((l) => l.label === 'io.pgsteward.purpose' && l.value === 'cron'))!;
  const uploads = Object.fromEntries((cron.inputs.uploads as { file: string; content: string }[]).map((u) => [u.file, u.content]));
  const env = parseEnv(uploads[RUNNER_ENV_FILE]!) as NodeJS.ProcessEnv;
  const target = resolveTarget({ target: 'dev' }, env, '/app');
  const ops = parseOpsConfig(JSON.parse(uploads[CRON_CONFIG_FILE]!), { file: CRON_CONFIG_FILE, baseDir: path.dirname(CRON_CONFIG_FILE), stateDir: target.stateDir });
  // The bind mount: the container path of the history, translated to the host folder docker binds there.
  const mount = (cron.inputs.volumes as { volumeName: string; containerPath: string }[]).find((v) => ops.cron.historyFile.startsWith(v.containerPath + '/'))!;
  const volume = run.ofType(VOLUME).find((v) => v.inputs.name === mount.volumeName)!;
  expect(volume.inputs.driverOpts).toMatchObject({ type: 'none', o: 'bind' });
  const hostHistoryFile = path.join(volume.inputs.driverOpts.device as string, path.relative(mount.containerPath, ops.cron.historyFile));
  return { target, ops, hostHistoryFile };
}

/** Runs as the container's scheduler does: one backup that succeeds, one verify that fails. */
async function containerRuns(v: ReturnType<typeof containerView>): Promise<void> {
  const scheduler = new Scheduler({
    jobs: [
      { name: 'backup', schedule: v.ops.cron.jobs.backup.schedule, enabled: true, run: async () => ({ outcome: 'ok', summary: 'app-20260301T031500Z.dump (1.2 MB, 14 tables, 120 rows); retention kept 1, deleted 0' }) },
      {
        name: 'verify',
        schedule: v.ops.cron.jobs.verify.schedule,
        enabled: true,
        run: async () => {
          throw new Error('pg_restore failed: could not open input file');
        },
      },
    ],
    timezone: v.ops.cron.timezone,
    historyFile: v.hostHistoryFile,
    target: v.target.kind,
    database: v.target.database,
    logger: silentLogger(),
  });
  await scheduler.trigger('backup', 'scheduled');
  await scheduler.trigger('verify', 'scheduled');
}

describe('npm run cron -- status --target dev reads the cron container\'s history', () => {
  it('with the default database: the same file, the container\'s runs, no flags beyond --target dev', async () => {
    const hostEnv = { PGSTEWARD_HOME: path.join(tmp, 'home-default') };
    const ops = loadStackOpsConfig(hostEnv);
    const run = await runStack({ stack: 'dev', config: { 'pgsteward:target': 'dev' }, ops });
    const view = containerView(run);
    expect(view.hostHistoryFile).toBe(ops.cron.historyFile);
    expect(view.target).toMatchObject({ kind: 'dev', database: 'app' });
    await containerRuns(view);
    expect(statSync(view.hostHistoryFile).mode & 0o777).toBe(0o600);

    const r = await runCli('ops/cron.ts', ['status', '--target', 'dev', '--json'], hostEnv);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout) as { target: string; database: string; historyFile: string; jobs: Array<{ job: string; last: { outcome: string; summary: string } | null }> };
    expect(status).toMatchObject({ target: 'dev', database: 'app', historyFile: ops.cron.historyFile });
    expect(Object.fromEntries(status.jobs.map((j) => [j.job, j.last && [j.last.outcome, j.last.summary]]))).toEqual({
      backup: ['ok', expect.stringMatching(/^app-20260301T031500Z\.dump/)],
      verify: ['failed', 'pg_restore failed: could not open input file'],
      checks: null,
    });

    const text = await runCli('ops/cron.ts', ['status', '--target', 'dev'], hostEnv);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^cron status \(dev\/app, /);
    expect(text.stdout).toMatch(/ {2}backup .* last: \S+ ok app-20260301T031500Z\.dump/);
    expect(text.stdout).toMatch(/ {2}verify .* last: \S+ failed pg_restore failed/);
  });

  it('with another database: the runs are that database\'s, so status names it (--database or DB_NAME)', async () => {
    const hostEnv = { PGSTEWARD_HOME: path.join(tmp, 'home-shop') };
    const ops = loadStackOpsConfig(hostEnv);
    const run = await runStack({ stack: 'dev', config: { 'pgsteward:target': 'dev', 'pgsteward:database': 'shop' }, ops });
    const view = containerView(run);
    expect(view.target.database).toBe('shop');
    await containerRuns(view);
    const lines = readFileSync(view.hostHistoryFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { target: string; database: string });
    expect(lines.map((l) => [l.target, l.database])).toEqual([
      ['dev', 'shop'],
      ['dev', 'shop'],
    ]);

    const named = await runCli('ops/cron.ts', ['status', '--target', 'dev', '--database', 'shop', '--json'], hostEnv);
    expect(named.code).toBe(0);
    expect((JSON.parse(named.stdout) as { jobs: Array<{ job: string; last: { outcome: string } | null }> }).jobs.map((j) => j.last?.outcome ?? null)).toEqual(['ok', 'failed', null]);
    const viaEnv = await runCli('ops/cron.ts', ['status', '--target', 'dev', '--json'], { ...hostEnv, DB_NAME: 'shop' });
    expect((JSON.parse(viaEnv.stdout) as { database: string }).database).toBe('shop');
    // Without the name, status looks at the default database, which this container never ran for.
    const unnamed = await runCli('ops/cron.ts', ['status', '--target', 'dev', '--json'], hostEnv);
    expect((JSON.parse(unnamed.stdout) as { jobs: Array<{ last: unknown }> }).jobs.map((j) => j.last)).toEqual([null, null, null]);
  });
});
