import * as aws from '@pulumi/aws';
import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import { METRIC_NAMESPACE, METRICS_ENV } from '../../core/cron/metrics-contract.ts';
import type { RunnerArchitecture } from '../config.ts';
import { stackTags, TAG, type ProdNames, type TagContext } from '../naming.ts';
import { RUNNER_ENV } from '../runner/commands.ts';
import { JOB_COMMANDS, runnerBuild, runnerTag, type ScheduledJob } from '../runner/image.ts';

/** The container's name in every job task definition. */
export const RUNNER_CONTAINER = 'runner';
/** Fargate's limit: the runner gets this long to finish after ECS sends SIGTERM. */
const STOP_TIMEOUT_SECONDS = 120;

export interface JobSchedule {
  /** EventBridge Scheduler `cron(...)` expression. */
  expression: string;
  timezone: string;
}

export interface ProdJobsArgs {
  names: ProdNames;
  tags: TagContext;
  stack: string;
  database: string;
  /** Only the jobs listed here get a task definition and a schedule. */
  schedules: Partial<Record<ScheduledJob, JobSchedule>>;
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The application security group: the jobs are database clients like any other. */
  securityGroupId: pulumi.Input<string>;
  db: { address: pulumi.Input<string>; port: pulumi.Input<number> };
  secrets: { backupRole: pulumi.Input<string>; master: pulumi.Input<string> };
  bucket: { name: pulumi.Input<string>; arn: pulumi.Input<string>; keyArn: pulumi.Input<string>; prefix: string };
  /** pgsteward.config.json for the tasks (storage pointing at the bucket), as JSON text. */
  opsConfig: pulumi.Input<string>;
  architecture: RunnerArchitecture;
  ephemeralStorageGb: number;
  logRetentionDays: number;
  /** The VPC endpoints the tasks need to start (ECR, Logs, S3) and to work (Secrets Manager, CloudWatch). */
  dependsOn: pulumi.Resource[];
}

/** IAM statements for a job's task role: what it does with the database secret, the bucket prefix and the key, and nothing else. Pure. */
export function taskRoleStatements(job: ScheduledJob, r: { secretArn: string; bucketArn: string; keyArn: string; prefix: string }) {
  const objects = `${r.bucketArn}/${r.prefix}*`;
  const writes = job === 'backup';
  return [
    { Sid: 'DatabaseSecret', Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: [r.secretArn] },
    { Sid: 'ListBackupPrefix', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [r.bucketArn], Condition: { StringLike: { 's3:prefix': [`${r.prefix}*`] } } },
    {
      Sid: 'BackupObjects',
      Effect: 'Allow',
      // verify writes its result into the backup's manifest; only backup (and its retention) deletes.
      Action: writes ? ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'] : ['s3:GetObject', 's3:PutObject'],
      Resource: [objects],
    },
    // SSE-KMS: uploads need a data key, downloads and multipart completion need Decrypt.
    { Sid: 'BackupKey', Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: [r.keyArn] },
    // PutMetricData has no resource-level permissions; the namespace condition scopes it.
    { Sid: 'JobMetrics', Effect: 'Allow', Action: ['cloudwatch:PutMetricData'], Resource: ['*'], Condition: { StringEquals: { 'cloudwatch:namespace': METRIC_NAMESPACE } } },
  ];
}

/** The execution role's statements: pull this image, write this log group. Pure. */
export function executionRoleStatements(r: { repositoryArn: string; logGroupArn: string }) {
  return [
    // GetAuthorizationToken has no resource-level permissions.
    { Sid: 'EcrLogin', Effect: 'Allow', Action: ['ecr:GetAuthorizationToken'], Resource: ['*'] },
    { Sid: 'PullRunnerImage', Effect: 'Allow', Action: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'], Resource: [r.repositoryArn] },
    { Sid: 'JobLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [`${r.logGroupArn}:*`] },
  ];
}

/**
 * A job container's environment: what the runner's entrypoint turns into the ops commands'
 * own (see infra/runner/entrypoint.ts), and the metrics switch. Pure; the tests run the
 * runner with exactly this.
 */
export function jobEnvironment(job: ScheduledJob, r: { stack: string; database: string; host: string; port: number; secretArn: string; opsConfig: string }): Array<{ name: string; value: string }> {
  return [
    { name: 'DB_TARGET', value: 'prod' },
    { name: 'DB_NAME', value: r.database },
    { name: RUNNER_ENV.host, value: r.host },
    { name: RUNNER_ENV.port, value: String(r.port) },
    { name: RUNNER_ENV.sslmode, value: 'verify-full' },
    { name: RUNNER_ENV.secretArn, value: r.secretArn },
    // backup logs in as the least-privilege backup role; verify restores into a scratch
    // database, which needs CREATE DATABASE: the master user.
    { name: RUNNER_ENV.secretRole, value: job === 'backup' ? 'backup' : 'admin' },
    { name: RUNNER_ENV.opsConfig, value: r.opsConfig },
    { name: METRICS_ENV.sink, value: 'cloudwatch' },
    { name: METRICS_ENV.stack, value: r.stack },
  ];
}

const assume = (service: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }] });

