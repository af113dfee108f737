import type { PolicyResource, StackValidationPolicy } from '@pulumi/policy';
import { TYPES } from '../resource-types.ts';

/** The resources of `type` whose `prop` input refers to `target` (by Pulumi's property dependencies). */
export function referring(resources: readonly PolicyResource[], type: string, prop: string, target: PolicyResource): PolicyResource[] {
  return resources.filter((r) => r.type === type && (r.propertyDependencies?.[prop] ?? []).some((d) => d.urn === target.urn));
}

const PUBLIC_ACLS = ['public-read', 'public-read-write', 'authenticated-read'];

/**
 * Every S3 bucket the stacks create (today: the backup bucket) is encrypted with a KMS key and
 * closed to the public: a public access block with all four switches on, SSE-KMS by default
 * with a named key, object ownership enforced (so no ACL can open an object), and no ACL.
 */
export const backupBucketSecure: StackValidationPolicy = {
  name: 'pgsteward-backup-bucket-secure',
  description: 'S3 buckets are encrypted with a KMS key and not public: all four public access blocks on, SSE-KMS by default, owner-enforced objects, no ACLs.',
  enforcementLevel: 'mandatory',
  severity: 'critical',
  validateStack: (args, reportViolation) => {
    const all = args.resources;
    for (const bucket of all.filter((r) => r.type === TYPES.s3Bucket)) {
      const where = bucket.urn;
      const blocks = referring(all, TYPES.s3PublicAccessBlock, 'bucket', bucket);
      const closed = blocks.some((b) => ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets'].every((k) => b.props[k] === true));
      if (!closed) reportViolation(`bucket ${bucket.name} has no public access block with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true.`, where);

      const sse = referring(all, TYPES.s3Encryption, 'bucket', bucket);
      const kms = sse.some((c) =>
        ((c.props.rules ?? []) as Array<{ applyServerSideEncryptionByDefault?: { sseAlgorithm?: string; kmsMasterKeyId?: string } }>).some(
          (rule) => /^aws:kms/.test(rule.applyServerSideEncryptionByDefault?.sseAlgorithm ?? '') && !!(rule.applyServerSideEncryptionByDefault?.kmsMasterKeyId || c.propertyDependencies?.rules?.length),
        ),
      );
      if (!kms) reportViolation(`bucket ${bucket.name} is not encrypted by default with SSE-KMS under a named key; add a BucketServerSideEncryptionConfiguration with sseAlgorithm "aws:kms" and kmsMasterKeyId.`, where);

      const owner = referring(all, TYPES.s3OwnershipControls, 'bucket', bucket).some((o) => o.props.rule?.objectOwnership === 'BucketOwnerEnforced');
      if (!owner) reportViolation(`bucket ${bucket.name} does not enforce bucket-owner object ownership; add BucketOwnershipControls with objectOwnership "BucketOwnerEnforced" (ACLs off).`, where);

      if (PUBLIC_ACLS.includes(bucket.props.acl)) reportViolation(`bucket ${bucket.name} has the canned ACL "${bucket.props.acl}"; remove it.`, where);
      for (const acl of referring(all, TYPES.s3BucketAcl, 'bucket', bucket)) {
        if (PUBLIC_ACLS.includes(acl.props.acl)) reportViolation(`bucket ${bucket.name} gets the canned ACL "${acl.props.acl}"; remove the BucketAcl.`, acl.urn);
      }
    }
  },
};
