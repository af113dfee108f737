import { describe, expect, it } from 'vitest';
import { DEFAULT_DEV_PORT } from '../core/config/target.ts';
import { CONFIG_KEYS, DEFAULT_POSTGRES_BASE_IMAGE, parseStackConfig } from './config.ts';

const fail = (raw: Record<string, string>, stack = 'dev'): string => {
  try {
    parseStackConfig(raw, stack);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the config to be refused');
};

describe('stack config', () => {
  it('gives the dev stack the design record defaults, with the forward off', () => {
    const c = parseStackConfig({ 'pgkit:target': 'dev' }, 'anything');
    expect(c).toMatchObject({
      target: 'dev',
      database: 'app',
      pool: { max: 10, min: 2, instances: 1 },
      forward: { enabled: false, port: DEFAULT_DEV_PORT },
      postgresBaseImage: DEFAULT_POSTGRES_BASE_IMAGE,
      keepDataOnDestroy: true,
    });
  });

  it('takes the target from a stack named dev or prod', () => {
    expect(parseStackConfig({}, 'dev').target).toBe('dev');
    expect(parseStackConfig({}, 'prod').target).toBe('prod');
    expect(fail({}, 'staging')).toMatch(/pgkit:target is not set.*pulumi config set pgkit:target dev/);
  });

  it('gives prod safe defaults: deletion protection, backups, two AZs, no replicas', () => {
    const c = parseStackConfig({ 'pgkit:target': 'prod' }, 'prod');
    expect(c).toMatchObject({ target: 'prod', deletionProtection: true, backupRetentionDays: 7, azCount: 2, readReplicas: 0, multiAz: false, performanceInsights: true, ssmBastion: false });
  });

  it('parses typed values from Pulumi strings', () => {
    const c = parseStackConfig({ 'pgkit:forward': 'true', 'pgkit:forwardPort': '6543', 'pgkit:poolMax': '20', 'pgkit:appInstances': '3', 'pgkit:database': 'shop' }, 'dev');
    expect(c.target === 'dev' && c.forward).toEqual({ enabled: true, port: 6543 });
    expect(c.pool).toEqual({ max: 20, min: 2, instances: 3 });
    expect(c.database).toBe('shop');
  });

  it('names the key, the problem and the fixing command for a bad value', () => {
    expect(fail({ 'pgkit:forwardPort': 'abc', 'pgkit:forward': 'true' })).toBe(
      'invalid stack config: pgkit:forwardPort must be a whole number from 1024 to 65535, got "abc"; run pulumi config set pgkit:forwardPort 15432',
    );
    expect(fail({ 'pgkit:forward': 'yes' })).toMatch(/pgkit:forward must be true or false, got "yes"/);
    expect(fail({ 'pgkit:database': 'Bad-Name' })).toMatch(/pgkit:database must be 1-48 lower-case/);
  });

  it('reports every problem at once', () => {
    const msg = fail({ 'pgkit:memoryMb': '12', 'pgkit:poolMin': '50' });
    expect(msg).toMatch(/^2 problems in stack config: /);
    expect(msg).toContain('pgkit:memoryMb');
    expect(msg).toContain('pgkit:poolMin (50) is larger than pgkit:poolMax (10)');
  });

  it('refuses unknown keys and suggests the closest one', () => {
    expect(fail({ 'pgkit:fowardPort': '1' })).toMatch(/unknown setting pgkit:fowardPort; did you mean pgkit:forwardPort\?/);
    // Other namespaces (aws:region, docker:host) belong to their providers.
    expect(parseStackConfig({ 'aws:region': 'eu-west-1', 'pgkit:target': 'prod' }, 'x').target).toBe('prod');
  });

  it('refuses keys that belong to the other target', () => {
    expect(fail({ 'pgkit:multiAz': 'true' }, 'dev')).toMatch(/pgkit:multiAz applies to the prod target only/);
    expect(fail({ 'pgkit:forward': 'true' }, 'prod')).toMatch(/pgkit:forward applies to the dev target only/);
  });

  it('only accepts PostgreSQL 17 base images, optionally pinned by digest', () => {
    const digest = `postgres:17.6-bookworm@sha256:${'a'.repeat(64)}`;
    expect((parseStackConfig({ 'pgkit:postgresBaseImage': digest }, 'dev') as { postgresBaseImage: string }).postgresBaseImage).toBe(digest);
    expect(fail({ 'pgkit:postgresBaseImage': 'postgres:16' })).toMatch(/postgresBaseImage must be a postgres:17 tag/);
  });

  it('checks values against each other', () => {
    expect(fail({ 'pgkit:shmSizeMb': '1024', 'pgkit:memoryMb': '512' })).toMatch(/shmSizeMb \(1024\) must be below pgkit:memoryMb \(512\)/);
    expect(fail({ 'pgkit:forwardPort': '6000' })).toMatch(/forwardPort is set but pgkit:forward is off/);
    expect(fail({ 'pgkit:allocatedStorageGb': '200', 'pgkit:maxAllocatedStorageGb': '100' }, 'prod')).toMatch(/maxAllocatedStorageGb \(100\) is below/);
    expect(fail({ 'pgkit:masterUsername': 'postgres' }, 'prod')).toMatch(/masterUsername "postgres" is reserved/);
    expect(fail({ 'pgkit:masterUsername': 'app_owner' }, 'prod')).toMatch(/collides with the database's roles/);
  });

  it('keeps RDS limits: retention 1-35 days, Performance Insights retention 7 or whole months', () => {
    expect(fail({ 'pgkit:backupRetentionDays': '0' }, 'prod')).toMatch(/backupRetentionDays must be a whole number from 1 to 35/);
    expect(fail({ 'pgkit:performanceInsightsRetentionDays': '30' }, 'prod')).toMatch(/performanceInsightsRetentionDays must be 7, or a multiple of 31/);
    expect(parseStackConfig({ 'pgkit:performanceInsightsRetentionDays': '62' }, 'prod')).toMatchObject({ performanceInsightsRetentionDays: 62 });
  });

  it('documents every key it accepts', async () => {
    const { readFileSync } = await import('node:fs');
    const docs = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const missing = CONFIG_KEYS.filter((k) => !docs.includes(`pgkit:${k}`));
    expect(missing).toEqual([]);
  });
});
