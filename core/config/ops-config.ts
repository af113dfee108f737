import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { Reader } from './json-reader.ts';
import { TARGET_KINDS, type TargetKind } from './target-settings.ts';

/**
 * Backup storage, retention, pg_dump placement and the cron schedule: everything the ops
 * commands need beyond the target itself. Read from the optional project configuration file
 * (`--config FILE`, else PGSTEWARD_CONFIG, else `<repo>/pgsteward.config.json`); every key is
 * optional. The same file carries the checks' settings (project-config.ts reads those).
 */

export interface LocalStorageConfig {
  type: 'local';
  /** Absolute folder; each database gets a sub-folder. Default `<stateDir>/backups/<target>`. */
  dir: string;
}

export interface S3StorageConfig {
  type: 's3';
  bucket: string;
  /** Key prefix; each target and database gets its own below it. */
  prefix: string;
  region: string | undefined;
  /** Only for S3-compatible servers (MinIO, tests); AWS needs none. */
  endpoint: string | undefined;
  forcePathStyle: boolean;
  /** Server-side encryption: `aws:kms` (with kmsKeyId, or the account's default key) or `AES256`. */
  sse: 'AES256' | 'aws:kms';
  kmsKeyId: string | undefined;
}

export type StorageConfig = LocalStorageConfig | S3StorageConfig;

export interface RetentionPolicy {
  /** The newest N backups are always kept. */
  keepLast: number;
  /** The newest backup of each of the last N days that have backups. */
  daily: number;
  /** … of each of the last N ISO weeks (Monday to Sunday, UTC) that have backups. */
  weekly: number;
  /** … of each of the last N calendar months (UTC) that have backups. */
  monthly: number;
  /** Nothing younger than this is deleted, whatever the counts say. */
  minAgeHours: number;
}

export interface DockerPgDump {
  /** Container that runs PostgreSQL; pg_dump/pg_restore run inside it with `docker exec`. */
  container: string;
  /** How pg_dump inside the container reaches the server (default 127.0.0.1:5432). */
  host: string;
  port: number;
}

export interface TargetOpsConfig {
  storage: StorageConfig;
  retention: RetentionPolicy;
  /** Run the client tools inside the database container (dev target) instead of on this machine. */
  docker: DockerPgDump | undefined;
}

export const JOB_NAMES = ['backup', 'verify', 'checks'] as const;
export type JobName = (typeof JOB_NAMES)[number];

export interface JobConfig {
  schedule: string;
  enabled: boolean;
}

export interface CronConfig {
  /** IANA zone the schedules are read in. */
  timezone: string;
  /** JSON-lines run history. */
  historyFile: string;
  jobs: Record<JobName, JobConfig>;
}

export interface OpsConfig {
  /** The file it came from; undefined when every value is a default. */
  source: string | undefined;
  targets: Record<TargetKind, TargetOpsConfig>;
  cron: CronConfig;
}

export const DEFAULT_RETENTION: RetentionPolicy = { keepLast: 7, daily: 7, weekly: 4, monthly: 6, minAgeHours: 24 };

/** Backup and retention daily at 03:15, a restore test on Sundays at 04:45, checks hourly at :05. */
export const DEFAULT_SCHEDULES: Record<JobName, string> = {
  backup: '15 3 * * *',
  verify: '45 4 * * 0',
  checks: '5 * * * *',
};

export const CONFIG_FILE_NAME = 'pgsteward.config.json';

/** Every top-level key of the file: the ops sections read here, the project's read by project-config.ts. */
export const TOP_LEVEL_KEYS = ['database', 'migrations', 'ignoreMissing', 'pool', 'checks', 'backups', 'cron'] as const;

/** The keys of each ops object, shared with the JSON Schema's test so the two cannot drift. */
export const OPS_KEYS = {
  backups: ['retention', 'targets'],
  retention: ['keepLast', 'daily', 'weekly', 'monthly', 'minAgeHours'],
  target: ['storage', 'retention', 'docker'],
  localStorage: ['type', 'dir'],
  s3Storage: ['type', 'bucket', 'prefix', 'region', 'endpoint', 'forcePathStyle', 'sse', 'kmsKeyId'],
  docker: ['container', 'host', 'port'],
  cron: ['timezone', 'historyFile', 'jobs'],
  job: ['schedule', 'enabled'],
} as const;

