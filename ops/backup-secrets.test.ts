import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { secretUrl } from '../core/db/url.ts';
import { clusterAdmin, expectMadeBy17, provisionBackupDatabase, seed } from '../test/backups.ts';
import { exitOf, runCli, spawnCli, waitFor, type CliResult } from '../test/cli.ts';
import { readHistory } from '../core/cron/history.ts';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && !d.name.endsWith('.dump'))
    .map((d) => path.join(d.parentPath, d.name));
}

describe('no secret in any output of a full backup / restore / verify / retention / cron cycle (PostgreSQL 17, pg_dump 17)', () => {
  it('greps stdout, stderr, logs, manifests and the cron history for every known password', async () => {
    const db = await provisionBackupDatabase('leak');
    await seed(db.admin, 4);
    const superuser = clusterAdmin().password!;
    const wrong = `wrong-${Math.random().toString(36).slice(2)}-password`;
    const secrets = [superuser, wrong, ...Object.values(db.passwords)];
    for (const s of secrets) expect(s.length).toBeGreaterThanOrEqual(16);

    const home = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-leak-'));
    const config = path.join(home, 'pgsteward.config.json');
    writeFileSync(config, JSON.stringify({
      backups: { targets: { local: { storage: { dir: 'backups' } }, prod: { storage: { dir: 'prod-backups' } } } },
      cron: { historyFile: 'cron/history.jsonl', jobs: { checks: { schedule: '* * * * * *' }, backup: { enabled: false }, verify: { enabled: false } } },
    }));
    const env = { ...db.env, PGSTEWARD_CONFIG: config, PGSTEWARD_LOG_LEVEL: 'debug' };
    const outputs: CliResult[] = [];
    const run = async (script: string, args: string[], e: NodeJS.ProcessEnv = env) => {
      const r = await runCli(script, args, e, 120_000);
      outputs.push(r);
      return r;
    };

    const b = await run('ops/backup-db.ts', []);
    expect(b.code).toBe(0);
    const second = await run('ops/backup-db.ts', ['--json', '--label', 'second']);
    expect(second.code).toBe(0);
    expectMadeBy17(JSON.parse(second.stdout).manifest);
    expect((await run('ops/backup-db.ts', ['--list'])).code).toBe(0);
    expect((await run('ops/restore-db.ts', ['--json'])).code).toBe(0);
    expect((await run('ops/restore-db.ts', ['--into-existing', '--confirm', db.database])).code).toBe(0);
    expect((await run('ops/verify-backup.ts', [])).code).toBe(0);
    expect((await run('ops/retention.ts', ['--dry-run', '--json'])).code).toBe(0);
    expect((await run('ops/retention.ts', ['--keep-last', '1', '--min-age-hours', '0'])).code).toBe(0);
    expect((await run('ops/cron.ts', ['--once', 'backup'])).code).toBe(0);
    expect((await run('ops/cron.ts', ['--once', 'verify', '--json'])).code).toBe(0);
    expect((await run('ops/cron.ts', ['--once', 'checks'])).code).toBe(0);
    expect((await run('ops/cron.ts', ['status'])).code).toBe(0);
    // the scheduler itself, stopped by SIGTERM
    const history = path.join(home, 'cron', 'history.jsonl');
    const cron = spawnCli('ops/cron.ts', [], env);
    await waitFor(() => readHistory(history).some((r) => r.trigger === 'scheduled'), 20_000, 'a scheduled run');
    cron.kill('SIGTERM');
    expect((await exitOf(cron)).code).toBe(0);
    outputs.push({ code: cron.exitCode, ...cron.output });
    // failures are output too: a wrong role password, a URL with the superuser's password that cannot connect
    const badPw = await run('ops/backup-db.ts', [], { ...env, DB_BACKUP_PASSWORD: wrong });
    expect(badPw.code).toBe(2);
    expect(badPw.stderr).toMatch(/authentication failed for user "[a-z0-9_]+_backup"/);
    const badUrl = await run('ops/restore-db.ts', ['--from-target', 'local', '--target', 'prod', '--url', secretUrl({ ...clusterAdmin(), port: 1 })], { ...env });
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/cannot connect to postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/postgres: connection refused/);
    const badCron = await run('ops/cron.ts', ['--once', 'checks', '--url', secretUrl({ ...clusterAdmin(), password: wrong }), '--target', 'dev'], env);
    expect(badCron.code).toBe(2);

    const texts = outputs.flatMap((o) => [o.stdout, o.stderr]);
    expect(filesUnder(home).some((f) => f.endsWith('.json') && f.includes(db.database))).toBe(true);
    for (const f of filesUnder(home)) texts.push(readFileSync(f, 'utf8'));
    const all = texts.join('\n');
    // the grep looks at real output: names, logs and history are all in there
    expect(all).toContain(db.database);
    expect(all).toContain('"msg":"backup finished"');
    expect(all).toContain('"job":"checks"');
    expect(all.length).toBeGreaterThan(10_000);
    for (const s of secrets) expect(all.includes(s), `a password leaked into the output`).toBe(false);
    expect(all).not.toMatch(/postgres(ql)?:\/\/[^:\s]+:(?!\*\*\*@)[^@\s]+@/);
  });
});
