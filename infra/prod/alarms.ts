import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { DIMENSION, METRIC, METRIC_NAMESPACE } from '../../core/cron/metrics-contract.ts';
import { stackTags, TAG, type ProdNames, type TagContext } from '../naming.ts';
import type { ScheduledJob } from '../runner/image.ts';

/** CloudWatch evaluates at most 7 days back (Period × EvaluationPeriods ≤ 604,800 s, PutMetricAlarm). */
export const MAX_ALARM_WINDOW_HOURS = 168;

export interface AlarmedJob {
  scheduleName: string;
  taskDefinition: aws.ecs.TaskDefinition;
  /**
   * Alarm when no success was recorded for this many hours (missing data = breaching), or
   * undefined when the schedule's gaps are longer than CloudWatch can look back.
   */
  freshnessHours: number | undefined;
}

export interface ProdAlarmsArgs {
  names: ProdNames;
  tags: TagContext;
  stack: string;
  database: string;
  clusterArn: pulumi.Input<string>;
  jobs: Partial<Record<ScheduledJob, AlarmedJob>>;
  alarmEmail: string | undefined;
  logRetentionDays: number;
}

/** The metric a job's freshness alarm counts. */
const SUCCESS_METRIC: Record<ScheduledJob, string> = { backup: METRIC.backupSucceeded, verify: METRIC.verifySucceeded };

/**
 * The EventBridge pattern for a job task that ended badly: stopped with any container exit
 * code other than 0 (1 findings, 2 failure, 137 killed …), or never started (image pull,
 * secrets, network: stopCode TaskFailedToStart). Pure.
 */
export function taskFailedPattern(clusterArn: string, familyArn: string) {
  return {
    source: ['aws.ecs'],
    'detail-type': ['ECS Task State Change'],
    detail: {
      clusterArn: [clusterArn],
      taskDefinitionArn: [{ prefix: `${familyArn}:` }],
      lastStatus: ['STOPPED'],
      $or: [{ containers: { exitCode: [{ 'anything-but': 0 }] } }, { stopCode: ['TaskFailedToStart'] }],
    },
  };
}

/**
 * Alarms for the scheduled jobs, each tagged with the schedule it watches:
 * - `<job>-missing` (backup always; verify when its schedule allows): no success metric for N
 *   hours, counted hour by hour, with missing data treated as breaching, so a job that stops
 *   running, a scheduler that stops starting it and a job that fails all alarm the same way;
 * - `verify-failed`: a verify reported a failed restore test (VerifyFailed ≥ 1);
 * - `<job>-task-failed`: a job task exited non-zero or failed to start, seen by an EventBridge
 *   rule (ECS task state changes) whose matches CloudWatch counts; each match is also written
 *   to a log group, the failure history.
 * With `alarmEmail`, every alarm notifies an SNS topic with that e-mail subscribed (AWS sends
 * a confirmation mail first). The topic is not KMS-encrypted: CloudWatch cannot publish to a
 * topic under the AWS-managed SNS key, and alarm messages hold no secrets.
 */
