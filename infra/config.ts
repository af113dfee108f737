import { UserError } from '../core/errors.ts';
import { NAME_PATTERN } from '../core/config/role-names.ts';
import { DEFAULT_DEV_PORT, type PoolBudget } from '../core/config/target-settings.ts';
import { CA_IDENTIFIERS, DEFAULT_CA_IDENTIFIER, type CaIdentifier } from './rds-ca.ts';

/**
 * The stack's configuration, typed and validated once before any resource is declared.
 * Pure: it reads nothing but the raw key/value map Pulumi hands the program, so every rule
 * is tested directly and a bad value fails the preview with one clear line.
 */

/** Pulumi config keys of this project are `pgsteward:<key>` (the project name in Pulumi.yaml). */
export const CONFIG_NAMESPACE = 'pgsteward';

export const STACK_TARGETS = ['dev', 'prod'] as const;
export type StackTarget = (typeof STACK_TARGETS)[number];

/** The pinned base image for the dev server; `pgsteward:postgresBaseImage` may add a digest. */
export const DEFAULT_POSTGRES_BASE_IMAGE = 'postgres:17.6-bookworm';

export interface CommonConfig {
  target: StackTarget;
  database: string;
  pool: PoolBudget;
  /** Connections kept free beside the app's budget for setup, backups, checks and an operator. */
  opsConnections: number;
  /** Statements slower than this are logged by the server. */
  slowStatementMs: number;
  /** Bump to rotate every generated role password (a keeper of the random passwords). */
  passwordGeneration: number;
}

export interface DevConfig extends CommonConfig {
  target: 'dev';
  /** The only way in from the host: a forward bound to 127.0.0.1. Off unless asked for. */
  forward: { enabled: boolean; port: number };
  memoryMb: number;
  shmSizeMb: number;
  postgresBaseImage: string;
  /** Keep the named data volume (and the cron container's backups volume) when the stack is destroyed. */
  keepDataOnDestroy: boolean;
  /** Run the scheduled jobs in a cron container on the internal network. */
  cron: boolean;
}

/** Who holds the RDS master password: RDS itself in Secrets Manager, or this stack (needed for read replicas). */
export const MASTER_PASSWORD_SOURCES = ['rds', 'stack'] as const;
export type MasterPasswordSource = (typeof MASTER_PASSWORD_SOURCES)[number];

export const RUNNER_ARCHITECTURES = ['x86_64', 'arm64'] as const;
export type RunnerArchitecture = (typeof RUNNER_ARCHITECTURES)[number];

export interface ProdConfig extends CommonConfig {
  target: 'prod';
  vpcCidr: string;
  azCount: number;
  instanceClass: string;
  replicaInstanceClass: string;
  allocatedStorageGb: number;
  maxAllocatedStorageGb: number;
  multiAz: boolean;
  readReplicas: number;
  backupRetentionDays: number;
  deletionProtection: boolean;
  performanceInsights: boolean;
  performanceInsightsRetentionDays: number;
  masterUsername: string;
  bootstrapTimeoutSeconds: number;
  logRetentionDays: number;
  secretRecoveryDays: number;
  /** A private, SSM-managed instance for port forwarding (no SSH, no public address). */
  ssmBastion: boolean;
  caCertIdentifier: CaIdentifier;
  masterPasswordSource: MasterPasswordSource;
  /** Apply instance modifications at once instead of in the next maintenance window. */
  applyImmediately: boolean;
  /** The explicit decision to tear prod down: lifts deletion protection and the policy honours it. */
  decommission: boolean;
  /** The alarm fires when no successful backup was recorded for this many hours. */
  backupRpoHours: number;
  /** Superseded or deleted backup object versions are removed after this many days. */
  backupNoncurrentDays: number;
  /** S3 Object Lock governance retention for every backup object, in days; 0 = no default retention. */
  backupLockDays: number;
  /** Alarm notifications by e-mail (an SNS topic and subscription); undefined = alarms only. */
  alarmEmail: string | undefined;
  runnerArchitecture: RunnerArchitecture;
  /** Fargate ephemeral storage for the jobs (dumps are staged there). */
  jobStorageGb: number;
}