function retention(r: Reader, raw: unknown, where: string, base: RetentionPolicy): RetentionPolicy {
  const o = r.object(raw, where, OPS_KEYS.retention);
  const p: RetentionPolicy = {
    keepLast: r.int(o.keepLast, `${where}.keepLast`, base.keepLast, 1, 10_000),
    daily: r.int(o.daily, `${where}.daily`, base.daily, 0, 10_000),
    weekly: r.int(o.weekly, `${where}.weekly`, base.weekly, 0, 10_000),
    monthly: r.int(o.monthly, `${where}.monthly`, base.monthly, 0, 10_000),
    minAgeHours: r.number(o.minAgeHours, `${where}.minAgeHours`, base.minAgeHours, 0, 24 * 366),
  };
  return p;
}

function storage(r: Reader, raw: unknown, where: string, defaultDir: string, baseDir: string): StorageConfig {
  const peek = r.object(raw, where, [...new Set([...OPS_KEYS.localStorage, ...OPS_KEYS.s3Storage])]);
  const type = r.oneOf(peek.type, `${where}.type`, ['local', 's3'] as const, 'local');
  if (type === 'local') {
    const o = r.object(raw, where, OPS_KEYS.localStorage);
    const dir = r.string(o.dir, `${where}.dir`);
    return { type: 'local', dir: dir ? path.resolve(baseDir, dir) : defaultDir };
  }
  const o = r.object(raw, where, OPS_KEYS.s3Storage);
  const bucket = r.string(o.bucket, `${where}.bucket`);
  if (!bucket) r.fail(`${where}.bucket`, 'is required for S3 storage', 'name the bucket backups go to');
  const endpoint = r.string(o.endpoint, `${where}.endpoint`);
  if (endpoint && !/^https?:\/\/[^\s/]+/.test(endpoint)) r.fail(`${where}.endpoint`, 'must be an http(s) URL', 'e.g. https://s3.eu-central-1.amazonaws.com, or leave it out for AWS');
  const sse = r.oneOf(o.sse, `${where}.sse`, ['aws:kms', 'AES256'] as const, 'aws:kms');
  const kmsKeyId = r.string(o.kmsKeyId, `${where}.kmsKeyId`);
  if (kmsKeyId && sse !== 'aws:kms') r.fail(`${where}.kmsKeyId`, 'only applies with sse "aws:kms"', 'remove kmsKeyId or set sse to "aws:kms"');
  return {
    type: 's3',
    bucket,
    prefix: (r.string(o.prefix, `${where}.prefix`) ?? 'pgsteward').replace(/^\/+|\/+$/g, ''),
    region: r.string(o.region, `${where}.region`),
    endpoint,
    forcePathStyle: r.bool(o.forcePathStyle, `${where}.forcePathStyle`, Boolean(endpoint)),
    sse,
    kmsKeyId,
  };
}

function docker(r: Reader, raw: unknown, where: string): DockerPgDump | undefined {
  if (raw === undefined) return undefined;
  const o = r.object(raw, where, OPS_KEYS.docker);
  const container = r.string(o.container, `${where}.container`);
  if (!container) r.fail(`${where}.container`, 'is required', 'name the PostgreSQL container (docker ps shows it)');
  return { container, host: r.string(o.host, `${where}.host`, '127.0.0.1'), port: r.int(o.port, `${where}.port`, 5432, 1, 65535) };
}

function timezone(r: Reader, v: unknown, where: string): string {
  const tz = r.string(v, where, 'UTC');
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    r.fail(where, `"${tz.slice(0, 60)}" is not a known time zone`, 'use an IANA name such as UTC or Europe/Berlin');
  }
  return tz;
}

