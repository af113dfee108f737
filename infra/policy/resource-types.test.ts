import * as aws from '@pulumi/aws';
import * as docker from '@pulumi/docker';
import { describe, expect, it } from 'vitest';
import { POLICIES } from './policies.ts';
import { isLoopbackAddress, TYPES } from './resource-types.ts';

const tokenOf = (cls: unknown) => (cls as { __pulumiType: string }).__pulumiType;

describe('policy resource types', () => {
  it('match the provider SDKs the stacks use', () => {
    expect(TYPES).toEqual({
      rdsInstance: tokenOf(aws.rds.Instance),
      rdsCluster: tokenOf(aws.rds.Cluster),
      rdsClusterInstance: tokenOf(aws.rds.ClusterInstance),
      rdsParameterGroup: tokenOf(aws.rds.ParameterGroup),
      subnet: tokenOf(aws.ec2.Subnet),
      routeTable: tokenOf(aws.ec2.RouteTable),
      dockerContainer: tokenOf(docker.Container),
      dockerNetwork: tokenOf(docker.Network),
      s3Bucket: tokenOf(aws.s3.Bucket),
      s3PublicAccessBlock: tokenOf(aws.s3.BucketPublicAccessBlock),
      s3Encryption: tokenOf(aws.s3.BucketServerSideEncryptionConfiguration),
      s3OwnershipControls: tokenOf(aws.s3.BucketOwnershipControls),
      s3BucketPolicy: tokenOf(aws.s3.BucketPolicy),
      s3BucketAcl: tokenOf(aws.s3.BucketAcl),
      iamRole: tokenOf(aws.iam.Role),
      iamRolePolicy: tokenOf(aws.iam.RolePolicy),
      iamPolicy: tokenOf(aws.iam.Policy),
      iamRolePolicyAttachment: tokenOf(aws.iam.RolePolicyAttachment),
      schedule: tokenOf(aws.scheduler.Schedule),
      metricAlarm: tokenOf(aws.cloudwatch.MetricAlarm),
    });
  });

  it('recognise loopback addresses only', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1'].every(isLoopbackAddress)).toBe(true);
    expect(['0.0.0.0', '', undefined, '192.168.1.10', '::', '128.0.0.1'].some(isLoopbackAddress)).toBe(false);
  });

  it('give every policy a unique name and a mandatory enforcement level', () => {
    expect(new Set(POLICIES.map((p) => p.name)).size).toBe(POLICIES.length);
    expect(POLICIES.map((p) => p.enforcementLevel)).toEqual(POLICIES.map(() => 'mandatory'));
    expect(POLICIES).toHaveLength(10);
  });
});
