import { describe, expect, it } from 'vitest';
import { TYPES } from '../resource-types.ts';
import { violations } from '../testing.ts';
import { sslForced } from './ssl-forced.ts';

describe(sslForced.name, () => {
  it('passes a postgres15+ group that leaves rds.force_ssl at its default (1), or sets it to 1', async () => {
    expect(await violations(sslForced, TYPES.rdsParameterGroup, { family: 'postgres17', parameters: [{ name: 'max_connections', value: '25' }] })).toEqual([]);
    expect(await violations(sslForced, TYPES.rdsParameterGroup, { family: 'postgres15', parameters: [] })).toEqual([]);
    expect(await violations(sslForced, TYPES.rdsParameterGroup, { family: 'postgres17', parameters: [{ name: 'rds.force_ssl', value: '1' }] })).toEqual([]);
  });

  it('flags an explicit 0, and an absent setting before postgres15, where the default is 0', async () => {
    expect(await violations(sslForced, TYPES.rdsParameterGroup, { family: 'postgres17', parameters: [{ name: 'rds.force_ssl', value: '0' }] })).toEqual([
      'rds.force_ssl is set to "0" in this PostgreSQL parameter group; remove it (postgres15+ default 1) or set it to "1".',
    ]);
    expect(await violations(sslForced, TYPES.rdsParameterGroup, { family: 'postgres14', parameters: [] })).toEqual(['rds.force_ssl defaults to 0 in the postgres14 family; add { name: "rds.force_ssl", value: "1" }.']);
    expect(await violations(sslForced, TYPES.rdsParameterGroup, { family: 'postgres14', parameters: [{ name: 'rds.force_ssl', value: '1' }] })).toEqual([]);
  });

  it('flags a PostgreSQL instance or replica on a default parameter group; a replica may inherit its source group', async () => {
    expect(await violations(sslForced, TYPES.rdsInstance, { engine: 'postgres', parameterGroupName: 'pgsteward-prod-pg17' })).toEqual([]);
    expect(await violations(sslForced, TYPES.rdsInstance, { engine: 'postgres' })).toHaveLength(1);
    expect(await violations(sslForced, TYPES.rdsInstance, { engine: 'postgres', parameterGroupName: 'default.postgres17' })).toHaveLength(1);
    expect(await violations(sslForced, TYPES.rdsInstance, { replicateSourceDb: 'db' })).toEqual([]);
    expect(await violations(sslForced, TYPES.rdsInstance, { replicateSourceDb: 'db', parameterGroupName: 'default.postgres17' })).toHaveLength(1);
  });

  it('ignores parameter groups of other engines', async () => {
    expect(await violations(sslForced, TYPES.rdsParameterGroup, { family: 'mysql8.0', parameters: [] })).toEqual([]);
  });
});
