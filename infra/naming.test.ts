import { describe, expect, it } from 'vitest';
import { devNames, dockerLabels, LABEL, prodNames, rdsIdentifier, stackPrefix, stackTags, TAG } from './naming.ts';

const ctx = { project: 'pgkit', stack: 'dev', target: 'dev' as const, database: 'app' };

describe('naming', () => {
  it('builds a lower-case prefix safe for every platform', () => {
    expect(stackPrefix('pgkit', 'dev')).toBe('pgkit-dev');
    expect(stackPrefix('PgKit', 'Feature_Branch.42')).toBe('pgkit-feature-branch-42');
    expect(stackPrefix('pgkit', 'a'.repeat(80)).length).toBeLessThanOrEqual(32);
    expect(stackPrefix('pgkit', 'x-')).toBe('pgkit-x');
    expect(() => stackPrefix('9', '')).toThrow(/no usable name prefix/);
  });

  it('keeps RDS identifiers inside the RDS rules', () => {
    expect(rdsIdentifier('pgkit-prod', 'db')).toBe('pgkit-prod-db');
    const long = rdsIdentifier('p'.repeat(70), 'db');
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[a-z][a-z0-9-]*[a-z0-9]$/);
    expect(rdsIdentifier('pgkit--prod', 'db_1')).toBe('pgkit-prod-db-1');
  });

  it('derives every dev and prod name from the prefix', () => {
    expect(devNames('pgkit-dev')).toMatchObject({ network: 'pgkit-dev-db-net', server: 'pgkit-dev-postgres', volume: 'pgkit-dev-pgdata' });
    const p = prodNames('pgkit-prod');
    expect(p.dbInstance).toBe('pgkit-prod-db');
    expect(p.replica(0)).toBe('pgkit-prod-db-replica-1');
    expect(p.roleSecretPrefix('app_app')).toBe('pgkit-prod/app_app-');
    expect(p.rdsLogGroup(p.dbInstance)).toBe('/aws/rds/instance/pgkit-prod-db/postgresql');
    expect(p.lambdaLogGroup).toBe('/aws/lambda/pgkit-prod-db-bootstrap');
  });

  it('tags and labels say which stack, target, database and component a thing belongs to', () => {
    expect(stackTags({ ...ctx, target: 'prod', stack: 'prod' }, 'database')).toEqual({
      [TAG.project]: 'pgkit',
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
