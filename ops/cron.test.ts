import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readHistory } from '../core/cron/history.ts';
import { connect } from '../core/db/connect.ts';
import { secretUrl } from '../core/db/url.ts';
import { expectMadeBy17, localBackupDir, provisionBackupDatabase, seed } from '../test/backups.ts';
import { parseManifest } from '../core/backup/manifest.ts';
import { exitOf, runCli, spawnCli, waitFor } from '../test/cli.ts';
import { pgAdmin, provisionDatabase } from '../test/db.ts';

/** A config file in a fresh folder: history and locks there too. */
function configFile(cron: Record<string, unknown>): { file: string; history: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-cron-cli-'));
  const file = path.join(dir, 'pgsteward.config.json');
  writeFileSync(file, JSON.stringify({ cron: { historyFile: 'history.jsonl', ...cron } }));
  return { file, history: path.join(dir, 'history.jsonl') };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('cron command (PostgreSQL 17, pg_dump 17)', () => {
  it('SIGTERM stops scheduling, waits for the running backup to finish, then exits 0', async () => {
    const db = await provisionBackupDatabase('crsig');
    await seed(db.admin, 3);
    const { file, history } = configFile({ jobs: { backup: { schedule: '* * * * * *' }, verify: { enabled: false }, checks: { enabled: false } } });
    // Hold a lock pg_dump must wait for, so the backup is demonstrably mid-run when SIGTERM arrives.
    const blocker = connect(db.admin, { max: 1 });
    const held = await blocker.reserve();
    await held.unsafe(`begin; lock table users in access exclusive mode`);
    const child = spawnCli('ops/cron.ts', ['--config', file], { ...db.env, PGSTEWARD_CONFIG: '' });
    try {
      await waitFor(() => /"job":"backup".*"msg":"job started"/.test(child.output.stderr), 20_000, 'the backup job to start');
      await sleep(500);
      child.kill('SIGTERM');
      await sleep(1500);
      expect(child.exitCode).toBe(null); // still waiting for the backup
      expect(readHistory(history).filter((r) => r.outcome !== 'skipped')).toEqual([]);
    } finally {
      await held.unsafe('commit');
      held.release();
      await blocker.end();
    }
    const { code } = await exitOf(child);
    expect(code).toBe(0);
    const runs = readHistory(history).filter((r) => r.outcome !== 'skipped');
    expect(runs.map((r) => [r.job, r.outcome])).toEqual([['backup', 'ok']]);
    expect(runs[0]!.summary).toMatch(/^local-\d{8}T\d{6}Z\.dump \(.*, 9 tables, \d+ rows\); retention kept 1, deleted 0$/);
    expect(child.output.stderr).toMatch(/"msg":"stopping: no new runs; waiting for running jobs"/);
    expect(child.output.stderr).toMatch(/"msg":"scheduler stopped"/);
    const dumps = readdirSync(localBackupDir(db)).filter((f) => f.endsWith('.dump'));
    expect(dumps).toHaveLength(1);
    expectMadeBy17(parseManifest(readFileSync(path.join(localBackupDir(db), dumps[0]!.replace(/\.dump$/, '.json')), 'utf8'), 'cron backup'));
  });

  it('refuses an invalid cron expression at start-up with one clear line', async () => {
    const db = await provisionBackupDatabase('crbad');
    const { file, history } = configFile({ jobs: { checks: { schedule: '*/5 * * * 9' } } });
    const r = await runCli('ops/cron.ts', ['--config', file], db.env);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: cron.jobs.checks.schedule "\*\/5 \* \* \* 9" is not a valid cron expression: "9" is not valid in the day-of-week field; use five fields/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(history)).toBe(false);
    // status judges the schedules too, and refuses a reversed range as start-up does
    const status = await runCli('ops/cron.ts', ['status', '--config', file], db.env);
    expect(status.code).toBe(2);
    expect(status.stdout).toBe('');
    expect(status.stderr).toMatch(/^error: cron.jobs.checks.schedule "\*\/5 \* \* \* 9" is not a valid cron expression/);
    expect(status.stderr.trim().split('\n')).toHaveLength(1);
    const reversed = configFile({ jobs: { backup: { schedule: '5-1 * * * *' } } });
    for (const args of [['status', '--json'], []]) {
      const rr = await runCli('ops/cron.ts', [...args, '--config', reversed.file], db.env);
      expect(rr.code).toBe(2);
      expect(rr.stderr).toMatch(/^error: cron.jobs.backup.schedule "5-1 \* \* \* \*" is not a valid cron expression: "5-1" is a reversed range in the minute field; write ranges low-high/);
      expect(rr.stderr.trim().split('\n')).toHaveLength(1);
    }
    const tz = configFile({ timezone: 'Mars/Olympus' });
    const t = await runCli('ops/cron.ts', ['--config', tz.file], db.env);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/cron.timezone "Mars\/Olympus" is not a known time zone; use an IANA name/);
  });

  it('without a compatible pg_dump the backup job fails clearly on every run, and the scheduler keeps going', async () => {
    const db = await provisionDatabase('crpre');
    const { file, history } = configFile({ jobs: { backup: { schedule: '* * * * * *' }, verify: { enabled: false }, checks: { enabled: false } } });
    const env = { PGSTEWARD_HOME: mkdtempSync(path.join(os.tmpdir(), 'pgsteward-crpre-')), DATABASE_URL: secretUrl(pgAdmin()), DB_TARGET: 'dev', DB_NAME: db.database, DB_BACKUP_PASSWORD: db.passwords.backup };
    const child = spawnCli('ops/cron.ts', ['--config', file], env);
    await waitFor(() => readHistory(history).filter((r) => r.outcome === 'failed').length >= 2, 20_000, 'two failed backup runs');
    child.kill('SIGTERM');
    expect((await exitOf(child)).code).toBe(0);
    const failed = readHistory(history).filter((r) => r.outcome === 'failed');
    for (const r of failed) expect(r.summary).toMatch(/^backup preflight failed: pg_dump 15\.\d+ cannot dump PostgreSQL 17\.\d+; install postgresql-client-17 or set PG_BIN$/);
    expect(child.output.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack traces

    // --once runs the same preflight and exits 2 with the reason
    const once = await runCli('ops/cron.ts', ['--config', file, '--once', 'backup'], env);
    expect(once.code).toBe(2);
    expect(once.stdout).toMatch(/^cron --once backup: failed backup preflight failed: pg_dump 15\.\d+ cannot dump PostgreSQL 17/);
  });

  it('--once runs a job now; status shows the last and next run of each job', async () => {
    const db = await provisionBackupDatabase('crst');
    const { file } = configFile({ timezone: 'Europe/Berlin', jobs: { verify: { enabled: false } } });
    const checks = await runCli('ops/cron.ts', ['--config', file, '--once', 'checks', '--json'], db.env);
    expect(checks.code).toBe(0);
    expect(JSON.parse(checks.stdout)).toMatchObject({ job: 'checks', outcome: 'ok', trigger: 'manual', database: db.database });
    const backup = await runCli('ops/cron.ts', ['--config', file, '--once', 'backup'], db.env);
    expect(backup.code).toBe(0);
    const status = await runCli('ops/cron.ts', ['status', '--config', file, '--json'], db.env);
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout);
    expect(s.timezone).toBe('Europe/Berlin');
    const byJob = Object.fromEntries(s.jobs.map((j: { job: string }) => [j.job, j]));
    expect(byJob.backup).toMatchObject({ schedule: '15 3 * * *', enabled: true, last: { outcome: 'ok' } });
    expect(byJob.checks.last.summary).toMatch(/^\d+ passed, 0 failed, \d+ warnings/);
    expect(byJob.verify).toMatchObject({ enabled: false, next: null, last: null });
    expect(Date.parse(byJob.backup.next)).toBeGreaterThan(Date.now());
    const hour = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit' }).format(new Date(byJob.backup.next));
    expect(hour).toBe('03:15');
    const bad = await runCli('ops/cron.ts', ['--once', 'backups'], db.env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: unknown job "backups"; use --once backup\|verify\|checks\n$/);
  });
});
