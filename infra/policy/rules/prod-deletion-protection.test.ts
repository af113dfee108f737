import { describe, expect, it } from 'vitest';
import { TYPES } from '../resource-types.ts';
import { violations } from '../testing.ts';
import { prodDeletionProtection } from './prod-deletion-protection.ts';

const prodTags = { 'pgsteward:target': 'prod' };

describe(prodDeletionProtection.name, () => {
  it('passes a protected primary with a final snapshot, and a protected replica', async () => {
    expect(await violations(prodDeletionProtection, TYPES.rdsInstance, { tags: prodTags, deletionProtection: true, skipFinalSnapshot: false, finalSnapshotIdentifier: 'db-final' })).toEqual([]);
    expect(await violations(prodDeletionProtection, TYPES.rdsInstance, { tags: prodTags, deletionProtection: true, replicateSourceDb: 'db', skipFinalSnapshot: true })).toEqual([]);
  });

  it('flags a prod instance without deletion protection or without a final snapshot', async () => {
    expect(await violations(prodDeletionProtection, TYPES.rdsInstance, { tags: prodTags, deletionProtection: false, finalSnapshotIdentifier: 'x' })).toEqual([
      'deletionProtection is not true; run pulumi config set pgsteward:deletionProtection true (or, to tear prod down on purpose, pulumi config set pgsteward:decommission true).',
    ]);
    expect(await violations(prodDeletionProtection, TYPES.rdsInstance, { tags: prodTags, deletionProtection: true, skipFinalSnapshot: true })).toHaveLength(1);
  });

  it('honours an explicit decommission: protection may be off, the final snapshot still may not', async () => {
    const decommissioned = { ...prodTags, 'pgsteward:decommission': 'true' };
    expect(await violations(prodDeletionProtection, TYPES.rdsInstance, { tags: decommissioned, deletionProtection: false, finalSnapshotIdentifier: 'db-final-1a2b3c4d' })).toEqual([]);
    expect(await violations(prodDeletionProtection, TYPES.rdsInstance, { tags: decommissioned, deletionProtection: false, skipFinalSnapshot: true })).toEqual([
      'deleting this instance would leave no final snapshot; set skipFinalSnapshot: false and a finalSnapshotIdentifier.',
    ]);
    // Any other value of the tag is not a decision.
    expect(await violations(prodDeletionProtection, TYPES.rdsInstance, { tags: { ...prodTags, 'pgsteward:decommission': 'yes' }, deletionProtection: false, finalSnapshotIdentifier: 'x' })).toHaveLength(1);
  });

  it('treats an untagged instance as prod, and leaves other targets alone', async () => {
    expect(await violations(prodDeletionProtection, TYPES.rdsInstance, {})).toHaveLength(2);
    expect(await violations(prodDeletionProtection, TYPES.rdsInstance, { tags: { 'pgsteward:target': 'dev' } })).toEqual([]);
  });
});
