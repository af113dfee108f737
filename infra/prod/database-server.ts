import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { ProdConfig } from '../config.ts';
import { stackTags, type ProdNames, type TagContext } from '../naming.ts';
import type { RdsParameter } from '../sizing.ts';

export const ENGINE_VERSION = '17';
export const PARAMETER_FAMILY = 'postgres17';

export interface ProdDatabaseServerArgs {
  names: ProdNames;
  tags: TagContext;
  config: Pick<
    ProdConfig,
    | 'instanceClass'
    | 'replicaInstanceClass'
    | 'allocatedStorageGb'
    | 'maxAllocatedStorageGb'
    | 'multiAz'
    | 'readReplicas'
    | 'backupRetentionDays'
    | 'deletionProtection'
    | 'performanceInsights'
    | 'performanceInsightsRetentionDays'
    | 'masterUsername'
    | 'logRetentionDays'
  >;
  parameters: RdsParameter[];
  subnetGroupName: pulumi.Input<string>;
  securityGroupId: pulumi.Input<string>;
}

/**
 * RDS for PostgreSQL 17 in the private subnets: encrypted storage, never publicly
 * accessible, TLS forced by its own parameter group, automated backups, Performance
 * Insights, deletion protection with a final snapshot, and the master password generated
 * and kept by RDS in Secrets Manager (it never passes through Pulumi). Multi-AZ and read
 * replicas are configuration.
 */
export class ProdDatabaseServer extends pulumi.ComponentResource {
  readonly parameterGroup: aws.rds.ParameterGroup;
  readonly instance: aws.rds.Instance;
  readonly replicas: aws.rds.Instance[];
  readonly address: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  /** The RDS-managed master secret ({"username","password"}) the bootstrap reads. */
  readonly masterSecretArn: pulumi.Output<string>;

  constructor(name: string, args: ProdDatabaseServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pgsteward:prod:DatabaseServer', name, {}, opts);
    const parent = { parent: this };
    const cfg = args.config;
    const tags = stackTags(args.tags, 'database');

    this.parameterGroup = new aws.rds.ParameterGroup(
      `${name}-params`,
      { name: args.names.parameterGroup, family: PARAMETER_FAMILY, description: 'pgsteward: TLS forced, slow-statement and connection logging, max_connections from the pool budget', parameters: args.parameters, tags },
      parent,
    );

    // Created ahead of the instance so its logs get a retention instead of "never expire".
    const logGroups = [args.names.dbInstance, ...Array.from({ length: cfg.readReplicas }, (_, i) => args.names.replica(i))].map(
      (id) => new aws.cloudwatch.LogGroup(`${name}-${id}-logs`, { name: args.names.rdsLogGroup(id), retentionInDays: cfg.logRetentionDays, tags }, parent),
    );

    const common = {
      engine: 'postgres',
      engineVersion: ENGINE_VERSION,
      allowMajorVersionUpgrade: false,
      autoMinorVersionUpgrade: true,
      parameterGroupName: this.parameterGroup.name,
      vpcSecurityGroupIds: [args.securityGroupId],
      publiclyAccessible: false,
      storageEncrypted: true,
      storageType: 'gp3',
      caCertIdentifier: 'rds-ca-rsa2048-g1',
      performanceInsightsEnabled: cfg.performanceInsights,
      performanceInsightsRetentionPeriod: cfg.performanceInsights ? cfg.performanceInsightsRetentionDays : undefined,
      enabledCloudwatchLogsExports: ['postgresql', 'upgrade'],
      deletionProtection: cfg.deletionProtection,
      copyTagsToSnapshot: true,
      tags,
    } satisfies Partial<aws.rds.InstanceArgs>;

    this.instance = new aws.rds.Instance(
      `${name}-primary`,
      {
        ...common,
        identifier: args.names.dbInstance,
        instanceClass: cfg.instanceClass,
        allocatedStorage: cfg.allocatedStorageGb,
        maxAllocatedStorage: cfg.maxAllocatedStorageGb,
        dbSubnetGroupName: args.subnetGroupName,
        multiAz: cfg.multiAz,
        username: cfg.masterUsername,
        manageMasterUserPassword: true,
        backupRetentionPeriod: cfg.backupRetentionDays,
        deleteAutomatedBackups: false,
        skipFinalSnapshot: false,
        finalSnapshotIdentifier: args.names.finalSnapshot,
      },
      // Pulumi-level protection follows the AWS-level flag: turning one off turns off both.
      { ...parent, dependsOn: logGroups, protect: cfg.deletionProtection },
    );

    this.replicas = Array.from(
      { length: cfg.readReplicas },
      (_, i) =>
        new aws.rds.Instance(
          `${name}-replica-${i + 1}`,
          {
            ...common,
            identifier: args.names.replica(i),
            instanceClass: cfg.replicaInstanceClass,
            // Same-region replicas inherit the subnet group, storage and master user from the source.
            replicateSourceDb: this.instance.identifier,
            skipFinalSnapshot: true,
          },
          { ...parent, dependsOn: logGroups, protect: cfg.deletionProtection },
        ),
    );

    this.address = this.instance.address;
    this.port = this.instance.port;
    this.masterSecretArn = this.instance.masterUserSecrets.apply((secrets) => {
      const arn = secrets?.[0]?.secretArn;
      if (!arn) throw new pulumi.ResourceError('RDS reported no managed master user secret', this.instance, true);
      return arn;
    });
    this.registerOutputs({ address: this.address, port: this.port, masterSecretArn: this.masterSecretArn });
  }
}