export type StackConfig = DevConfig | ProdConfig;

type Scope = 'all' | StackTarget;

interface KeySpec<T> {
  scope: Scope;
  /** What a correct value looks like, for the error line. */
  expect: string;
  /** The value to suggest in `pulumi config set`. */
  example: string;
  parse: (raw: string) => T | undefined;
}

function int(min: number, max: number): Pick<KeySpec<number>, 'expect' | 'parse'> {
  return {
    expect: `a whole number from ${min} to ${max}`,
    parse: (raw) => {
      const n = Number(raw.trim());
      return raw.trim() !== '' && Number.isInteger(n) && n >= min && n <= max ? n : undefined;
    },
  };
}

const bool: Pick<KeySpec<boolean>, 'expect' | 'parse'> = {
  expect: 'true or false',
  parse: (raw) => (raw === 'true' ? true : raw === 'false' ? false : undefined),
};

function pattern(re: RegExp, expect: string): Pick<KeySpec<string>, 'expect' | 'parse'> {
  return { expect, parse: (raw) => (re.test(raw) ? raw : undefined) };
}

const RFC1918 = [
  { base: [10, 0, 0, 0], bits: 8 },
  { base: [172, 16, 0, 0], bits: 12 },
  { base: [192, 168, 0, 0], bits: 16 },
] as const;

const ipValue = (p: readonly number[]) => ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;

/**
 * A VPC range: inside RFC 1918, /16 (the largest VPC AWS allows) to /22, no host bits. A /22
 * gives /26 subnets, 59 usable addresses each after AWS's five: room for the interface
 * endpoints' network interfaces, the Lambda's, the jobs' tasks and the RDS instances. Pure.
 */
export function parseVpcCidr(raw: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(raw.trim());
  if (!m) return undefined;
  const parts = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (parts.some((p) => p > 255) || bits < 16 || bits > 22) return undefined;
  const ip = ipValue(parts);
  if ((ip & ((~0 << (32 - bits)) >>> 0)) >>> 0 !== ip) return undefined;
  const inside = RFC1918.some((r) => bits >= r.bits && (ip & ((~0 << (32 - r.bits)) >>> 0)) >>> 0 === ipValue(r.base));
  return inside ? raw.trim() : undefined;
}

/** Performance Insights keeps 7 days (free tier), 31 × months for 1 to 23 months, or 731 days. Pure. */
export function validInsightsRetention(n: number): boolean {
  return Number.isInteger(n) && (n === 7 || n === 731 || (n % 31 === 0 && n / 31 >= 1 && n / 31 <= 23));
}

function oneOf<T extends string>(values: readonly T[]): Pick<KeySpec<T>, 'expect' | 'parse'> {
  return { expect: values.join(' or '), parse: (raw) => ((values as readonly string[]).includes(raw) ? (raw as T) : undefined) };
}

