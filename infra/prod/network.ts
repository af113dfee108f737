import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { stackTags, TAG, type ProdNames, type TagContext } from '../naming.ts';
import { privateSubnetCidrs } from '../sizing.ts';

export const POSTGRES_PORT = 5432;
const HTTPS = 443;

export interface ProdNetworkArgs {
  names: ProdNames;
  tags: TagContext;
  vpcCidr: string;
  azCount: number;
  /** Interface endpoints (service suffixes) the private subnets need, e.g. `secretsmanager`. */
  endpointServices: string[];
  /**
   * The S3 gateway endpoint's policy buckets: read-write on the backup bucket, and read on
   * ECR's layer bucket (image layers are served from S3). Undefined = no S3 endpoint.
   */
  s3?: { backupBucketArn: pulumi.Input<string> };
}

/** ECR serves image layers from this bucket; the S3 endpoint policy must let pulls through (ECR User Guide, "Amazon ECR interface VPC endpoints"). */
export const ecrLayerBucket = (region: string) => `prod-${region}-starport-layer-bucket`;

/** What the backup jobs do in their bucket, and nothing else, through the endpoint. */
export const BACKUP_BUCKET_ENDPOINT_ACTIONS = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:ListBucket', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'] as const;

/**
 * A VPC whose subnets are private in every sense: no internet gateway, no NAT, a route
 * table with nothing but the VPC's local route, no public addresses on launch. AWS APIs the
 * bootstrap needs are reached through interface endpoints. The database security group
 * admits 5432 from the application security group and from nothing else.
 */
export class ProdNetwork extends pulumi.ComponentResource {
  readonly vpc: aws.ec2.Vpc;
  readonly subnets: aws.ec2.Subnet[];
  readonly routeTable: aws.ec2.RouteTable;
  readonly subnetGroup: aws.rds.SubnetGroup;
  readonly databaseSecurityGroup: aws.ec2.SecurityGroup;
  readonly appSecurityGroup: aws.ec2.SecurityGroup;
  readonly endpointSecurityGroup: aws.ec2.SecurityGroup;
  readonly endpoints: aws.ec2.VpcEndpoint[];
  readonly s3Endpoint: aws.ec2.VpcEndpoint | undefined;
  readonly subnetIds: pulumi.Output<string[]>;

  constructor(name: string, args: ProdNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pgsteward:prod:Network', name, {}, opts);
    const parent = { parent: this };
    const tags = (component: string, extra: Record<string, string> = {}) => stackTags(args.tags, component, extra);

    this.vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      // DNS support and hostnames are what make the interface endpoints' private DNS names resolve.
      { cidrBlock: args.vpcCidr, enableDnsSupport: true, enableDnsHostnames: true, tags: tags('network', { Name: `${name}-vpc` }) },
      parent,
    );

