import { describe, expect, it } from 'vitest';
import { TYPES } from '../resource-types.ts';
import { violations } from '../testing.ts';
import { sslForced } from './ssl-forced.ts';

describe(sslForced.name, () => {
  it('passes a postgres17 parameter group with rds.force_ssl = 1, and an instance using it', async () => {
    expect(await violations(sslForced, TYPES.rdsParameterGroup, { family: 'postgres17', parameters: [{ name: 'rds.force_ssl', value: '1' }] })).toEqual([]);
    expect(await violations(sslForced, TYPES.rdsInstance, { engine: 'postgres', parameterGroupName: 'pgsteward-prod-pg17' })).toEqual([]);
  });

  it('flags a parameter group that does not force TLS', async () => {
    expect(await violations(sslForced, TYPES.rdsParameterGroup, { family: 'postgres17', parameters: [{ name: 'rds.force_ssl', value: '0' }] })).toEqual([
      'rds.force_ssl is not 1 in this PostgreSQL parameter group; add { name: "rds.force_ssl", value: "1" }.',
    ]);
    expect(await violations(sslForced, TYPES.rdsParameterGroup, { family: 'postgres17', parameters: [] })).toHaveLength(1);
  });

  it('flags a PostgreSQL instance on a default parameter group', async () => {
    expect(await violations(sslForced, TYPES.rdsInstance, { engine: 'postgres' })).toHaveLength(1);
    expect(await violations(sslForced, TYPES.rdsInstance, { engine: 'postgres', parameterGroupName: 'default.postgres17' })).toHaveLength(1);
  });

  it('ignores parameter groups of other engines', async () => {
    expect(await violations(sslForced, TYPES.rdsParameterGroup, { family: 'mysql8.0', parameters: [] })).toEqual([]);
  });
});
