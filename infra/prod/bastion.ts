import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { stackTags, type TagContext } from '../naming.ts';

/** Interface endpoints Session Manager needs in a VPC without internet access. */
export const SSM_ENDPOINT_SERVICES = ['ssm', 'ssmmessages', 'ec2messages'] as const;
/** Latest Amazon Linux 2023 for arm64, resolved from AWS's public parameter at deploy time. */
export const BASTION_AMI_PARAMETER = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64';

export interface SsmBastionArgs {
  tags: TagContext;
  subnetId: pulumi.Input<string>;
  /** The application security group: the bastion is a database client like any other. */
  securityGroupId: pulumi.Input<string>;
}

/**
 * An optional, private instance for operators: no public address, no SSH, no inbound rule.
 * `aws ssm start-session … AWS-StartPortForwardingSessionToRemoteHost` forwards a local
 * port through it to the database, so the ops commands run from a laptop against prod.
 */
export class SsmBastion extends pulumi.ComponentResource {
  readonly instance: aws.ec2.Instance;

  constructor(name: string, args: SsmBastionArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pgsteward:prod:SsmBastion', name, {}, opts);
    const parent = { parent: this };
    const tags = stackTags(args.tags, 'bastion');
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        description: 'pgsteward SSM port-forwarding bastion',
        assumeRolePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
        tags,
      },
      parent,
    );
    new aws.iam.RolePolicyAttachment(`${name}-ssm-core`, { role: role.name, policyArn: aws.iam.ManagedPolicy.AmazonSSMManagedInstanceCore }, parent);
    const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name, tags }, parent);
    const ami = aws.ssm.getParameterOutput({ name: BASTION_AMI_PARAMETER }, parent);
    this.instance = new aws.ec2.Instance(
      `${name}-instance`,
      {
        ami: ami.value,
        instanceType: 't4g.nano',
        subnetId: args.subnetId,
        vpcSecurityGroupIds: [args.securityGroupId],
        iamInstanceProfile: profile.name,
        associatePublicIpAddress: false,
        metadataOptions: { httpTokens: 'required', httpEndpoint: 'enabled' },
        rootBlockDevice: { encrypted: true, volumeType: 'gp3', volumeSize: 8 },
        tags: { ...tags, Name: `${name}-ssm-bastion` },
      },
      // A newer AMI is picked up by replacing the instance deliberately, not on every deploy.
      { ...parent, ignoreChanges: ['ami'] },
    );
    this.registerOutputs({ instanceId: this.instance.id });
  }
}
