import { describe, expect, it } from 'vitest';
import { TYPES } from '../resource-types.ts';
import { stackViolations, type FakeResource } from '../testing.ts';
import { backupBucketSecure } from './backup-bucket-secure.ts';

const secure = (): FakeResource[] => [
  { type: TYPES.s3Bucket, name: 'backups', props: { bucketPrefix: 'pgsteward-prod-backups-' } },
  { type: TYPES.s3PublicAccessBlock, name: 'block', props: { bucket: 'b', blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }, refs: { bucket: ['backups'] } },
  { type: TYPES.s3Encryption, name: 'sse', props: { bucket: 'b', rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: 'arn:aws:kms:eu-west-1:1:key/k' } }] }, refs: { bucket: ['backups'] } },
  { type: TYPES.s3OwnershipControls, name: 'owner', props: { bucket: 'b', rule: { objectOwnership: 'BucketOwnerEnforced' } }, refs: { bucket: ['backups'] } },
];

const without = (name: string) => secure().filter((r) => r.name !== name);
const replace = (name: string, props: Record<string, unknown>) => secure().map((r) => (r.name === name ? { ...r, props: { ...r.props, ...props } } : r));

describe(backupBucketSecure.name, () => {
  it('passes a bucket with all four public blocks, SSE-KMS under a named key and enforced ownership', async () => {
    expect(await stackViolations(backupBucketSecure, secure())).toEqual([]);
  });

  it('flags a bucket without a public access block, or with one switch off', async () => {
    expect(await stackViolations(backupBucketSecure, without('block'))).toEqual([expect.stringMatching(/^backups: bucket backups has no public access block/)]);
    expect(await stackViolations(backupBucketSecure, replace('block', { restrictPublicBuckets: false }))).toHaveLength(1);
  });

  it('flags a bucket encrypted with SSE-S3 only, or with no default encryption', async () => {
    expect(await stackViolations(backupBucketSecure, replace('sse', { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }] }))).toEqual([expect.stringMatching(/is not encrypted by default with SSE-KMS/)]);
    expect(await stackViolations(backupBucketSecure, without('sse'))).toHaveLength(1);
  });

  it('flags ACLs left on, and a public canned ACL', async () => {
    expect(await stackViolations(backupBucketSecure, replace('owner', { rule: { objectOwnership: 'ObjectWriter' } }))).toEqual([expect.stringMatching(/does not enforce bucket-owner object ownership/)]);
    const acl: FakeResource = { type: TYPES.s3BucketAcl, name: 'acl', props: { bucket: 'b', acl: 'public-read' }, refs: { bucket: ['backups'] } };
    expect(await stackViolations(backupBucketSecure, [...secure(), acl])).toEqual([expect.stringMatching(/^acl: bucket backups gets the canned ACL "public-read"/)]);
  });

  it('judges each bucket by the settings that refer to it, not by settings of another bucket', async () => {
    const other: FakeResource = { type: TYPES.s3Bucket, name: 'other', props: {} };
    expect(await stackViolations(backupBucketSecure, [...secure(), other])).toHaveLength(3);
  });
});
