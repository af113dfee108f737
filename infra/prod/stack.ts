import * as pulumi from '@pulumi/pulumi';
import type { OpsConfig } from '../../core/config/ops-config.ts';
import { LOGIN_ROLES, roleNames, type LoginRole } from '../../core/config/role-names.ts';
import { UserError } from '../../core/errors.ts';
import { lambdaPackage } from '../build/bundle.ts';
import type { ProdConfig } from '../config.ts';
import type { StackContext } from '../stack-context.ts';
import { prodNames, stackPrefix, type TagContext } from '../naming.ts';
import { JOB_COMMANDS, SCHEDULED_JOBS, type ScheduledJob } from '../runner/image.ts';
import { eventBridgeCron, longestGapHours } from '../schedule.ts';
import { connectionBudget, rdsParameters, RESERVED_CONNECTIONS } from '../sizing.ts';
import { MAX_ALARM_WINDOW_HOURS, ProdAlarms, type AlarmedJob } from './alarms.ts';
import { BackupBucket } from './backup-bucket.ts';
import { SSM_ENDPOINT_SERVICES, SsmBastion } from './bastion.ts';
import { ProdBootstrap } from './bootstrap.ts';
import { ProdDatabaseServer } from './database-server.ts';
import { ProdJobs, type JobSchedule } from './jobs.ts';
import { ProdNetwork } from './network.ts';

/** RDS enforces TLS (rds.force_ssl); verify-full checks the server against the RDS CA. */
export const PROD_SSLMODE = 'verify-full';

/** Interface endpoints the job tasks need in subnets without a route out: image pulls, logs, metrics. */
export const JOB_ENDPOINT_SERVICES = ['ecr.api', 'ecr.dkr', 'logs', 'monitoring'] as const;

/** A run is allowed this long to finish before its absence counts as missing. */
const RUN_GRACE_HOURS = 1;

export interface JobPlan {
  schedules: Partial<Record<ScheduledJob, JobSchedule>>;
  /** Per job: the freshness alarm's window, undefined when CloudWatch cannot look back that far. */
  freshnessHours: Partial<Record<ScheduledJob, number | undefined>>;
}

/**
 * The scheduled jobs from the ops config: the enabled ones, as EventBridge expressions in the
 * config's time zone, with their freshness windows. The backup's is `backupRpoHours`, refused
 * when a gap between scheduled backups alone would exceed it; verify's is its longest gap plus
 * an hour, when that fits in CloudWatch's 7 days. Pure.
 */
export function planJobs(ops: OpsConfig, backupRpoHours: number): JobPlan {
  const plan: JobPlan = { schedules: {}, freshnessHours: {} };
  for (const job of SCHEDULED_JOBS) {
    const j = ops.cron.jobs[job];
    if (!j.enabled) continue;
    const where = `cron.jobs.${job}.schedule`;
    plan.schedules[job] = { expression: eventBridgeCron(j.schedule, where), timezone: ops.cron.timezone };
    const window = Math.ceil(longestGapHours(j.schedule, ops.cron.timezone)) + RUN_GRACE_HOURS;
    if (job === 'backup') {
      if (window > backupRpoHours) {
        throw new UserError(
          `pgsteward:backupRpoHours (${backupRpoHours}) is shorter than the longest wait between scheduled backups plus an hour (${window} h, ${where} "${j.schedule}")`,
          `raise it (pulumi config set pgsteward:backupRpoHours ${Math.min(window, MAX_ALARM_WINDOW_HOURS)}) or back up more often`,
        );
      }
      plan.freshnessHours[job] = backupRpoHours;
    } else {
      plan.freshnessHours[job] = window <= MAX_ALARM_WINDOW_HOURS ? window : undefined;
    }
  }
  return plan;
}

/** The pgsteward.config.json the job tasks run with: prod backups in the stack's bucket, under the stack's key. Pure. */
export function jobOpsConfig(ops: OpsConfig, s: { bucket: string; prefix: string; region: string; kmsKeyId: string }): string {
  return JSON.stringify({
    backups: {
      targets: {
        prod: {
          storage: { type: 's3', bucket: s.bucket, prefix: s.prefix, region: s.region, sse: 'aws:kms', kmsKeyId: s.kmsKeyId },
          retention: ops.targets.prod.retention,
        },
      },
    },
    cron: { timezone: ops.cron.timezone, jobs: ops.cron.jobs },
  });
}

