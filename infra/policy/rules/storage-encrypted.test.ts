import { describe, expect, it } from 'vitest';
import { TYPES } from '../resource-types.ts';
import { violations } from '../testing.ts';
import { storageEncrypted } from './storage-encrypted.ts';

describe(storageEncrypted.name, () => {
  it('passes encrypted storage, and a replica, which inherits its source encryption', async () => {
    expect(await violations(storageEncrypted, TYPES.rdsInstance, { storageEncrypted: true })).toEqual([]);
    expect(await violations(storageEncrypted, TYPES.rdsCluster, { storageEncrypted: true })).toEqual([]);
    expect(await violations(storageEncrypted, TYPES.rdsInstance, { replicateSourceDb: 'pgsteward-prod-db' })).toEqual([]);
  });

  it('flags storage that is unencrypted or left to the default', async () => {
    expect(await violations(storageEncrypted, TYPES.rdsInstance, { storageEncrypted: false })).toEqual([expect.stringMatching(/^storageEncrypted is not true/)]);
    expect(await violations(storageEncrypted, TYPES.rdsInstance, {})).toHaveLength(1);
  });
});
