import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../errors.ts';
import { DEFAULT_RETENTION, DEFAULT_SCHEDULES, loadOpsConfig, parseOpsConfig } from './ops-config.ts';

const ctx = { file: '/etc/pgsteward/pgsteward.config.json', baseDir: '/etc/pgsteward', stateDir: '/var/lib/pgsteward' };

describe('ops config', () => {
  it('has complete defaults: local storage per target, GFS retention, daily/weekly/hourly schedules in UTC', () => {
    const c = parseOpsConfig(undefined, ctx);
    expect(c.targets.local.storage).toEqual({ type: 'local', dir: '/var/lib/pgsteward/backups/local' });
    expect(c.targets.prod.storage).toEqual({ type: 'local', dir: '/var/lib/pgsteward/backups/prod' });
    expect(c.targets.dev.retention).toEqual(DEFAULT_RETENTION);
    expect(c.targets.dev.docker).toBeUndefined();
    expect(c.cron).toEqual({
      timezone: 'UTC',
      historyFile: '/var/lib/pgsteward/cron/history.jsonl',
      jobs: { backup: { schedule: DEFAULT_SCHEDULES.backup, enabled: true }, verify: { schedule: DEFAULT_SCHEDULES.verify, enabled: true }, checks: { schedule: DEFAULT_SCHEDULES.checks, enabled: true } },
    });
  });

  it('reads S3 storage, per-target retention over the shared one, docker pg_dump and relative paths', () => {
    const c = parseOpsConfig(
      {
        backups: {
          retention: { keepLast: 3, monthly: 12 },
          targets: {
            local: { storage: { type: 'local', dir: 'dumps' } },
            dev: { docker: { container: 'pgsteward-dev-db' } },
            prod: { storage: { type: 's3', bucket: 'acme-db-backups', region: 'eu-central-1', kmsKeyId: 'alias/backups' }, retention: { monthly: 24 } },
          },
        },
        cron: { timezone: 'Europe/Berlin', historyFile: 'logs/cron.jsonl', jobs: { checks: { enabled: false } } },
      },
      ctx,
    );
    expect(c.targets.local.storage).toEqual({ type: 'local', dir: '/etc/pgsteward/dumps' });
    expect(c.targets.prod.storage).toEqual({ type: 's3', bucket: 'acme-db-backups', prefix: 'pgsteward', region: 'eu-central-1', endpoint: undefined, forcePathStyle: false, sse: 'aws:kms', kmsKeyId: 'alias/backups' });
    expect(c.targets.prod.retention).toEqual({ ...DEFAULT_RETENTION, keepLast: 3, monthly: 24 });
    expect(c.targets.local.retention).toEqual({ ...DEFAULT_RETENTION, keepLast: 3, monthly: 12 });
    expect(c.targets.dev.docker).toEqual({ container: 'pgsteward-dev-db', host: '127.0.0.1', port: 5432 });
    expect(c.cron.historyFile).toBe('/etc/pgsteward/logs/cron.jsonl');
    expect(c.cron.jobs.checks.enabled).toBe(false);
  });

  it('refuses mistakes with the file, the key and the fix', () => {
    const bad = (raw: unknown) => () => parseOpsConfig(raw, ctx);
    expect(bad({ backups: { targets: { prod: { storge: {} } } } })).toThrow('/etc/pgsteward/pgsteward.config.json: backups.targets.prod.storge is not a known setting');
    expect(bad({ backups: { targets: { qa: {} } } })).toThrow(/backups.targets.qa is not a known setting$/);
    try {
      bad({ backups: { targets: { qa: {} } } })();
    } catch (e) {
      expect((e as UserError).line).toMatch(/is not a known setting; use one of: local, dev, prod$/);
    }
    expect(bad({ backups: { retention: { daily: -1 } } })).toThrow(/backups.retention.daily must be a whole number from 0 to 10000/);
    expect(bad({ backups: { retention: { keepLast: 0 } } })).toThrow(/keepLast must be a whole number from 1/);
    expect(bad({ backups: { targets: { prod: { storage: { type: 's3' } } } } })).toThrow(/storage.bucket is required for S3 storage/);
    expect(bad({ backups: { targets: { prod: { storage: { type: 's3', bucket: 'b', sse: 'AES256', kmsKeyId: 'k' } } } } })).toThrow(/kmsKeyId only applies with sse "aws:kms"/);
    expect(bad({ backups: { targets: { local: { storage: { type: 'ftp' } } } } })).toThrow(/storage.type must be one of local, s3/);
    expect(bad({ backups: { targets: { local: { storage: { type: 'local', bucket: 'x' } } } } })).toThrow(/storage.bucket is not a known setting/);
    expect(bad({ cron: { timezone: 'Mars/Olympus' } })).toThrow(/cron.timezone "Mars\/Olympus" is not a known time zone/);
    expect(bad({ cron: { jobs: { backup: { schedule: 5 } } } })).toThrow(/cron.jobs.backup.schedule must be a non-empty string/);
    expect(bad([])).toThrow(/must be an object/);
  });

  it('loads a file: explicit paths must exist, the default one is optional, bad JSON is named', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-cfg-'));
    expect(loadOpsConfig({ repoRoot: dir, stateDir: dir, env: {} }).source).toBeUndefined();
    expect(() => loadOpsConfig({ file: path.join(dir, 'nope.json'), repoRoot: dir, stateDir: dir, env: {} })).toThrow(/config file .*nope.json does not exist/);
    expect(() => loadOpsConfig({ repoRoot: dir, stateDir: dir, env: { PGSTEWARD_CONFIG: path.join(dir, 'gone.json') } })).toThrow(/gone.json does not exist/);
    writeFileSync(path.join(dir, 'pgsteward.config.json'), '{ "cron": { "timezone": "UTC", } }');
    expect(() => loadOpsConfig({ repoRoot: dir, stateDir: dir, env: {} })).toThrow(/pgsteward.config.json is not valid JSON/);
    writeFileSync(path.join(dir, 'pgsteward.config.json'), '{ "cron": { "timezone": "Asia/Tokyo" } }');
    const c = loadOpsConfig({ repoRoot: dir, stateDir: dir, env: {} });
    expect(c.source).toBe(path.join(dir, 'pgsteward.config.json'));
    expect(c.cron.timezone).toBe('Asia/Tokyo');
  });
});
