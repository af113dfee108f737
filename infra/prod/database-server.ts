import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import type { ProdConfig } from '../config.ts';
import { stackTags, TAG, type ProdNames, type TagContext } from '../naming.ts';
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
    | 'caCertIdentifier'
    | 'masterPasswordSource'
    | 'applyImmediately'
    | 'decommission'
    | 'passwordGeneration'
    | 'secretRecoveryDays'
  >;
  parameters: RdsParameter[];
  subnetGroupName: pulumi.Input<string>;
  securityGroupId: pulumi.Input<string>;
}

/**
 * RDS for PostgreSQL 17 in the private subnets: encrypted storage, never publicly
 * accessible, its own parameter group (TLS forced by the family default, pg_tle preloaded),
 * automated backups, Performance Insights, deletion protection with a final snapshot, and the
 * master password generated and kept by RDS in Secrets Manager, so it never passes through
 * Pulumi. Multi-AZ is configuration; read replicas need the stack to hold the master
 * password instead (`masterPasswordSource: stack`), because RDS cannot create a replica of a
 * source whose password it manages.
 */
export class ProdDatabaseServer extends pulumi.ComponentResource {
  readonly parameterGroup: aws.rds.ParameterGroup;
  readonly instance: aws.rds.Instance;
  readonly replicas: aws.rds.Instance[];
  readonly address: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  /** The master secret ({"username","password"}) the bootstrap reads: RDS's own, or the stack's. */
  readonly masterSecretArn: pulumi.Output<string>;
  /** The final snapshot's name: unique per instance lifetime, so a re-created stack can be destroyed again. */
  readonly finalSnapshotIdentifier: pulumi.Output<string>;

