import { describe, expect, it } from 'vitest';
import { parseDatabaseUrl } from '../../core/db/url.ts';
import { resolveTarget } from '../../core/config/target-settings.ts';
import { RUNNER_COMMANDS } from './commands.ts';
import { exitCodeOf, parseDbSecret, planRun } from './entrypoint.ts';

const prodEnv = {
  DB_TARGET: 'prod',
  DB_NAME: 'app',
  PGSTEWARD_DB_HOST: 'pgsteward-prod-db.c0ffee.eu-west-1.rds.amazonaws.com',
  PGSTEWARD_DB_PORT: '5432',
  PGSTEWARD_DB_SSLMODE: 'verify-full',
  PGSTEWARD_DB_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:pgsteward-prod/app_backup-x',
  PGSTEWARD_DB_SECRET_ROLE: 'backup',
  PGSTEWARD_OPS_CONFIG: JSON.stringify({ backups: { targets: { prod: { storage: { type: 's3', bucket: 'b', kmsKeyId: 'k' } } } } }),
};

describe('runner entrypoint (pure part)', () => {
  it('turns a backup task into the environment backup-db resolves: the backup role, over verified TLS, with its config file', () => {
    const secret = parseDbSecret(JSON.stringify({ engine: 'postgres', username: 'app_backup', password: 'p@ss/word with:colon' }));
    const plan = planRun(['cron', '--once', 'backup', '--target', 'prod'], prodEnv, secret, RUNNER_COMMANDS);
    expect(plan.script).toBe('ops/cron.mjs');
    expect(plan.args).toEqual(['--once', 'backup', '--target', 'prod']);
    expect(plan.env.DB_BACKUP_PASSWORD).toBe('p@ss/word with:colon');
    expect(plan.env.PGSTEWARD_HOME).toBe('/tmp/pgsteward');
    expect(plan.files).toEqual([{ path: '/tmp/pgsteward/pgsteward.config.json', content: prodEnv.PGSTEWARD_OPS_CONFIG }]);
    expect(plan.env.PGSTEWARD_CONFIG).toBe('/tmp/pgsteward/pgsteward.config.json');
    const admin = parseDatabaseUrl(plan.env.DATABASE_URL!);
    expect(admin).toMatchObject({ host: prodEnv.PGSTEWARD_DB_HOST, port: 5432, database: 'postgres', user: 'app_backup', password: 'p@ss/word with:colon', ssl: 'verify-full' });
    const target = resolveTarget({ target: 'prod' }, plan.env as NodeJS.ProcessEnv, '/app');
    expect(target).toMatchObject({ kind: 'prod', database: 'app', rolePasswords: { backup: 'p@ss/word with:colon' } });
  });

  it('gives a verify task the master login only, without calling it the backup role', () => {
    const plan = planRun(['cron', '--once', 'verify'], { ...prodEnv, PGSTEWARD_DB_SECRET_ROLE: 'admin' }, { username: 'pgsteward_admin', password: 'm' }, RUNNER_COMMANDS);
    expect(parseDatabaseUrl(plan.env.DATABASE_URL!).user).toBe('pgsteward_admin');
    expect(plan.env.DB_BACKUP_PASSWORD).toBeUndefined();
  });

  it('passes a dev container environment through untouched (no secret to read)', () => {
    const env = { DB_TARGET: 'dev', DATABASE_URL: 'postgres://postgres:x@pgsteward-dev-postgres:5432/postgres?sslmode=disable', PGSTEWARD_HOME: '/var/lib/pgsteward', PGSTEWARD_CONFIG: '/run/pgsteward/pgsteward.config.json' };
    const plan = planRun(['cron', '--target', 'dev'], env, undefined, RUNNER_COMMANDS);
    expect(plan.env).toEqual(env);
    expect(plan.files).toEqual([]);
  });

  it('refuses unknown commands, a missing secret or host, plaintext, and a config that is not JSON', () => {
    expect(() => planRun(['sh', '-c', 'id'], {}, undefined, RUNNER_COMMANDS)).toThrow(/unknown or missing command "sh"/);
    expect(() => planRun([], {}, undefined, RUNNER_COMMANDS)).toThrow(/unknown or missing command ""/);
    expect(() => planRun(['cron'], prodEnv, undefined, RUNNER_COMMANDS)).toThrow(/PGSTEWARD_DB_SECRET_ARN is set but no secret was read/);
    expect(() => planRun(['cron'], { ...prodEnv, PGSTEWARD_DB_HOST: undefined }, { username: 'u', password: 'p' }, RUNNER_COMMANDS)).toThrow(/needs PGSTEWARD_DB_HOST/);
    expect(() => planRun(['cron'], { ...prodEnv, PGSTEWARD_DB_SSLMODE: 'disable' }, { username: 'u', password: 'p' }, RUNNER_COMMANDS)).toThrow(/must be require or verify-full/);
    expect(() => planRun(['cron'], { ...prodEnv, PGSTEWARD_OPS_CONFIG: '{oops' }, { username: 'u', password: 'p' }, RUNNER_COMMANDS)).toThrow(/PGSTEWARD_OPS_CONFIG is not JSON/);
  });

  it('refuses a secret without credentials, never echoing its text', () => {
    expect(() => parseDbSecret('{"username":"u"}')).toThrow('the database secret has no username or password');
    const e = (() => {
      try {
        parseDbSecret('hunter2-not-json');
      } catch (x) {
        return x as Error;
      }
    })()!;
    expect(e.message).not.toContain('hunter2');
  });

  it('reports a child killed by a signal the way a shell does', () => {
    expect(exitCodeOf(0, null)).toBe(0);
    expect(exitCodeOf(1, null)).toBe(1);
    expect(exitCodeOf(null, 'SIGTERM')).toBe(143);
    expect(exitCodeOf(null, 'SIGKILL')).toBe(137);
    expect(exitCodeOf(null, null)).toBe(2);
  });
});
