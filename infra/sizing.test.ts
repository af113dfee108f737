import { describe, expect, it } from 'vitest';
import { connectionBudget, dockerServerSettings, pendingReboot, postgresCommand, privateSubnetCidrs, RDS_FAMILY_DEFAULTS, rdsParameters, RESERVED_CONNECTIONS } from './sizing.ts';

describe('sizing', () => {
  it('sizes max_connections from the pool budget, not the machine', () => {
    expect(connectionBudget({ max: 10, min: 2, instances: 1 }, 10, RESERVED_CONNECTIONS.rds)).toEqual({ app: 10, ops: 10, reserved: 5, total: 25 });
    expect(connectionBudget({ max: 10, min: 2, instances: 3 }, 10, RESERVED_CONNECTIONS.docker).total).toBe(43);
  });

  it('gives RDS a postgres17 parameter set that preloads pg_tle, logs slow statements and connections, and sets no family default', () => {
    const params = rdsParameters({ maxConnections: 25, slowStatementMs: 500 });
    const byName = Object.fromEntries(params.map((p) => [p.name, p]));
    // Family defaults are left alone: the provider reads back only user-set parameters, so setting one diffs forever.
    for (const name of Object.keys(RDS_FAMILY_DEFAULTS)) expect(byName[name]).toBeUndefined();
    expect(byName['max_connections']).toEqual({ name: 'max_connections', value: '25', applyMethod: 'pending-reboot' });
    // Setting shared_preload_libraries replaces RDS's default list, so it starts with what RDS preloads.
    expect(byName['shared_preload_libraries']).toEqual({ name: 'shared_preload_libraries', value: 'pg_stat_statements,pg_tle', applyMethod: 'pending-reboot' });
    expect(byName['log_min_duration_statement']?.value).toBe('500');
    expect(byName['log_connections']?.value).toBe('1');
    expect(byName['log_disconnections']?.value).toBe('1');
  });

  it('reports the static parameters the running server has not taken yet', () => {
    const params = rdsParameters({ maxConnections: 25, slowStatementMs: 500 });
    expect(pendingReboot(params, { max_connections: '25', shared_preload_libraries: 'rdsutils,pg_stat_statements,pg_tle' })).toEqual([]);
    expect(pendingReboot(params, { max_connections: '100', shared_preload_libraries: 'pg_stat_statements' })).toEqual([
      { name: 'max_connections', live: '100', wanted: '25' },
      { name: 'shared_preload_libraries', live: 'pg_stat_statements', wanted: 'pg_stat_statements,pg_tle' },
    ]);
    // Dynamic parameters never wait for a reboot, and what the server did not report is not judged.
    expect(pendingReboot(params, { log_min_duration_statement: '9999' })).toEqual([]);
    expect(pendingReboot(params, {})).toEqual([]);
  });

  it('splits the dev container memory and turns the settings into postgres -c flags', () => {
    const s = dockerServerSettings({ memoryMb: 1024, maxConnections: 23, slowStatementMs: 250 });
    expect(s).toMatchObject({ max_connections: '23', shared_buffers: '256MB', effective_cache_size: '768MB', log_min_duration_statement: '250', log_connections: 'on' });
    expect(postgresCommand({ a: '1', b: 'x' })).toEqual(['postgres', '-c', 'a=1', '-c', 'b=x']);
  });

  it('carves private subnets from the start of the VPC range', () => {
    expect(privateSubnetCidrs('10.42.0.0/16', 3)).toEqual(['10.42.0.0/20', '10.42.16.0/20', '10.42.32.0/20']);
    expect(privateSubnetCidrs('192.168.8.0/22', 2)).toEqual(['192.168.8.0/26', '192.168.8.64/26']);
    expect(() => privateSubnetCidrs('10.42.0.1/16', 2)).toThrow(expect.objectContaining({ message: 'VPC CIDR "10.42.0.1/16" has host bits set', fix: 'use 10.42.0.0/16' }));
    expect(() => privateSubnetCidrs('10.0.0.0/8', 2)).toThrow(/must be \/16 to \/24/);
    expect(() => privateSubnetCidrs('10.42.0.0/16', 17)).toThrow(/cannot carve 17 subnets/);
  });
});