// Every key the program understands. Anything else under `pgsteward:` is a typo and fails early.
const KEYS = {
  target: { scope: 'all', example: 'dev', expect: 'dev or prod', parse: (r: string) => ((STACK_TARGETS as readonly string[]).includes(r) ? (r as StackTarget) : undefined) },
  database: { scope: 'all', example: 'app', ...pattern(NAME_PATTERN, '1-48 lower-case letters, digits or underscores, not starting with a digit') },
  poolMax: { scope: 'all', example: '10', ...int(1, 1000) },
  poolMin: { scope: 'all', example: '2', ...int(0, 1000) },
  appInstances: { scope: 'all', example: '1', ...int(1, 100) },
  opsConnections: { scope: 'all', example: '10', ...int(3, 100) },
  slowStatementMs: { scope: 'all', example: '500', ...int(-1, 3_600_000) },
  passwordGeneration: { scope: 'all', example: '2', ...int(1, 1_000_000) },

  forward: { scope: 'dev', example: 'true', ...bool },
  forwardPort: { scope: 'dev', example: String(DEFAULT_DEV_PORT), ...int(1024, 65535) },
  memoryMb: { scope: 'dev', example: '1024', ...int(256, 65536) },
  shmSizeMb: { scope: 'dev', example: '256', ...int(64, 16384) },
  postgresBaseImage: {
    scope: 'dev',
    example: DEFAULT_POSTGRES_BASE_IMAGE,
    // Only PostgreSQL 17 images: the extension is built for the major the tag names.
    ...pattern(/^(docker\.io\/(library\/)?)?postgres:17(\.\d+)?(-[a-z0-9.]+)?(@sha256:[a-f0-9]{64})?$/, 'a postgres:17 tag such as postgres:17.6-bookworm, optionally with @sha256:<digest>'),
  },
  keepDataOnDestroy: { scope: 'dev', example: 'true', ...bool },
  cron: { scope: 'dev', example: 'true', ...bool },

  vpcCidr: { scope: 'prod', example: '10.42.0.0/16', expect: 'an RFC 1918 IPv4 range from /16 to /22 without host bits, e.g. 10.42.0.0/16', parse: parseVpcCidr },
  azCount: { scope: 'prod', example: '2', ...int(2, 6) },
  instanceClass: { scope: 'prod', example: 'db.t4g.micro', ...pattern(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'an RDS instance class such as db.t4g.micro') },
  replicaInstanceClass: { scope: 'prod', example: 'db.t4g.micro', ...pattern(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'an RDS instance class such as db.t4g.micro') },
  allocatedStorageGb: { scope: 'prod', example: '20', ...int(20, 65536) },
  maxAllocatedStorageGb: { scope: 'prod', example: '100', ...int(20, 65536) },
  multiAz: { scope: 'prod', example: 'true', ...bool },
  readReplicas: { scope: 'prod', example: '1', ...int(0, 5) },
  backupRetentionDays: { scope: 'prod', example: '7', ...int(1, 35) },
  deletionProtection: { scope: 'prod', example: 'true', ...bool },
  performanceInsights: { scope: 'prod', example: 'true', ...bool },
  performanceInsightsRetentionDays: {
    scope: 'prod',
    example: '7',
    expect: '7, 31 × months (31, 62, … 713) or 731',
    parse: (r: string) => {
      const n = Number(r);
      return r.trim() !== '' && validInsightsRetention(n) ? n : undefined;
    },
  },
  masterUsername: { scope: 'prod', example: 'pgsteward_admin', ...pattern(/^[a-z][a-z0-9_]{0,15}$/, '1-16 lower-case letters, digits or underscores, starting with a letter') },
  bootstrapTimeoutSeconds: { scope: 'prod', example: '300', ...int(30, 900) },
  logRetentionDays: {
    scope: 'prod',
    example: '30',
    expect: 'a CloudWatch retention: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653',
    parse: (r: string) => {
      const n = Number(r);
      return [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653].includes(n) ? n : undefined;
    },
  },
  secretRecoveryDays: { scope: 'prod', example: '7', ...int(7, 30) },
  ssmBastion: { scope: 'prod', example: 'true', ...bool },
  caCertIdentifier: { scope: 'prod', example: DEFAULT_CA_IDENTIFIER, ...oneOf(CA_IDENTIFIERS) },
  masterPasswordSource: { scope: 'prod', example: 'stack', ...oneOf(MASTER_PASSWORD_SOURCES) },
  applyImmediately: { scope: 'prod', example: 'true', ...bool },
  decommission: { scope: 'prod', example: 'true', ...bool },
  backupRpoHours: { scope: 'prod', example: '26', ...int(1, 168) },
  backupNoncurrentDays: { scope: 'prod', example: '30', ...int(1, 3650) },
  backupLockDays: { scope: 'prod', example: '14', ...int(0, 3650) },
  alarmEmail: { scope: 'prod', example: 'ops@example.com', ...pattern(/^[^\s@]{1,64}@[^\s@]+\.[^\s@]{2,}$/, 'an e-mail address') },
  runnerArchitecture: { scope: 'prod', example: 'arm64', ...oneOf(RUNNER_ARCHITECTURES) },
  jobStorageGb: { scope: 'prod', example: '50', ...int(21, 200) },
} satisfies Record<string, KeySpec<unknown>>;