/**
 * The scheduled jobs: the runner image in an ECR repository (scan on push, immutable tags),
 * an ECS cluster, one Fargate task definition per job (`cron --once <job>`) in the private
 * subnets with the application security group and no public address, and an EventBridge
 * Scheduler schedule per job on the config's cron expression. Each job has its own task role
 * (its database secret, the bucket prefix, the key, its metrics); both share an execution role
 * that can pull this image and write this log group only.
 */
export class ProdJobs extends pulumi.ComponentResource {
  readonly repository: aws.ecr.Repository;
  readonly image: docker.Image;
  readonly cluster: aws.ecs.Cluster;
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly taskDefinitions: Partial<Record<ScheduledJob, aws.ecs.TaskDefinition>> = {};
  readonly taskRoles: Partial<Record<ScheduledJob, aws.iam.Role>> = {};
  readonly schedules: Partial<Record<ScheduledJob, aws.scheduler.Schedule>> = {};
  readonly executionRole: aws.iam.Role;

  constructor(name: string, args: ProdJobsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pgsteward:prod:Jobs', name, {}, opts);
    const parent = { parent: this };
    const tags = stackTags(args.tags, 'jobs');
    const region = aws.getRegionOutput({}, parent).region;

    this.repository = new aws.ecr.Repository(
      `${name}-repository`,
      {
        name: args.names.runnerRepository,
        imageTagMutability: 'IMMUTABLE',
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [{ encryptionType: 'AES256' }],
        forceDelete: false,
        tags,
      },
      parent,
    );
    new aws.ecr.LifecyclePolicy(
      `${name}-repository-lifecycle`,
      {
        repository: this.repository.name,
        policy: JSON.stringify({ rules: [{ rulePriority: 1, description: 'keep the 10 newest images', selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 10 }, action: { type: 'expire' } }] }),
      },
      parent,
    );

    const auth = aws.ecr.getAuthorizationTokenOutput({ registryId: this.repository.registryId }, parent);
    this.image = new docker.Image(
      `${name}-image`,
      {
        // A content tag: immutable tags must change exactly when the image's inputs do.
        imageName: pulumi.interpolate`${this.repository.repositoryUrl}:${runnerTag()}`,
        build: runnerBuild(args.architecture === 'arm64' ? 'linux/arm64' : 'linux/amd64'),
        registry: { server: this.repository.repositoryUrl, username: auth.userName, password: pulumi.secret(auth.password) },
        skipPush: false,
        buildOnPreview: false,
      },
      parent,
    );

