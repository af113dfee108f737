import { describe, expect, it } from 'vitest';
import { DEFAULT_DEV_PORT } from '../core/config/target-settings.ts';
import { CONFIG_KEYS, DEFAULT_POSTGRES_BASE_IMAGE, parseStackConfig, parseVpcCidr, validInsightsRetention } from './config.ts';

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
    const c = parseStackConfig({ 'pgsteward:target': 'dev' }, 'anything');
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
    expect(fail({}, 'staging')).toMatch(/pgsteward:target is not set.*pulumi config set pgsteward:target dev/);
  });

  it('gives prod safe defaults: deletion protection, backups, two AZs, no replicas', () => {
    const c = parseStackConfig({ 'pgsteward:target': 'prod' }, 'prod');
    expect(c).toMatchObject({ target: 'prod', deletionProtection: true, backupRetentionDays: 7, azCount: 2, readReplicas: 0, multiAz: false, performanceInsights: true, ssmBastion: false });
  });

  it('parses typed values from Pulumi strings', () => {
    const c = parseStackConfig({ 'pgsteward:forward': 'true', 'pgsteward:forwardPort': '6543', 'pgsteward:poolMax': '20', 'pgsteward:appInstances': '3', 'pgsteward:database': 'shop' }, 'dev');
    expect(c.target === 'dev' && c.forward).toEqual({ enabled: true, port: 6543 });
    expect(c.pool).toEqual({ max: 20, min: 2, instances: 3 });
    expect(c.database).toBe('shop');
  });

  it('names the key, the problem and the fixing command for a bad value', () => {
    expect(fail({ 'pgsteward:forwardPort': 'abc', 'pgsteward:forward': 'true' })).toBe(
      'invalid stack config: pgsteward:forwardPort must be a whole number from 1024 to 65535, got "abc"; run pulumi config set pgsteward:forwardPort 15432',
    );
    expect(fail({ 'pgsteward:forward': 'yes' })).toMatch(/pgsteward:forward must be true or false, got "yes"/);
    expect(fail({ 'pgsteward:database': 'Bad-Name' })).toMatch(/pgsteward:database must be 1-48 lower-case/);
  });

  it('reports every problem at once', () => {
    const msg = fail({ 'pgsteward:memoryMb': '12', 'pgsteward:poolMin': '50' });
    expect(msg).toMatch(/^2 problems in stack config: /);
    expect(msg).toContain('pgsteward:memoryMb');
    expect(msg).toContain('pgsteward:poolMin (50) is larger than pgsteward:poolMax (10)');
  });

  it('refuses unknown keys and suggests the closest one', () => {
    expect(fail({ 'pgsteward:fowardPort': '1' })).toMatch(/unknown setting pgsteward:fowardPort; did you mean pgsteward:forwardPort\?/);
    // Other namespaces (aws:region, docker:host) belong to their providers.
    expect(parseStackConfig({ 'aws:region': 'eu-west-1', 'pgsteward:target': 'prod' }, 'x').target).toBe('prod');
  });

  it('refuses keys that belong to the other target', () => {
    expect(fail({ 'pgsteward:multiAz': 'true' }, 'dev')).toMatch(/pgsteward:multiAz applies to the prod target only/);
    expect(fail({ 'pgsteward:forward': 'true' }, 'prod')).toMatch(/pgsteward:forward applies to the dev target only/);
  });

  it('only accepts PostgreSQL 17 base images, optionally pinned by digest', () => {
    const digest = `postgres:17.6-bookworm@sha256:${'a'.repeat(64)}`;
    expect((parseStackConfig({ 'pgsteward:postgresBaseImage': digest }, 'dev') as { postgresBaseImage: string }).postgresBaseImage).toBe(digest);
    expect(fail({ 'pgsteward:postgresBaseImage': 'postgres:16' })).toMatch(/postgresBaseImage must be a postgres:17 tag/);
  });

  it('checks values against each other', () => {
    expect(fail({ 'pgsteward:shmSizeMb': '1024', 'pgsteward:memoryMb': '512' })).toMatch(/shmSizeMb \(1024\) must be below pgsteward:memoryMb \(512\)/);
    expect(fail({ 'pgsteward:forwardPort': '6000' })).toMatch(/forwardPort is set but pgsteward:forward is off/);
    expect(fail({ 'pgsteward:allocatedStorageGb': '200', 'pgsteward:maxAllocatedStorageGb': '100' }, 'prod')).toMatch(/maxAllocatedStorageGb \(100\) is below/);
    expect(fail({ 'pgsteward:masterUsername': 'postgres' }, 'prod')).toMatch(/masterUsername "postgres" is reserved/);
    expect(fail({ 'pgsteward:masterUsername': 'app_owner' }, 'prod')).toMatch(/collides with the database's roles/);
  });

  it('keeps RDS limits: retention 1-35 days, Performance Insights retention 7, 31 × 1-23 months or 731', () => {
    expect(fail({ 'pgsteward:backupRetentionDays': '0' }, 'prod')).toMatch(/backupRetentionDays must be a whole number from 1 to 35/);
    expect(fail({ 'pgsteward:performanceInsightsRetentionDays': '30' }, 'prod')).toMatch(/performanceInsightsRetentionDays must be 7, 31 × months \(31, 62, … 713\) or 731/);
    expect(parseStackConfig({ 'pgsteward:performanceInsightsRetentionDays': '62' }, 'prod')).toMatchObject({ performanceInsightsRetentionDays: 62 });
    const valid = Array.from({ length: 800 }, (_, n) => n).filter(validInsightsRetention);
    expect(valid).toEqual([7, ...Array.from({ length: 23 }, (_, m) => 31 * (m + 1)), 731]);
    // 744 (24 × 31) was accepted before; RDS refuses it.
    expect(fail({ 'pgsteward:performanceInsightsRetentionDays': '744' }, 'prod')).toMatch(/performanceInsightsRetentionDays/);
    expect(parseStackConfig({ 'pgsteward:performanceInsightsRetentionDays': '731' }, 'prod')).toMatchObject({ performanceInsightsRetentionDays: 731 });
  });

  it('accepts only RFC 1918 VPC ranges of /16 to /22 without host bits', () => {
    for (const ok of ['10.42.0.0/16', '10.0.0.0/22', '172.16.0.0/16', '172.31.252.0/22', '192.168.0.0/16', '192.168.4.0/22']) expect(parseVpcCidr(ok)).toBe(ok);
    // Public space that the old pattern let through, ranges too small for the endpoint, Lambda and RDS interfaces, host bits, a VPC larger than AWS allows.
    for (const bad of ['172.32.0.0/16', '172.15.0.0/16', '192.169.0.0/16', '11.0.0.0/16', '10.42.0.0/23', '10.42.0.0/24', '10.42.0.1/16', '10.0.0.0/8', '10.300.0.0/16']) {
      expect(parseVpcCidr(bad)).toBeUndefined();
    }
    expect(fail({ 'pgsteward:vpcCidr': '172.32.0.0/16' }, 'prod')).toMatch(/pgsteward:vpcCidr must be an RFC 1918 IPv4 range from \/16 to \/22/);
  });

  it('refuses read replicas while RDS manages the master password, and accepts them with a stack-held one', () => {
    expect(fail({ 'pgsteward:readReplicas': '1' }, 'prod')).toMatch(/readReplicas \(1\) needs a stack-held master password.*pulumi config set pgsteward:masterPasswordSource stack/);
    expect(parseStackConfig({ 'pgsteward:readReplicas': '2', 'pgsteward:masterPasswordSource': 'stack' }, 'prod')).toMatchObject({ readReplicas: 2, masterPasswordSource: 'stack' });
    expect(parseStackConfig({}, 'prod')).toMatchObject({ readReplicas: 0, masterPasswordSource: 'rds' });
  });

  it('turns deletion protection off only through an explicit decommission, which refuses to be contradicted', () => {
    expect(parseStackConfig({}, 'prod')).toMatchObject({ decommission: false, deletionProtection: true });
    expect(parseStackConfig({ 'pgsteward:decommission': 'true' }, 'prod')).toMatchObject({ decommission: true, deletionProtection: false });
    expect(fail({ 'pgsteward:decommission': 'true', 'pgsteward:deletionProtection': 'true' }, 'prod')).toMatch(/decommission is true but pgsteward:deletionProtection is also true/);
    // Without decommission, switching protection off is still possible, and the policy pack reports it.
    expect(parseStackConfig({ 'pgsteward:deletionProtection': 'false' }, 'prod')).toMatchObject({ decommission: false, deletionProtection: false });
  });

  it('gives the backup jobs and alarms their defaults and limits', () => {
    expect(parseStackConfig({}, 'prod')).toMatchObject({
      backupRpoHours: 26,
      backupNoncurrentDays: 30,
      backupLockDays: 0,
      alarmEmail: undefined,
      applyImmediately: false,
      caCertIdentifier: 'rds-ca-rsa2048-g1',
      runnerArchitecture: 'x86_64',
      jobStorageGb: 21,
    });
    expect(fail({ 'pgsteward:backupRpoHours': '169' }, 'prod')).toMatch(/backupRpoHours must be a whole number from 1 to 168/);
    expect(fail({ 'pgsteward:alarmEmail': 'not-an-address' }, 'prod')).toMatch(/alarmEmail must be an e-mail address/);
    expect(fail({ 'pgsteward:caCertIdentifier': 'rds-ca-2019' }, 'prod')).toMatch(/caCertIdentifier must be rds-ca-rsa2048-g1 or rds-ca-rsa4096-g1 or rds-ca-ecc384-g1/);
    expect(parseStackConfig({ 'pgsteward:alarmEmail': 'ops@example.com' }, 'prod')).toMatchObject({ alarmEmail: 'ops@example.com' });
  });

  it('documents every key it accepts', async () => {
    const { readFileSync } = await import('node:fs');
    const docs = readFileSync(new URL('../docs/deploying.md', import.meta.url), 'utf8');
    const missing = CONFIG_KEYS.filter((k) => !docs.includes(`pgsteward:${k}`));
    expect(missing).toEqual([]);
  });
});
