import { UserError } from '../core/errors.ts';

/**
 * Names, tags and labels for everything the stacks create. Pure, so the rules each platform
 * imposes (Docker, RDS identifiers, Secrets Manager) are tested here, once.
 */

/** `<project>-<stack>`, lower-case and safe for Docker, RDS, IAM and Secrets Manager names. */
export function stackPrefix(project: string, stack: string): string {
  const clean = `${project}-${stack}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(clean)) {
    throw new UserError(`project/stack "${project}/${stack}" gives no usable name prefix`, 'use a stack name that starts with a letter');
  }
  // 32 leaves room for every suffix below inside the tightest limit (IAM role names, 64).
  return clean.slice(0, 32).replace(/-+$/, '');
}

export interface DevNames {
  network: string;
  forwardNetwork: string;
  volume: string;
  server: string;
  forward: string;
  bootstrap: string;
  serverImage: string;
  bootstrapImage: string;
  forwardImage: string;
  cron: string;
  cronImage: string;
  /** The cron container's local backup storage. */
  backupsVolume: string;
}

export function devNames(prefix: string): DevNames {
  return {
    network: `${prefix}-db-net`,
    forwardNetwork: `${prefix}-forward-net`,
    volume: `${prefix}-pgdata`,
    server: `${prefix}-postgres`,
    forward: `${prefix}-forward`,
    bootstrap: `${prefix}-setup`,
    serverImage: `${prefix}-postgres:17-pg_uuidv7`,
    bootstrapImage: `${prefix}-setup:latest`,
    forwardImage: `${prefix}-forward:latest`,
    cron: `${prefix}-cron`,
    cronImage: `${prefix}-runner:latest`,
    backupsVolume: `${prefix}-backups`,
  };
}

/**
 * An RDS identifier: letters, digits and hyphens, starting with a letter, no double or
 * trailing hyphen, at most 63 characters.
 */
export function rdsIdentifier(prefix: string, suffix: string): string {
  const id = `${prefix}-${suffix}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-{2,}/g, '-').slice(0, 63).replace(/-+$/, '');
  if (!/^[a-z][a-z0-9-]*$/.test(id)) throw new UserError(`"${id}" is not a valid RDS identifier`, 'use a stack name that starts with a letter');
  return id;
}

export interface ProdNames {
  dbInstance: string;
  replica(index: number): string;
  parameterGroup: string;
  subnetGroup: string;
  finalSnapshot: string;
  bootstrapFunction: string;
  /** Secrets Manager name prefix for one role's secret: `<prefix>/<role>-`. */
  roleSecretPrefix(roleName: string): string;
  rdsLogGroup(identifier: string): string;
  lambdaLogGroup: string;
  /** S3 bucket name prefix (S3 appends a unique suffix): bucket names are global. */
  backupBucketPrefix: string;
  backupKeyAlias: string;
  runnerRepository: string;
  cluster: string;
  jobFamily(job: string): string;
  jobLogGroup: string;
  /** Where EventBridge writes every failed job task's stop event: the failure history. */
  failureLogGroup: string;
  failureRule: string;
  schedule(job: string): string;
  alarm(what: string): string;
  alarmTopic: string;
  masterSecretPrefix: string;
}

export function prodNames(prefix: string): ProdNames {
  const dbInstance = rdsIdentifier(prefix, 'db');
  const bootstrapFunction = `${prefix}-db-bootstrap`;
  return {
    dbInstance,
    replica: (i) => rdsIdentifier(prefix, `db-replica-${i + 1}`),
    parameterGroup: rdsIdentifier(prefix, 'pg17'),
    subnetGroup: rdsIdentifier(prefix, 'db-subnets'),
    finalSnapshot: rdsIdentifier(prefix, 'db-final'),
    bootstrapFunction,
    roleSecretPrefix: (roleName) => `${prefix}/${roleName}-`,
    rdsLogGroup: (identifier) => `/aws/rds/instance/${identifier}/postgresql`,
    lambdaLogGroup: `/aws/lambda/${bootstrapFunction}`,
    // S3 adds 26 characters to a prefix; 63 is the limit, and the prefix is at most 32.
    backupBucketPrefix: `${prefix}-backups-`,
    backupKeyAlias: `alias/${prefix}-backups`,
    runnerRepository: `${prefix}/runner`,
    cluster: `${prefix}-jobs`,
    jobFamily: (job) => `${prefix}-${job}`,
    jobLogGroup: `/pgsteward/${prefix}/jobs`,
    failureLogGroup: `/aws/events/${prefix}-job-failures`,
    failureRule: `${prefix}-job-failed`,
    schedule: (job) => `${prefix}-${job}`,
    alarm: (what) => `${prefix}-${what}`,
    alarmTopic: `${prefix}-alarms`,
    masterSecretPrefix: `${prefix}/master-`,
  };
}

/** The tag keys every AWS resource carries; policies and cost reports key on them. */
export const TAG = {
  project: 'pgsteward:project',
  stack: 'pgsteward:stack',
  target: 'pgsteward:target',
  database: 'pgsteward:database',
  component: 'pgsteward:component',
  tier: 'pgsteward:tier',
  /** `true` on a prod database the operator has decided to tear down (pgsteward:decommission). */
  decommission: 'pgsteward:decommission',
  /** On the alarms watching a scheduled job: the schedule's name, so the policy can pair them. */
  schedule: 'pgsteward:schedule',
  job: 'pgsteward:job',
} as const;

export interface TagContext {
  project: string;
  stack: string;
  target: 'dev' | 'prod';
  database: string;
}

export function stackTags(ctx: TagContext, component: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    [TAG.project]: ctx.project,
    [TAG.stack]: ctx.stack,
    [TAG.target]: ctx.target,
    [TAG.database]: ctx.database,
    [TAG.component]: component,
    'managed-by': 'pulumi',
    ...extra,
  };
}

/** Docker label keys (reverse-DNS, as Docker recommends). */
export const LABEL = {
  project: 'io.pgsteward.project',
  stack: 'io.pgsteward.stack',
  database: 'io.pgsteward.database',
  component: 'io.pgsteward.component',
  /** What a network or container is for; the policy pack keys on it. */
  purpose: 'io.pgsteward.purpose',
  setupKey: 'io.pgsteward.setup-key',
} as const;

export const PURPOSE = {
  database: 'database',
  loopbackForward: 'loopback-forward',
  bootstrap: 'bootstrap',
  cron: 'cron',
} as const;

export interface DockerLabel {
  label: string;
  value: string;
}

export function dockerLabels(ctx: TagContext, component: string, purpose: string, extra: Record<string, string> = {}): DockerLabel[] {
  const all: Record<string, string> = {
    [LABEL.project]: ctx.project,
    [LABEL.stack]: ctx.stack,
    [LABEL.database]: ctx.database,
    [LABEL.component]: component,
    [LABEL.purpose]: purpose,
    ...extra,
  };
  return Object.entries(all).map(([label, value]) => ({ label, value }));
}
