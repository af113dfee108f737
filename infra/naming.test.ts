import { describe, expect, it } from 'vitest';
import { devNames, dockerLabels, LABEL, prodNames, rdsIdentifier, stackPrefix, stackTags, TAG } from './naming.ts';

const ctx = { project: 'pgsteward', stack: 'dev', target: 'dev' as const, database: 'app' };

describe('naming', () => {
  it('builds a lower-case prefix safe for every platform', () => {
    expect(stackPrefix('pgsteward', 'dev')).toBe('pgsteward-dev');
    expect(stackPrefix('PgSteward', 'Feature_Branch.42')).toBe('pgsteward-feature-branch-42');
    expect(stackPrefix('pgsteward', 'a'.repeat(80)).length).toBeLessThanOrEqual(32);
    expect(stackPrefix('pgsteward', 'x-')).toBe('pgsteward-x');
    expect(() => stackPrefix('9', '')).toThrow(/no usable name prefix/);
  });

  it('keeps RDS identifiers inside the RDS rules', () => {
    expect(rdsIdentifier('pgsteward-prod', 'db')).toBe('pgsteward-prod-db');
    const long = rdsIdentifier('p'.repeat(70), 'db');
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[a-z][a-z0-9-]*[a-z0-9]$/);
    expect(rdsIdentifier('pgsteward--prod', 'db_1')).toBe('pgsteward-prod-db-1');
  });

  it('derives every dev and prod name from the prefix', () => {
    expect(devNames('pgsteward-dev')).toMatchObject({ network: 'pgsteward-dev-db-net', server: 'pgsteward-dev-postgres', volume: 'pgsteward-dev-pgdata' });
    const p = prodNames('pgsteward-prod');
    expect(p.dbInstance).toBe('pgsteward-prod-db');
    expect(p.replica(0)).toBe('pgsteward-prod-db-replica-1');
    expect(p.roleSecretPrefix('app_app')).toBe('pgsteward-prod/app_app-');
    expect(p.rdsLogGroup(p.dbInstance)).toBe('/aws/rds/instance/pgsteward-prod-db/postgresql');
    expect(p.lambdaLogGroup).toBe('/aws/lambda/pgsteward-prod-db-bootstrap');
  });

  it('tags and labels say which stack, target, database and component a thing belongs to', () => {
    expect(stackTags({ ...ctx, target: 'prod', stack: 'prod' }, 'database')).toEqual({
      [TAG.project]: 'pgsteward',
      [TAG.stack]: 'prod',
      [TAG.target]: 'prod',
      [TAG.database]: 'app',
      [TAG.component]: 'database',
      'managed-by': 'pulumi',
    });
    const labels = dockerLabels(ctx, 'network', 'database', { [LABEL.setupKey]: 'k' });
    expect(labels).toContainEqual({ label: LABEL.purpose, value: 'database' });
    expect(labels).toContainEqual({ label: LABEL.setupKey, value: 'k' });
    expect(new Set(labels.map((l) => l.label)).size).toBe(labels.length);
  });
});