type Keys = typeof KEYS;
type Key = keyof Keys;
type ValueOf<K extends Key> = NonNullable<ReturnType<Keys[K]['parse']>>;

export const CONFIG_KEYS = Object.keys(KEYS) as Key[];

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}

function suggestion(key: string): string {
  const best = CONFIG_KEYS.map((k) => ({ k, d: distance(key, k) })).sort((x, y) => x.d - y.d)[0];
  return best && best.d <= 3 ? `did you mean ${CONFIG_NAMESPACE}:${best.k}? ` : '';
}

/**
 * Parses and validates the whole configuration. All problems are reported together, each
 * naming the key, what was wrong and the command that fixes it. Values never appear in the
 * message except for keys that cannot hold a secret.
 */
export function parseStackConfig(raw: Readonly<Record<string, string>>, stack: string): StackConfig {
  const problems: string[] = [];
  const own = new Map<string, string>();
  const prefix = `${CONFIG_NAMESPACE}:`;
  for (const [k, v] of Object.entries(raw)) {
    if (!k.startsWith(prefix)) continue;
    const key = k.slice(prefix.length);
    if (!(key in KEYS)) {
      problems.push(`unknown setting ${k}; ${suggestion(key)}remove it with pulumi config rm ${k}`);
      continue;
    }
    own.set(key, v);
  }

  const rawTarget = own.get('target') ?? ((STACK_TARGETS as readonly string[]).includes(stack) ? stack : undefined);
  let target: StackTarget | undefined;
  if (rawTarget === undefined) {
    problems.push(`${prefix}target is not set and stack "${stack.slice(0, 40)}" is neither dev nor prod; run pulumi config set ${prefix}target dev (or prod)`);
  } else {
    target = KEYS.target.parse(rawTarget);
    if (!target) problems.push(`${prefix}target must be dev or prod, got "${rawTarget.slice(0, 20)}"; run pulumi config set ${prefix}target dev (or prod)`);
  }

  if (target) {
    for (const key of own.keys()) {
      const scope = KEYS[key as Key].scope;
      if (scope !== 'all' && scope !== target) {
        problems.push(`${prefix}${key} applies to the ${scope} target only, this stack targets ${target}; remove it with pulumi config rm ${prefix}${key}`);
      }
    }
  }

  function get<K extends Key>(key: K, fallback: ValueOf<K>): ValueOf<K> {
    const spec = KEYS[key] as KeySpec<ValueOf<K>>;
    const value = own.get(key);
    if (value === undefined || (target && spec.scope !== 'all' && spec.scope !== target)) return fallback;
    const parsed = spec.parse(value);
    if (parsed === undefined) {
      problems.push(`${prefix}${key} must be ${spec.expect}, got "${value.slice(0, 40)}"; run pulumi config set ${prefix}${key} ${spec.example}`);
      return fallback;
    }
    return parsed;
  }

  const pool: PoolBudget = { max: get('poolMax', 10), min: get('poolMin', 2), instances: get('appInstances', 1) };
  if (pool.min > pool.max) problems.push(`${prefix}poolMin (${pool.min}) is larger than ${prefix}poolMax (${pool.max}); lower poolMin or raise poolMax`);
  const common = {
    database: get('database', 'app'),
    pool,
    opsConnections: get('opsConnections', 10),
    slowStatementMs: get('slowStatementMs', 500),
    passwordGeneration: get('passwordGeneration', 1),
  };

  let config: StackConfig | undefined;
  if (target === 'dev') {
    const dev: DevConfig = {
      target,
      ...common,
      forward: { enabled: get('forward', false), port: get('forwardPort', DEFAULT_DEV_PORT) },
      memoryMb: get('memoryMb', 1024),
      shmSizeMb: get('shmSizeMb', 256),
      postgresBaseImage: get('postgresBaseImage', DEFAULT_POSTGRES_BASE_IMAGE),
      keepDataOnDestroy: get('keepDataOnDestroy', true),
      cron: get('cron', true),
    };
    if (dev.shmSizeMb >= dev.memoryMb) problems.push(`${prefix}shmSizeMb (${dev.shmSizeMb}) must be below ${prefix}memoryMb (${dev.memoryMb}); lower shmSizeMb or raise memoryMb`);
    if (own.has('forwardPort') && !dev.forward.enabled) problems.push(`${prefix}forwardPort is set but ${prefix}forward is off; run pulumi config set ${prefix}forward true, or remove forwardPort`);
    config = dev;
  } else if (target === 'prod') {
    const instanceClass = get('instanceClass', 'db.t4g.micro');
    const prod: ProdConfig = {
      target,
      ...common,
      vpcCidr: get('vpcCidr', '10.42.0.0/16'),
      azCount: get('azCount', 2),
      instanceClass,
      replicaInstanceClass: get('replicaInstanceClass', instanceClass),
      allocatedStorageGb: get('allocatedStorageGb', 20),
      maxAllocatedStorageGb: get('maxAllocatedStorageGb', 100),
      multiAz: get('multiAz', false),
      readReplicas: get('readReplicas', 0),
      backupRetentionDays: get('backupRetentionDays', 7),
      // Decommissioning is the one way deletion protection goes off without the policy objecting.
      deletionProtection: own.has('decommission') && get('decommission', false) ? get('deletionProtection', false) : get('deletionProtection', true),
      performanceInsights: get('performanceInsights', true),
      performanceInsightsRetentionDays: get('performanceInsightsRetentionDays', 7),
      masterUsername: get('masterUsername', 'pgsteward_admin'),
      bootstrapTimeoutSeconds: get('bootstrapTimeoutSeconds', 300),
      logRetentionDays: get('logRetentionDays', 30),
      secretRecoveryDays: get('secretRecoveryDays', 7),
      ssmBastion: get('ssmBastion', false),
      caCertIdentifier: get('caCertIdentifier', DEFAULT_CA_IDENTIFIER),
      masterPasswordSource: get('masterPasswordSource', 'rds'),
      applyImmediately: get('applyImmediately', false),
      decommission: get('decommission', false),
      backupRpoHours: get('backupRpoHours', 26),
      backupNoncurrentDays: get('backupNoncurrentDays', 30),
      backupLockDays: get('backupLockDays', 0),
      alarmEmail: own.has('alarmEmail') ? get('alarmEmail', '') || undefined : undefined,
      runnerArchitecture: get('runnerArchitecture', 'x86_64'),
      jobStorageGb: get('jobStorageGb', 21),
    };
    // The RDS User Guide lists read replicas of a source whose master password Secrets Manager
    // manages as unsupported (CreateDBInstanceReadReplica fails with InvalidParameterValue).
    if (prod.readReplicas > 0 && prod.masterPasswordSource === 'rds') {
      problems.push(`${prefix}readReplicas (${prod.readReplicas}) needs a stack-held master password: RDS cannot create read replicas while it manages the master password; run pulumi config set ${prefix}masterPasswordSource stack (or set readReplicas 0)`);
    }
    if (prod.decommission && prod.deletionProtection) {
      problems.push(`${prefix}decommission is true but ${prefix}deletionProtection is also true; remove deletionProtection (pulumi config rm ${prefix}deletionProtection) to decommission`);
    }
    if (prod.maxAllocatedStorageGb < prod.allocatedStorageGb) {
      problems.push(`${prefix}maxAllocatedStorageGb (${prod.maxAllocatedStorageGb}) is below ${prefix}allocatedStorageGb (${prod.allocatedStorageGb}); raise maxAllocatedStorageGb`);
    }
    if (['postgres', 'rdsadmin', 'admin'].includes(prod.masterUsername) || prod.masterUsername.startsWith('pg_') || prod.masterUsername.startsWith(`${common.database}_`)) {
      problems.push(`${prefix}masterUsername "${prod.masterUsername}" is reserved or collides with the database's roles; run pulumi config set ${prefix}masterUsername pgsteward_admin`);
    }
    config = prod;
  }

  if (problems.length > 0 || !config) {
    const head = problems.length === 1 ? 'invalid stack config' : `${problems.length} problems in stack config`;
    throw new UserError(`${head}: ${problems.join(' | ')}`);
  }
  return config;
}