/** Turns the parsed JSON into a complete, typed config. Pure: paths resolve against `baseDir` and `stateDir`. */
export function parseOpsConfig(raw: unknown, ctx: { file: string | undefined; baseDir: string; stateDir: string }): OpsConfig {
  const r = new Reader(ctx.file ?? CONFIG_FILE_NAME);
  const top = r.object(raw, '', TOP_LEVEL_KEYS);
  const backups = r.object(top.backups, 'backups', OPS_KEYS.backups);
  const baseRetention = retention(r, backups.retention, 'backups.retention', DEFAULT_RETENTION);
  const targetsRaw = r.object(backups.targets, 'backups.targets', TARGET_KINDS);
  const targets = {} as Record<TargetKind, TargetOpsConfig>;
  for (const kind of TARGET_KINDS) {
    const where = `backups.targets.${kind}`;
    const t = r.object(targetsRaw[kind], where, OPS_KEYS.target);
    targets[kind] = {
      storage: storage(r, t.storage, `${where}.storage`, path.join(ctx.stateDir, 'backups', kind), ctx.baseDir),
      retention: retention(r, t.retention, `${where}.retention`, baseRetention),
      docker: docker(r, t.docker, `${where}.docker`),
    };
  }
  const cron = r.object(top.cron, 'cron', OPS_KEYS.cron);
  const jobsRaw = r.object(cron.jobs, 'cron.jobs', JOB_NAMES);
  const jobs = {} as Record<JobName, JobConfig>;
  for (const name of JOB_NAMES) {
    const j = r.object(jobsRaw[name], `cron.jobs.${name}`, OPS_KEYS.job);
    jobs[name] = {
      schedule: r.string(j.schedule, `cron.jobs.${name}.schedule`, DEFAULT_SCHEDULES[name]).trim(),
      enabled: r.bool(j.enabled, `cron.jobs.${name}.enabled`, true),
    };
  }
  const history = r.string(cron.historyFile, 'cron.historyFile');
  return {
    source: ctx.file,
    targets,
    cron: {
      timezone: timezone(r, cron.timezone, 'cron.timezone'),
      historyFile: history ? path.resolve(ctx.baseDir, history) : path.join(ctx.stateDir, 'cron', 'history.jsonl'),
      jobs,
    },
  };
}

/** Where the file is: an explicit `--config` path or PGSTEWARD_CONFIG (which must exist), else the optional default. */
export function configFileLocation(opts: { file?: string | undefined; env?: NodeJS.ProcessEnv; repoRoot: string }): { file: string; explicit: boolean } {
  const env = opts.env ?? process.env;
  const explicit = opts.file ?? (env.PGSTEWARD_CONFIG || undefined);
  return explicit ? { file: path.resolve(explicit), explicit: true } : { file: path.join(opts.repoRoot, CONFIG_FILE_NAME), explicit: false };
}

/**
 * The file's parsed JSON, or undefined when the default file is absent. An explicit path must
 * exist; bad JSON is named with the file and the parser's first line.
 */
export function readConfigFile(opts: { file?: string | undefined; env?: NodeJS.ProcessEnv; repoRoot: string }): { file: string; raw: unknown } | undefined {
  const { file, explicit } = configFileLocation(opts);
  if (!existsSync(file)) {
    if (explicit) throw new UserError(`config file ${file} does not exist`, 'check the --config path or PGSTEWARD_CONFIG');
    return undefined;
  }
  try {
    return { file, raw: JSON.parse(readFileSync(file, 'utf8')) };
  } catch (e) {
    throw new UserError(`config file ${file} is not valid JSON: ${((e as Error).message ?? '').split('\n')[0]}`, 'fix the JSON syntax');
  }
}

/** Reads the ops sections of the config file (see readConfigFile for which file). */
export function loadOpsConfig(opts: { file?: string | undefined; env?: NodeJS.ProcessEnv; repoRoot: string; stateDir: string }): OpsConfig {
  const found = readConfigFile(opts);
  if (!found) return parseOpsConfig(undefined, { file: undefined, baseDir: opts.repoRoot, stateDir: opts.stateDir });
  return parseOpsConfig(found.raw, { file: found.file, baseDir: path.dirname(found.file), stateDir: opts.stateDir });
}