export class ProdAlarms extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic | undefined;
  readonly alarms: aws.cloudwatch.MetricAlarm[] = [];
  readonly failureRules: aws.cloudwatch.EventRule[] = [];
  readonly failureLogGroup: aws.cloudwatch.LogGroup;

  constructor(name: string, args: ProdAlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pgsteward:prod:Alarms', name, {}, opts);
    const parent = { parent: this };
    const tags = stackTags(args.tags, 'alarms');

    this.topic = args.alarmEmail ? new aws.sns.Topic(`${name}-topic`, { name: args.names.alarmTopic, tags }, parent) : undefined;
    if (this.topic) new aws.sns.TopicSubscription(`${name}-email`, { topic: this.topic.arn, protocol: 'email', endpoint: args.alarmEmail! }, parent);
    const actions = this.topic ? { alarmActions: [this.topic.arn], okActions: [this.topic.arn] } : {};
    const dimensions = { [DIMENSION.stack]: args.stack, [DIMENSION.database]: args.database };

    this.failureLogGroup = new aws.cloudwatch.LogGroup(`${name}-failure-logs`, { name: args.names.failureLogGroup, retentionInDays: args.logRetentionDays, tags }, parent);
    // EventBridge writes to CloudWatch Logs only where a resource policy lets it (EventBridge User Guide, "CloudWatch Logs permissions").
    new aws.cloudwatch.LogResourcePolicy(
      `${name}-failure-logs-policy`,
      {
        policyName: `${args.names.failureRule}-logs`,
        policyDocument: this.failureLogGroup.arn.apply((arn) =>
          JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              { Sid: 'EventBridgeWritesFailures', Effect: 'Allow', Principal: { Service: ['events.amazonaws.com', 'delivery.logs.amazonaws.com'] }, Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `${arn}:*` },
            ],
          }),
        ),
      },
      parent,
    );

    const alarm = (job: ScheduledJob, scheduleName: string, what: string, a: Omit<aws.cloudwatch.MetricAlarmArgs, 'tags' | 'name'>) => {
      const created = new aws.cloudwatch.MetricAlarm(
        `${name}-${job}-${what}`,
        { name: args.names.alarm(`${job}-${what}`), ...actions, ...a, tags: { ...tags, [TAG.schedule]: scheduleName, [TAG.job]: job } },
        parent,
      );
      this.alarms.push(created);
      return created;
    };

    for (const job of Object.keys(args.jobs) as ScheduledJob[]) {
      const j = args.jobs[job]!;
      if (j.freshnessHours !== undefined) {
        alarm(job, j.scheduleName, 'missing', {
          alarmDescription: `no successful ${job} of ${args.database} recorded for ${j.freshnessHours} h; see docs/deploying.md, "When the alarm fires"`,
          namespace: METRIC_NAMESPACE,
          metricName: SUCCESS_METRIC[job],
          dimensions,
          statistic: 'Sum',
          period: 3600,
          evaluationPeriods: j.freshnessHours,
          datapointsToAlarm: j.freshnessHours,
          threshold: 1,
          comparisonOperator: 'LessThanThreshold',
          // Silence is the failure this alarm exists for.
          treatMissingData: 'breaching',
        });
      }
      if (job === 'verify') {
        alarm(job, j.scheduleName, 'failed', {
          alarmDescription: `a restore test of ${args.database} failed; see docs/deploying.md, "When the alarm fires"`,
          namespace: METRIC_NAMESPACE,
          metricName: METRIC.verifyFailed,
          dimensions,
          statistic: 'Sum',
          period: 3600,
          evaluationPeriods: 1,
          threshold: 1,
          comparisonOperator: 'GreaterThanOrEqualToThreshold',
          // Only a reported failure counts here; a verify that never runs is the task alarm's and the freshness alarm's.
          treatMissingData: 'notBreaching',
        });
      }

      const rule = new aws.cloudwatch.EventRule(
        `${name}-${job}-task-failed-rule`,
        {
          name: `${args.names.failureRule}-${job}`,
          description: `pgsteward ${job} task stopped with a failure`,
          eventPattern: pulumi.all([args.clusterArn, j.taskDefinition.arnWithoutRevision]).apply(([c, f]) => JSON.stringify(taskFailedPattern(c, f))),
          tags,
        },
        parent,
      );
      this.failureRules.push(rule);
      new aws.cloudwatch.EventTarget(`${name}-${job}-task-failed-log`, { rule: rule.name, arn: this.failureLogGroup.arn }, parent);
      alarm(job, j.scheduleName, 'task-failed', {
        alarmDescription: `a ${job} task of ${args.database} exited non-zero or did not start; its stop event is in ${args.names.failureLogGroup}`,
        namespace: 'AWS/Events',
        metricName: 'TriggeredRules',
        dimensions: { RuleName: rule.name },
        statistic: 'Sum',
        period: 300,
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        treatMissingData: 'notBreaching',
      });
    }
    this.registerOutputs({ topic: this.topic?.arn });
  }
}