/**
 * The prod stack: a private VPC, RDS for PostgreSQL 17, role secrets and the bootstrap
 * Lambda, the backup bucket, the scheduled backup and verify jobs with their alarms, and
 * (only when configured) an SSM bastion for operators.
 */
export async function prodStack(cfg: ProdConfig, ctx: StackContext) {
  const prefix = stackPrefix(ctx.project, ctx.stack);
  const names = prodNames(prefix);
  const tags: TagContext = { project: ctx.project, stack: ctx.stack, target: 'prod', database: cfg.database };
  const budget = connectionBudget(cfg.pool, cfg.opsConnections, RESERVED_CONNECTIONS.rds);
  const parameters = rdsParameters({ maxConnections: budget.total, slowStatementMs: cfg.slowStatementMs });
  if (!ctx.awsRegion) throw new UserError('the prod stack has no AWS region', 'run pulumi config set aws:region eu-west-1 (or your region)');
  const region = ctx.awsRegion;
  // Everything that can refuse the configuration runs before any resource is declared.
  const jobs = planJobs(ctx.ops, cfg.backupRpoHours);
  const pkg = await lambdaPackage({ migrationsDir: ctx.migrationsDir, region, caIdentifier: cfg.caCertIdentifier });
  const withJobs = Object.keys(jobs.schedules).length > 0;
  const storage = ctx.ops.targets.prod.storage;
  const keyPrefix = storage.type === 's3' ? storage.prefix : 'pgsteward';
  // The objects of this database, as core's S3 storage names them: `<prefix>/<target>/<database>/`.
  const objectPrefix = `${keyPrefix ? keyPrefix + '/' : ''}prod/${cfg.database}/`;

  const bucket = new BackupBucket('backups', { names, tags, noncurrentDays: cfg.backupNoncurrentDays, lockDays: cfg.backupLockDays });
  const network = new ProdNetwork('network', {
    names,
    tags,
    vpcCidr: cfg.vpcCidr,
    azCount: cfg.azCount,
    endpointServices: ['secretsmanager', ...(withJobs ? JOB_ENDPOINT_SERVICES : []), ...(cfg.ssmBastion ? SSM_ENDPOINT_SERVICES : [])],
    s3: withJobs ? { backupBucketArn: bucket.bucketArn } : undefined,
  });
  const server = new ProdDatabaseServer('database', {
    names,
    tags,
    config: cfg,
    parameters,
    subnetGroupName: network.subnetGroup.name,
    securityGroupId: network.databaseSecurityGroup.id,
  });
  const bootstrap = new ProdBootstrap('bootstrap', {
    names,
    tags,
    database: cfg.database,
    pool: cfg.pool,
    setupKey: ctx.setupKey,
    passwordGeneration: cfg.passwordGeneration,
    package: pkg,
    parameters,
    subnetIds: network.subnetIds,
    securityGroupId: network.appSecurityGroup.id,
    db: { address: server.address, port: server.port, masterSecretArn: server.masterSecretArn, resources: [server.instance] },
    dbIdentifier: server.instance.identifier,
    dependsOn: network.endpoints,
    timeoutSeconds: cfg.bootstrapTimeoutSeconds,
    logRetentionDays: cfg.logRetentionDays,
    secretRecoveryDays: cfg.secretRecoveryDays,
  });

  let jobsComponent: ProdJobs | undefined;
  let alarms: ProdAlarms | undefined;
  if (withJobs) {
    jobsComponent = new ProdJobs(
      'jobs',
      {
        names,
        tags,
        stack: ctx.stack,
        database: cfg.database,
        schedules: jobs.schedules,
        subnetIds: network.subnetIds,
        securityGroupId: network.appSecurityGroup.id,
        db: { address: server.address, port: server.port },
        secrets: { backupRole: bootstrap.secrets.backup.arn, master: server.masterSecretArn },
        bucket: { name: bucket.bucketName, arn: bucket.bucketArn, keyArn: bucket.keyArn, prefix: objectPrefix },
        opsConfig: pulumi.all([bucket.bucketName, bucket.keyArn]).apply(([b, k]) => jobOpsConfig(ctx.ops, { bucket: b, prefix: keyPrefix, region, kmsKeyId: k })),
        architecture: cfg.runnerArchitecture,
        ephemeralStorageGb: cfg.jobStorageGb,
        logRetentionDays: cfg.logRetentionDays,
        // Roles and migrations first: a job against a database setup has not finished would fail.
        dependsOn: [...network.endpoints, bootstrap.invocation],
      },
    );
    const alarmed: Partial<Record<ScheduledJob, AlarmedJob>> = {};
    for (const job of Object.keys(jobs.schedules) as ScheduledJob[]) {
      alarmed[job] = { scheduleName: names.schedule(job), taskDefinition: jobsComponent.taskDefinitions[job]!, freshnessHours: jobs.freshnessHours[job] };
    }
    alarms = new ProdAlarms('alarms', {
      names,
      tags,
      stack: ctx.stack,
      database: cfg.database,
      clusterArn: jobsComponent.cluster.arn,
      jobs: alarmed,
      alarmEmail: cfg.alarmEmail,
      logRetentionDays: cfg.logRetentionDays,
    });
  }
  const bastion = cfg.ssmBastion
    ? new SsmBastion('bastion', { tags, subnetId: network.subnets[0]!.id, securityGroupId: network.appSecurityGroup.id }, { dependsOn: network.endpoints })
    : undefined;

  const roles = roleNames(cfg.database);
  const connections = Object.fromEntries(
    LOGIN_ROLES.map((r) => [
      r,
      pulumi.secret(
        pulumi.all([server.address, server.port, bootstrap.passwords[r], bootstrap.secrets[r].arn]).apply(([host, port, password, secretArn]) => ({
          host,
          port,
          database: cfg.database,
          user: roles[r],
          sslmode: PROD_SSLMODE,
          secretArn,
          password,
        })),
      ),
    ]),
  );

  return {
    target: 'prod' as const,
    database: cfg.database,
    setupKey: ctx.setupKey,
    maxConnections: budget.total,
    vpcId: network.vpc.id,
    privateSubnetIds: network.subnetIds,
    appSecurityGroupId: network.appSecurityGroup.id,
    databaseSecurityGroupId: network.databaseSecurityGroup.id,
    endpoint: server.address,
    port: server.port,
    replicaEndpoints: pulumi.all(server.replicas.map((r) => r.address)),
    masterUsername: cfg.masterUsername,
    masterSecretArn: server.masterSecretArn,
    finalSnapshotIdentifier: server.finalSnapshotIdentifier,
    roleSecretArns: pulumi.all(Object.fromEntries(LOGIN_ROLES.map((r) => [r, bootstrap.secrets[r].arn]))),
    connections,
    bootstrap: { function: bootstrap.function.name, result: bootstrap.result },
    /** Static parameters (max_connections, shared_preload_libraries) the primary has not taken yet. */
    rebootRequired: bootstrap.rebootRequired,
    backupBucket: bucket.bucketName,
    backupKeyArn: bucket.keyArn,
    backupPrefix: objectPrefix,
    runnerRepository: jobsComponent?.repository.repositoryUrl,
    jobCluster: jobsComponent?.cluster.name,
    jobLogGroup: jobsComponent?.logGroup.name,
    jobFailureLogGroup: alarms?.failureLogGroup.name,
    jobs: Object.fromEntries((Object.keys(jobs.schedules) as ScheduledJob[]).map((j) => [j, { schedule: jobs.schedules[j]!.expression, timezone: jobs.schedules[j]!.timezone, command: JOB_COMMANDS[j].join(' '), taskDefinition: jobsComponent!.taskDefinitions[j]!.family }])),
    alarmTopicArn: alarms?.topic?.arn,
    bastionInstanceId: bastion?.instance.id,
  };
}
