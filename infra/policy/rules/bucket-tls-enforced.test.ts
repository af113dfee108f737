import { describe, expect, it } from 'vitest';
import { backupBucketPolicy } from '../../prod/backup-bucket.ts';
import { TYPES } from '../resource-types.ts';
import { stackViolations, type FakeResource } from '../testing.ts';
import { bucketTlsEnforced, deniesInsecureTransport } from './bucket-tls-enforced.ts';

const ARN = 'arn:aws:s3:::pgsteward-prod-backups-x';
const stack = (policy: unknown): FakeResource[] => [
  { type: TYPES.s3Bucket, name: 'backups', props: {} },
  { type: TYPES.s3BucketPolicy, name: 'policy', props: { bucket: 'b', policy: JSON.stringify(policy) }, refs: { bucket: ['backups'] } },
];

describe(bucketTlsEnforced.name, () => {
  it("passes the stack's own bucket policy", async () => {
    expect(await stackViolations(bucketTlsEnforced, stack(backupBucketPolicy(ARN, 'arn:aws:kms:eu-west-1:1:key/k')))).toEqual([]);
  });

  it('flags a bucket without a policy, or whose policy denies nothing on insecure transport', async () => {
    expect(await stackViolations(bucketTlsEnforced, [{ type: TYPES.s3Bucket, name: 'backups', props: {} }])).toEqual([expect.stringMatching(/^backups: bucket backups has no bucket policy denying s3:\*/)]);
    const onlySse = { Version: '2012-10-17', Statement: backupBucketPolicy(ARN, 'k').Statement.filter((s) => s.Sid !== 'DenyInsecureTransport') };
    expect(await stackViolations(bucketTlsEnforced, stack(onlySse))).toHaveLength(1);
  });

  it('flags a TLS statement that covers only the objects, only some actions, or allows instead of denying', () => {
    const tls = (over: Record<string, unknown>) => ({ Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [ARN, `${ARN}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } }, ...over }] });
    expect(deniesInsecureTransport(tls({}))).toBe(true);
    expect(deniesInsecureTransport(tls({ Resource: `${ARN}/*` }))).toBe(false);
    expect(deniesInsecureTransport(tls({ Action: 's3:GetObject' }))).toBe(false);
    expect(deniesInsecureTransport(tls({ Effect: 'Allow' }))).toBe(false);
    expect(deniesInsecureTransport(tls({ Condition: { Bool: { 'aws:SecureTransport': 'true' } } }))).toBe(false);
    expect(deniesInsecureTransport('not json')).toBe(false);
  });
});