    this.cluster = new aws.ecs.Cluster(`${name}-cluster`, { name: args.names.cluster, settings: [{ name: 'containerInsights', value: 'disabled' }], tags }, parent);
    this.logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, { name: args.names.jobLogGroup, retentionInDays: args.logRetentionDays, tags }, parent);

    this.executionRole = new aws.iam.Role(`${name}-execution-role`, { description: 'pgsteward jobs: pull the runner image, write the job logs', assumeRolePolicy: assume('ecs-tasks.amazonaws.com'), tags }, parent);
    new aws.iam.RolePolicy(
      `${name}-execution-policy`,
      {
        role: this.executionRole.name,
        policy: pulumi
          .all([this.repository.arn, this.logGroup.arn])
          .apply(([repositoryArn, logGroupArn]) => JSON.stringify({ Version: '2012-10-17', Statement: executionRoleStatements({ repositoryArn, logGroupArn }) })),
      },
      parent,
    );

    const schedulerRole = new aws.iam.Role(`${name}-scheduler-role`, { description: 'pgsteward jobs: EventBridge Scheduler starts the job tasks', assumeRolePolicy: assume('scheduler.amazonaws.com'), tags }, parent);

    for (const job of Object.keys(args.schedules) as ScheduledJob[]) {
      const schedule = args.schedules[job]!;
      const secretArn = job === 'backup' ? args.secrets.backupRole : args.secrets.master;
      const taskRole = new aws.iam.Role(`${name}-${job}-task-role`, { description: `pgsteward ${job} job`, assumeRolePolicy: assume('ecs-tasks.amazonaws.com'), tags: { ...tags, [TAG.job]: job } }, parent);
      new aws.iam.RolePolicy(
        `${name}-${job}-task-policy`,
        {
          role: taskRole.name,
          policy: pulumi
            .all([secretArn, args.bucket.arn, args.bucket.keyArn])
            .apply(([s, b, k]) => JSON.stringify({ Version: '2012-10-17', Statement: taskRoleStatements(job, { secretArn: s, bucketArn: b, keyArn: k, prefix: args.bucket.prefix }) })),
        },
        parent,
      );
      this.taskRoles[job] = taskRole;

      const environment = pulumi
        .all([args.db.address, args.db.port, secretArn, args.opsConfig])
        .apply(([host, port, arn, ops]) => jobEnvironment(job, { stack: args.stack, database: args.database, host, port, secretArn: arn, opsConfig: ops }));

      const taskDefinition = new aws.ecs.TaskDefinition(
        `${name}-${job}-task`,
        {
          family: args.names.jobFamily(job),
          requiresCompatibilities: ['FARGATE'],
          networkMode: 'awsvpc',
          cpu: '512',
          memory: '1024',
          runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: args.architecture === 'arm64' ? 'ARM64' : 'X86_64' },
          ephemeralStorage: { sizeInGib: args.ephemeralStorageGb },
          executionRoleArn: this.executionRole.arn,
          taskRoleArn: taskRole.arn,
          // The root filesystem is read-only; dumps are staged on the task's own storage at /tmp.
          volumes: [{ name: 'scratch' }],
          containerDefinitions: pulumi.all([this.image.repoDigest, environment, this.logGroup.name, region]).apply(([image, env, group, r]) =>
            JSON.stringify([
              {
                name: RUNNER_CONTAINER,
                image,
                essential: true,
                command: [...JOB_COMMANDS[job]],
                environment: env,
                readonlyRootFilesystem: true,
                mountPoints: [{ sourceVolume: 'scratch', containerPath: '/tmp', readOnly: false }],
                stopTimeout: STOP_TIMEOUT_SECONDS,
                logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': group, 'awslogs-region': r, 'awslogs-stream-prefix': job } },
              },
            ]),
          ),
          tags: { ...tags, [TAG.job]: job },
        },
        { ...parent, dependsOn: args.dependsOn },
      );
      this.taskDefinitions[job] = taskDefinition;

      new aws.iam.RolePolicy(
        `${name}-${job}-scheduler-policy`,
        {
          role: schedulerRole.name,
          policy: pulumi.all([taskDefinition.arnWithoutRevision, this.cluster.arn, this.executionRole.arn, taskRole.arn]).apply(([family, cluster, exec, task]) =>
            JSON.stringify({
              Version: '2012-10-17',
              Statement: [
                { Sid: 'RunJobTask', Effect: 'Allow', Action: ['ecs:RunTask'], Resource: [`${family}:*`], Condition: { ArnEquals: { 'ecs:cluster': cluster } } },
                { Sid: 'PassJobRoles', Effect: 'Allow', Action: ['iam:PassRole'], Resource: [exec, task], Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } } },
              ],
            }),
          ),
        },
        parent,
      );

      this.schedules[job] = new aws.scheduler.Schedule(
        `${name}-${job}-schedule`,
        {
          name: args.names.schedule(job),
          description: `pgsteward ${job}: ${JOB_COMMANDS[job].join(' ')}`,
          scheduleExpression: schedule.expression,
          scheduleExpressionTimezone: schedule.timezone,
          flexibleTimeWindow: { mode: 'OFF' },
          state: 'ENABLED',
          target: {
            arn: this.cluster.arn,
            roleArn: schedulerRole.arn,
            ecsParameters: {
              taskDefinitionArn: taskDefinition.arn,
              launchType: 'FARGATE',
              platformVersion: 'LATEST',
              taskCount: 1,
              networkConfiguration: { subnets: args.subnetIds, securityGroups: [args.securityGroupId], assignPublicIp: false },
            },
            // RunTask itself may be throttled; retries stay within the hour so a late run never overlaps the next.
            retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
          },
        },
        parent,
      );
    }
    this.registerOutputs({ cluster: this.cluster.name, repository: this.repository.repositoryUrl });
  }
}
