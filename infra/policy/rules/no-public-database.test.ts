import { describe, expect, it } from 'vitest';
import { TYPES } from '../resource-types.ts';
import { violations } from '../testing.ts';
import { noPublicDatabase } from './no-public-database.ts';

describe(noPublicDatabase.name, () => {
  it('passes a private RDS instance', async () => {
    expect(await violations(noPublicDatabase, TYPES.rdsInstance, { publiclyAccessible: false })).toEqual([]);
  });

  it('flags a publicly accessible instance or cluster instance', async () => {
    expect(await violations(noPublicDatabase, TYPES.rdsInstance, { publiclyAccessible: true })).toEqual([expect.stringMatching(/^publiclyAccessible is true; set it to false/)]);
    expect(await violations(noPublicDatabase, TYPES.rdsClusterInstance, { publiclyAccessible: true })).toHaveLength(1);
  });

  it('ignores other resources', async () => {
    expect(await violations(noPublicDatabase, TYPES.dockerNetwork, { publiclyAccessible: true })).toEqual([]);
  });
});
