import { describe, expect, it } from 'vitest';
import { TYPES } from '../resource-types.ts';
import { violations } from '../testing.ts';
import { dockerPortsLoopbackOnly } from './docker-ports-loopback-only.ts';

describe(dockerPortsLoopbackOnly.name, () => {
  it('passes no published port, and ports bound to loopback', async () => {
    expect(await violations(dockerPortsLoopbackOnly, TYPES.dockerContainer, { ports: [] })).toEqual([]);
    expect(await violations(dockerPortsLoopbackOnly, TYPES.dockerContainer, { ports: [{ internal: 5432, external: 15432, ip: '127.0.0.1' }] })).toEqual([]);
  });

  it('flags a port on every interface or on a real address', async () => {
    expect(await violations(dockerPortsLoopbackOnly, TYPES.dockerContainer, { ports: [{ internal: 5432, external: 5432 }] })).toEqual([
      'port 5432 -> 5432 is published on every interface (no ip given); set ip: "127.0.0.1".',
    ]);
    expect(await violations(dockerPortsLoopbackOnly, TYPES.dockerContainer, { ports: [{ internal: 5432, external: 5432, ip: '0.0.0.0' }] })).toHaveLength(1);
    expect(await violations(dockerPortsLoopbackOnly, TYPES.dockerContainer, { ports: [{ internal: 5432, ip: '192.168.1.20' }] })).toHaveLength(1);
  });

  it('flags publishing every port and host networking', async () => {
    expect(await violations(dockerPortsLoopbackOnly, TYPES.dockerContainer, { publishAllPorts: true })).toHaveLength(1);
    expect(await violations(dockerPortsLoopbackOnly, TYPES.dockerContainer, { networkMode: 'host' })).toHaveLength(1);
  });
});
