import { describe, expect, it } from 'vitest';
import { TYPES } from '../resource-types.ts';
import { violations } from '../testing.ts';
import { databaseNetworkInternal } from './database-network-internal.ts';

const label = (purpose: string) => [{ label: 'io.pgsteward.purpose', value: purpose }];

describe(databaseNetworkInternal.name, () => {
  it('passes an internal Docker network and a loopback-bound forward bridge', async () => {
    expect(await violations(databaseNetworkInternal, TYPES.dockerNetwork, { internal: true, labels: label('database') })).toEqual([]);
    expect(
      await violations(databaseNetworkInternal, TYPES.dockerNetwork, { internal: false, labels: label('loopback-forward'), options: { 'com.docker.network.bridge.host_binding_ipv4': '127.0.0.1' } }),
    ).toEqual([]);
  });

  it('flags a Docker network with a route out, and a forward bridge that binds everywhere', async () => {
    expect(await violations(databaseNetworkInternal, TYPES.dockerNetwork, { internal: false, labels: label('database') })).toEqual([
      'this Docker network is not internal; set internal: true so nothing on it has a route out.',
    ]);
    expect(await violations(databaseNetworkInternal, TYPES.dockerNetwork, {})).toHaveLength(1);
    expect(await violations(databaseNetworkInternal, TYPES.dockerNetwork, { internal: false, labels: label('loopback-forward') })).toHaveLength(1);
  });

  it('keeps the database container on exactly its internal network', async () => {
    expect(await violations(databaseNetworkInternal, TYPES.dockerContainer, { labels: label('database'), networksAdvanced: [{ name: 'db-net' }] })).toEqual([]);
    expect(await violations(databaseNetworkInternal, TYPES.dockerContainer, { labels: label('database'), networksAdvanced: [{ name: 'db-net' }, { name: 'bridge' }] })).toHaveLength(1);
    expect(await violations(databaseNetworkInternal, TYPES.dockerContainer, { labels: label('database'), networkMode: 'bridge', networksAdvanced: [{ name: 'db-net' }] })).toHaveLength(1);
  });

  it('passes private AWS subnets and route tables with only the local route', async () => {
    expect(await violations(databaseNetworkInternal, TYPES.subnet, { mapPublicIpOnLaunch: false, tags: { 'pgsteward:tier': 'private' } })).toEqual([]);
    expect(await violations(databaseNetworkInternal, TYPES.routeTable, { routes: [], tags: { 'pgsteward:tier': 'private' } })).toEqual([]);
  });

  it('flags public addresses on a private subnet and a route out of a private table', async () => {
    expect(await violations(databaseNetworkInternal, TYPES.subnet, { mapPublicIpOnLaunch: true, tags: { 'pgsteward:tier': 'private' } })).toHaveLength(1);
    expect(await violations(databaseNetworkInternal, TYPES.routeTable, { routes: [{ cidrBlock: '0.0.0.0/0', gatewayId: 'igw-123' }], tags: { 'pgsteward:tier': 'private' } })).toEqual([
      'a private route table routes 0.0.0.0/0 through igw-123; private subnets keep only the local route.',
    ]);
  });

  it('requires an RDS primary to sit in a DB subnet group', async () => {
    expect(await violations(databaseNetworkInternal, TYPES.rdsInstance, { dbSubnetGroupName: 'db-subnets' })).toEqual([]);
    expect(await violations(databaseNetworkInternal, TYPES.rdsInstance, { replicateSourceDb: 'primary' })).toEqual([]);
    expect(await violations(databaseNetworkInternal, TYPES.rdsInstance, {})).toHaveLength(1);
  });
});