  constructor(name: string, args: ProdDatabaseServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pgsteward:prod:DatabaseServer', name, {}, opts);
    const parent = { parent: this };
    const cfg = args.config;
    const tags = stackTags(args.tags, 'database', cfg.decommission ? { [TAG.decommission]: 'true' } : {});
    const protect = cfg.deletionProtection && !cfg.decommission;

    this.parameterGroup = new aws.rds.ParameterGroup(
      `${name}-params`,
      {
        name: args.names.parameterGroup,
        family: PARAMETER_FAMILY,
        description: 'pgsteward: pg_tle preloaded, slow-statement and connection logging, max_connections from the pool budget',
        parameters: args.parameters,
        tags,
      },
      parent,
    );

    // Only when replicas are wanted: RDS rejects CreateDBInstanceReadReplica for a source whose
    // master password Secrets Manager manages ("Limitations for Secrets Manager integration
    // with Amazon RDS", RDS User Guide). The password then lives in this stack's encrypted
    // state and in a secret of the same shape RDS uses; passwordGeneration rotates it.
    let stackSecret: aws.secretsmanager.Secret | undefined;
    let stackPassword: pulumi.Output<string> | undefined;
    if (cfg.masterPasswordSource === 'stack') {
      const pw = new random.RandomPassword(`${name}-master-password`, { length: 32, special: false, keepers: { generation: String(cfg.passwordGeneration) } }, parent);
      stackPassword = pulumi.secret(pw.result);
      stackSecret = new aws.secretsmanager.Secret(
        `${name}-master-secret`,
        { namePrefix: args.names.masterSecretPrefix, description: `RDS master user ${cfg.masterUsername} (held by the stack because of read replicas)`, recoveryWindowInDays: cfg.secretRecoveryDays, tags },
        parent,
      );
      new aws.secretsmanager.SecretVersion(
        `${name}-master-secret-value`,
        { secretId: stackSecret.id, secretString: pulumi.secret(pulumi.jsonStringify({ username: cfg.masterUsername, password: stackPassword })) },
        parent,
      );
    }

    // A new name per instance lifetime: RDS refuses a final snapshot whose name exists, so a
    // fixed name would block destroying a stack created again after an earlier destroy.
    const snapshotSuffix = new random.RandomId(`${name}-final-snapshot-id`, { byteLength: 4, keepers: { identifier: args.names.dbInstance } }, parent);
    this.finalSnapshotIdentifier = pulumi.interpolate`${args.names.finalSnapshot}-${snapshotSuffix.hex}`;

    // Created ahead of the instance so its logs get a retention instead of "never expire".
    const logGroups = [args.names.dbInstance, ...Array.from({ length: cfg.readReplicas }, (_, i) => args.names.replica(i))].map(
      (id) => new aws.cloudwatch.LogGroup(`${name}-${id}-logs`, { name: args.names.rdsLogGroup(id), retentionInDays: cfg.logRetentionDays, tags }, parent),
    );

    // What primary and replicas share. Engine, version and storage encryption are the
    // primary's alone: a replica inherits them from its source.
    const common = {
      allowMajorVersionUpgrade: false,
      autoMinorVersionUpgrade: true,
      parameterGroupName: this.parameterGroup.name,
      vpcSecurityGroupIds: [args.securityGroupId],
      publiclyAccessible: false,
      storageType: 'gp3',
      caCertIdentifier: cfg.caCertIdentifier,
      performanceInsightsEnabled: cfg.performanceInsights,
      performanceInsightsRetentionPeriod: cfg.performanceInsights ? cfg.performanceInsightsRetentionDays : undefined,
      enabledCloudwatchLogsExports: ['postgresql', 'upgrade'],
      deletionProtection: cfg.deletionProtection,
      // Off by default: class, storage and CA changes wait for the maintenance window. Static
      // parameters (max_connections, shared_preload_libraries) wait for a reboot either way.
      applyImmediately: cfg.applyImmediately,
      copyTagsToSnapshot: true,
      tags,
    } satisfies Partial<aws.rds.InstanceArgs>;

    this.instance = new aws.rds.Instance(
      `${name}-primary`,
      {
        ...common,
        engine: 'postgres',
        engineVersion: ENGINE_VERSION,
        storageEncrypted: true,
        identifier: args.names.dbInstance,
        instanceClass: cfg.instanceClass,
        allocatedStorage: cfg.allocatedStorageGb,
        maxAllocatedStorage: cfg.maxAllocatedStorageGb,
        dbSubnetGroupName: args.subnetGroupName,
        multiAz: cfg.multiAz,
        username: cfg.masterUsername,
        ...(stackPassword ? { password: stackPassword } : { manageMasterUserPassword: true }),
        backupRetentionPeriod: cfg.backupRetentionDays,
        deleteAutomatedBackups: false,
        skipFinalSnapshot: false,
        finalSnapshotIdentifier: this.finalSnapshotIdentifier,
      },
      // Pulumi-level protection follows the AWS-level flag: turning one off turns off both.
      { ...parent, dependsOn: logGroups, protect },
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
            // Same-region replicas inherit the subnet group, engine, storage encryption and master user from the source.
            replicateSourceDb: this.instance.identifier,
            skipFinalSnapshot: true,
          },
          // CreateDBInstanceReadReplica ignores DeletionProtection (hashicorp/terraform-provider-aws#6011,
          // the provider's acceptance test TestAccRDSInstance_ReplicateSourceDB_deletionProtection is
          // skipped for it): the replica is created unprotected and the next `pulumi up` sets the
          // flag with a ModifyDBInstance. Pulumi's protect guards it from the first deploy on.
          { ...parent, dependsOn: logGroups, protect },
        ),
    );

    this.address = this.instance.address;
    this.port = this.instance.port;
    this.masterSecretArn = stackSecret
      ? stackSecret.arn
      : this.instance.masterUserSecrets.apply((secrets) => {
          const arn = secrets?.[0]?.secretArn;
          if (!arn) throw new pulumi.ResourceError('RDS reported no managed master user secret', this.instance, true);
          return arn;
        });
    this.registerOutputs({ address: this.address, port: this.port, masterSecretArn: this.masterSecretArn });
  }
}
