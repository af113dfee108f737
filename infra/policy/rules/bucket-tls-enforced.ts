import type { StackValidationPolicy } from '@pulumi/policy';
import { asList, statements, TYPES } from '../resource-types.ts';
import { referring } from './backup-bucket-secure.ts';

/** A statement that denies every S3 action on the bucket and its objects unless the request came over TLS. Pure. */
export function deniesInsecureTransport(policy: unknown): boolean {
  return statements(policy).some((s) => {
    const actions = asList(s.Action);
    const resources = asList(s.Resource);
    const insecure = s.Condition?.Bool?.['aws:SecureTransport'];
    return (
      s.Effect === 'Deny' &&
      (s.Principal === '*' || (s.Principal as { AWS?: unknown })?.AWS === '*') &&
      actions.some((a) => a === 's3:*' || a === '*') &&
      resources.some((r) => !r.includes('/')) &&
      resources.some((r) => r.endsWith('/*')) &&
      (insecure === 'false' || insecure === false)
    );
  });
}

/** Every S3 bucket refuses requests that do not use TLS, by its bucket policy (aws:SecureTransport). */
export const bucketTlsEnforced: StackValidationPolicy = {
  name: 'pgsteward-bucket-tls-enforced',
  description: 'S3 bucket policies deny every request that does not use TLS (aws:SecureTransport false), on the bucket and on its objects.',
  enforcementLevel: 'mandatory',
  severity: 'high',
  validateStack: (args, reportViolation) => {
    for (const bucket of args.resources.filter((r) => r.type === TYPES.s3Bucket)) {
      const policies = referring(args.resources, TYPES.s3BucketPolicy, 'bucket', bucket);
      if (!policies.some((p) => deniesInsecureTransport(p.props.policy))) {
        reportViolation(`bucket ${bucket.name} has no bucket policy denying s3:* on the bucket and its objects when aws:SecureTransport is false.`, bucket.urn);
      }
    }
  },
};