    // The default security group admits everything from itself; take it over with no rules at all.
    new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, { vpcId: this.vpc.id, tags: tags('network', { Name: `${name}-default-closed` }) }, parent);

    // Regular zones only: Local and Wavelength Zones are opt-in, sort before the regular
    // zones in the list (`us-west-2-lax-1a` < `us-west-2a`) and lack RDS Multi-AZ and most endpoints.
    const zones = aws.getAvailabilityZonesOutput({ state: 'available', filters: [{ name: 'opt-in-status', values: ['opt-in-not-required'] }] }, parent);
    const cidrs = privateSubnetCidrs(args.vpcCidr, args.azCount);
    this.subnets = cidrs.map(
      (cidrBlock, i) =>
        new aws.ec2.Subnet(
          `${name}-private-${i + 1}`,
          {
            vpcId: this.vpc.id,
            cidrBlock,
            availabilityZone: zones.names.apply((names) => {
              const az = names[i];
              if (!az) throw new pulumi.RunError(`the region offers ${names.length} availability zones, ${args.azCount} were asked for; lower pgsteward:azCount`);
              return az;
            }),
            mapPublicIpOnLaunch: false,
            tags: tags('network', { Name: `${name}-private-${i + 1}`, [TAG.tier]: 'private' }),
          },
          parent,
        ),
    );
    this.subnetIds = pulumi.all(this.subnets.map((s) => s.id));

    // An explicit, empty route list: the table keeps only the implicit local route, and any
    // route added outside Pulumi (an internet gateway, a NAT) is removed on the next update.
    // The S3 gateway endpoint's prefix-list route is the endpoint's own: the provider skips
    // `vpce-` routes when it reads a table (as Terraform's has since hashicorp/terraform#10303),
    // so the empty list does not fight it.
    this.routeTable = new aws.ec2.RouteTable(
      `${name}-private-rt`,
      { vpcId: this.vpc.id, routes: [], tags: tags('network', { Name: `${name}-private`, [TAG.tier]: 'private' }) },
      parent,
    );
    this.subnets.forEach(
      (subnet, i) => new aws.ec2.RouteTableAssociation(`${name}-private-${i + 1}-rt`, { subnetId: subnet.id, routeTableId: this.routeTable.id }, parent),
    );

    this.subnetGroup = new aws.rds.SubnetGroup(
      `${name}-db-subnets`,
      { name: args.names.subnetGroup, description: 'Private subnets for the PostgreSQL instance', subnetIds: this.subnetIds, tags: tags('network') },
      parent,
    );

    // Rules are separate resources (aws.vpc.*Rule), never inline, so each is reviewed and
    // replaced on its own and nothing else can slip into the groups.
    this.databaseSecurityGroup = new aws.ec2.SecurityGroup(
      `${name}-db-sg`,
      { vpcId: this.vpc.id, description: 'PostgreSQL: 5432 from the application security group only', tags: tags('network', { Name: `${name}-db` }) },
      parent,
    );
    this.appSecurityGroup = new aws.ec2.SecurityGroup(
      `${name}-app-sg`,
      { vpcId: this.vpc.id, description: 'Database clients: the application, the bootstrap function, the SSM bastion', tags: tags('network', { Name: `${name}-app` }) },
      parent,
    );
    this.endpointSecurityGroup = new aws.ec2.SecurityGroup(
      `${name}-endpoints-sg`,
      { vpcId: this.vpc.id, description: 'VPC interface endpoints: HTTPS from database clients', tags: tags('network', { Name: `${name}-endpoints` }) },
      parent,
    );

    new aws.vpc.SecurityGroupIngressRule(
      `${name}-db-from-app`,
      {
        securityGroupId: this.databaseSecurityGroup.id,
        referencedSecurityGroupId: this.appSecurityGroup.id,
        ipProtocol: 'tcp',
        fromPort: POSTGRES_PORT,
        toPort: POSTGRES_PORT,
        description: 'PostgreSQL from the application security group',
        tags: tags('network'),
      },
      parent,
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-app-to-db`,
      {
        securityGroupId: this.appSecurityGroup.id,
        referencedSecurityGroupId: this.databaseSecurityGroup.id,
        ipProtocol: 'tcp',
        fromPort: POSTGRES_PORT,
        toPort: POSTGRES_PORT,
        description: 'PostgreSQL to the database',
        tags: tags('network'),
      },
      parent,
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-app-to-endpoints`,
      {
        securityGroupId: this.appSecurityGroup.id,
        referencedSecurityGroupId: this.endpointSecurityGroup.id,
        ipProtocol: 'tcp',
        fromPort: HTTPS,
        toPort: HTTPS,
        description: 'AWS APIs through the VPC endpoints',
        tags: tags('network'),
      },
      parent,
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-endpoints-from-app`,
      {
        securityGroupId: this.endpointSecurityGroup.id,
        referencedSecurityGroupId: this.appSecurityGroup.id,
        ipProtocol: 'tcp',
        fromPort: HTTPS,
        toPort: HTTPS,
        description: 'HTTPS from database clients',
        tags: tags('network'),
      },
      parent,
    );

    const region = aws.getRegionOutput({}, parent);

    this.s3Endpoint = args.s3
      ? new aws.ec2.VpcEndpoint(
          `${name}-s3-endpoint`,
          {
            vpcId: this.vpc.id,
            serviceName: pulumi.interpolate`com.amazonaws.${region.region}.s3`,
            vpcEndpointType: 'Gateway',
            routeTableIds: [this.routeTable.id],
            policy: pulumi.jsonStringify({
              Version: '2012-10-17',
              Statement: [
                {
                  Sid: 'BackupBucket',
                  Effect: 'Allow',
                  Principal: '*',
                  Action: [...BACKUP_BUCKET_ENDPOINT_ACTIONS],
                  Resource: [args.s3.backupBucketArn, pulumi.interpolate`${args.s3.backupBucketArn}/*`],
                },
                { Sid: 'EcrImageLayers', Effect: 'Allow', Principal: '*', Action: ['s3:GetObject'], Resource: [pulumi.interpolate`arn:aws:s3:::${region.region.apply(ecrLayerBucket)}/*`] },
              ],
            }),
            tags: tags('network', { Name: `${name}-s3` }),
          },
          parent,
        )
      : undefined;
    if (this.s3Endpoint) {
      // A gateway endpoint is reached at S3's public addresses through the route table: the
      // clients need HTTPS to S3's prefix list, and only to it.
      new aws.vpc.SecurityGroupEgressRule(
        `${name}-app-to-s3`,
        {
          securityGroupId: this.appSecurityGroup.id,
          prefixListId: this.s3Endpoint.prefixListId,
          ipProtocol: 'tcp',
          fromPort: HTTPS,
          toPort: HTTPS,
          description: 'S3 through the gateway endpoint',
          tags: tags('network'),
        },
        parent,
      );
    }

    this.endpoints = args.endpointServices.map(
      (service) =>
        new aws.ec2.VpcEndpoint(
          `${name}-${service}-endpoint`,
          {
            vpcId: this.vpc.id,
            serviceName: pulumi.interpolate`com.amazonaws.${region.region}.${service}`,
            vpcEndpointType: 'Interface',
            privateDnsEnabled: true,
            subnetIds: this.subnetIds,
            securityGroupIds: [this.endpointSecurityGroup.id],
            tags: tags('network', { Name: `${name}-${service}` }),
          },
          parent,
        ),
    );

    if (this.s3Endpoint) this.endpoints.push(this.s3Endpoint);
    this.registerOutputs({ vpcId: this.vpc.id, subnetIds: this.subnetIds });
  }
}
