import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { stackTags, type ProdNames, type TagContext } from '../naming.ts';

export interface BackupBucketArgs {
  names: ProdNames;
  tags: TagContext;
  /** Superseded and deleted object versions are removed after this many days. */
  noncurrentDays: number;
  /** Governance-mode Object Lock retention for every new object version, in days; 0 = none. */
  lockDays: number;
}

/** The bucket policy: TLS only, and every object written with SSE-KMS under the stack's key. Pure. */
export function backupBucketPolicy(bucketArn: string, keyArn: string) {
  const objects = `${bucketArn}/*`;
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [bucketArn, objects],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
      // The SSE conditions use ...IfExists: a multipart upload's UploadPart requests (also
      // s3:PutObject) carry no SSE header, so a plain StringNotEquals/Null deny refuses every
      // part (boto/botocore#471) and with it every dump above the 16 MiB part size. The header
      // is checked where it is sent, and default encryption covers requests without one.
      {
        Sid: 'DenyOtherEncryption',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:PutObject',
        Resource: objects,
        Condition: { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
      },
      {
        Sid: 'DenyOtherKmsKey',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:PutObject',
        Resource: objects,
        Condition: { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption-aws-kms-key-id': keyArn } },
      },
      // `aws:kms` without a key id means S3's AWS-managed key, not ours.
      {
        Sid: 'DenyKmsWithoutStackKey',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:PutObject',
        Resource: objects,
        Condition: { StringEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' }, Null: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'true' } },
      },
    ],
  };
}

/**
 * Where prod backups live: an S3 bucket encrypted with a KMS key the stack creates, closed to
 * the public at the bucket level, owner-enforced (no ACLs), versioned, TLS-only, refusing
 * objects not encrypted with that key, and cleaning up superseded versions after a while.
 *
 * Optional Object Lock (governance mode) makes history survive a compromised job: the jobs'
 * role may delete objects, which on a versioned bucket only adds a delete marker; it may not
 * delete versions nor bypass governance retention. GFS retention keeps working on top: its
 * deletions hide a backup at once (the listing no longer shows it, so the GFS view is exact),
 * and the version itself is destroyed by the lifecycle rule once it is noncurrent for
 * `noncurrentDays` and its lock has expired, whichever is later. So retention decides what is
 * kept; the lock only decides how soon a deleted backup can really be gone.
 *
 * The bucket and key outlive the stack (retainOnDelete): backups are what you want after a
 * teardown, and they cannot be read without the key.
 */
export class BackupBucket extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  readonly key: aws.kms.Key;
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  readonly keyArn: pulumi.Output<string>;

  constructor(name: string, args: BackupBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pgsteward:prod:BackupBucket', name, {}, opts);
    const parent = { parent: this };
    const keep = { ...parent, retainOnDelete: true };
    const tags = stackTags(args.tags, 'backups');

    this.key = new aws.kms.Key(
      `${name}-key`,
      { description: `pgsteward backups of ${args.tags.database} (${args.tags.stack})`, enableKeyRotation: true, deletionWindowInDays: 30, tags },
      keep,
    );
    new aws.kms.Alias(`${name}-key-alias`, { name: args.names.backupKeyAlias, targetKeyId: this.key.keyId }, parent);

    this.bucket = new aws.s3.Bucket(
      `${name}-bucket`,
      {
        bucketPrefix: args.names.backupBucketPrefix,
        // Always on (it can only be enabled at creation without a support case): a retention
        // can then be added or changed later without replacing the bucket.
        objectLockEnabled: true,
        forceDestroy: false,
        tags,
      },
      keep,
    );
    const bucket = this.bucket.id;

    const publicBlock = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      { bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      parent,
    );
    new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket, rule: { objectOwnership: 'BucketOwnerEnforced' } }, parent);
    const versioning = new aws.s3.BucketVersioning(`${name}-versioning`, { bucket, versioningConfiguration: { status: 'Enabled' } }, parent);
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      { bucket, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: this.key.arn }, bucketKeyEnabled: true }] },
      parent,
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      {
        bucket,
        rules: [
          {
            id: 'expire-noncurrent-versions',
            status: 'Enabled',
            filter: {},
            noncurrentVersionExpiration: { noncurrentDays: args.noncurrentDays },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
          },
          { id: 'remove-expired-delete-markers', status: 'Enabled', filter: {}, expiration: { expiredObjectDeleteMarker: true } },
        ],
      },
      { ...parent, dependsOn: [versioning] },
    );
    if (args.lockDays > 0) {
      new aws.s3.BucketObjectLockConfiguration(
        `${name}-object-lock`,
        { bucket, objectLockEnabled: 'Enabled', rule: { defaultRetention: { mode: 'GOVERNANCE', days: args.lockDays } } },
        { ...parent, dependsOn: [versioning] },
      );
    }
    new aws.s3.BucketPolicy(
      `${name}-policy`,
      { bucket, policy: pulumi.all([this.bucket.arn, this.key.arn]).apply(([b, k]) => JSON.stringify(backupBucketPolicy(b, k))) },
      // After the public access block: a policy put first could briefly be judged public.
      { ...parent, dependsOn: [publicBlock] },
    );

    this.bucketName = this.bucket.bucket;
    this.bucketArn = this.bucket.arn;
    this.keyArn = this.key.arn;
    this.registerOutputs({ bucket: this.bucketName, keyArn: this.keyArn });
  }
}
