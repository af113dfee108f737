/**
 * Resource type tokens the policies inspect. Strings, not SDK classes, so the policy pack
 * loads without the provider SDKs; resource-types.test.ts checks each against its SDK.
 */
export const TYPES = {
  rdsInstance: 'aws:rds/instance:Instance',
  rdsCluster: 'aws:rds/cluster:Cluster',
  rdsClusterInstance: 'aws:rds/clusterInstance:ClusterInstance',
  rdsParameterGroup: 'aws:rds/parameterGroup:ParameterGroup',
  subnet: 'aws:ec2/subnet:Subnet',
  routeTable: 'aws:ec2/routeTable:RouteTable',
  dockerContainer: 'docker:index/container:Container',
  dockerNetwork: 'docker:index/network:Network',
  s3Bucket: 'aws:s3/bucket:Bucket',
  s3PublicAccessBlock: 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock',
  s3Encryption: 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
  s3OwnershipControls: 'aws:s3/bucketOwnershipControls:BucketOwnershipControls',
  s3BucketPolicy: 'aws:s3/bucketPolicy:BucketPolicy',
  s3BucketAcl: 'aws:s3/bucketAcl:BucketAcl',
  iamRole: 'aws:iam/role:Role',
  iamRolePolicy: 'aws:iam/rolePolicy:RolePolicy',
  iamPolicy: 'aws:iam/policy:Policy',
  iamRolePolicyAttachment: 'aws:iam/rolePolicyAttachment:RolePolicyAttachment',
  schedule: 'aws:scheduler/schedule:Schedule',
  metricAlarm: 'aws:cloudwatch/metricAlarm:MetricAlarm',
} as const;

/** Tags and labels the stacks set (infra/naming.ts) and the policies key on. */
export const MARKERS = {
  targetTag: 'pgsteward:target',
  tierTag: 'pgsteward:tier',
  decommissionTag: 'pgsteward:decommission',
  scheduleTag: 'pgsteward:schedule',
  purposeLabel: 'io.pgsteward.purpose',
  loopbackForward: 'loopback-forward',
  database: 'database',
} as const;

export function dockerLabel(props: Record<string, any>, key: string): string | undefined {
  const labels = (props.labels ?? []) as Array<{ label?: string; value?: string }>;
  return labels.find((l) => l.label === key)?.value;
}

export function isLoopbackAddress(ip: string | undefined): boolean {
  return !!ip && (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip) || ip === '::1' || ip === '[::1]');
}

/** An IAM policy document from a resource's `policy` input (JSON text or an object); undefined if unreadable. */
export function policyDocument(policy: unknown): { Statement?: unknown } | undefined {
  if (policy && typeof policy === 'object') return policy as { Statement?: unknown };
  if (typeof policy !== 'string') return undefined;
  try {
    return JSON.parse(policy) as { Statement?: unknown };
  } catch {
    return undefined;
  }
}

export interface PolicyStatement {
  Sid?: string;
  Effect?: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export function statements(policy: unknown): PolicyStatement[] {
  const doc = policyDocument(policy);
  const s = doc?.Statement;
  return Array.isArray(s) ? (s as PolicyStatement[]) : s && typeof s === 'object' ? [s as PolicyStatement] : [];
}

export const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
