import path from 'node:path';
import { UserError } from '../errors.ts';
import { urlCarriesPassword, type ConnectionSettings } from '../db/url.ts';
import { validateDatabaseName, LOGIN_ROLES, type LoginRole } from './role-names.ts';
import { decideTarget, type KindDecision, type TargetKind } from './target-rules.ts';

export { TARGET_KINDS, type TargetKind } from './target-rules.ts';

export interface PoolBudget {
  /** Connections one application instance may hold (design record: 10). */
  max: number;
  /** Connections it keeps open (design record: 2). */
  min: number;
  /** Application instances sharing the database; the app role's CONNECTION LIMIT is max × instances. */
  instances: number;
}

export interface LocalSettings {
  /** Folder with postgres, initdb and pg_ctl; undefined means the embedded PostgreSQL 17 binaries. */
  binDir: string | undefined;
  /** Data directory; undefined means `<stateDir>/local/pg<major>`, decided once the binaries' major is known. */
  dataDir: string | undefined;
  port: number;
}

export interface TargetConfig {
  kind: TargetKind;
  database: string;
  /** Where the tool keeps state: local clusters, generated secrets, backups, cron history. Git-ignored. */
  stateDir: string;
  pool: PoolBudget;
  /** Administrative connection (superuser or RDS master). Undefined for `local` until its cluster is running. */
  admin: ConnectionSettings | undefined;
  local: LocalSettings;
  /** Role passwords supplied by the environment; missing ones come from the local secrets file or are left unchanged. */
  rolePasswords: Partial<Record<LoginRole, string>>;
  /** Things the user should know that do not stop the command (a password on the command line). */
  warnings?: readonly string[];
}

export interface TargetFlags {
  target?: string | undefined;
  url?: string | undefined;
  database?: string | undefined;
}

/** What the project configuration file says, below every flag and variable. */
export interface TargetDefaults {
  /** The file's `database`: used when neither the URL, --database nor DB_NAME names one. */
  database?: string | undefined;
  pool?: Partial<PoolBudget> | undefined;
}

export const DEFAULT_LOCAL_PORT = 54317;
export const DEFAULT_DEV_PORT = 15432;

function intSetting(env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UserError(`${name} must be a whole number from ${min} to ${max}, got "${raw.slice(0, 20)}"`, `set ${name} to a value in range or unset it`);
  }
  return n;
}

/** The design record's budget: 10 connections per instance, 2 kept open, one instance. */
export const DEFAULT_POOL: PoolBudget = { max: 10, min: 2, instances: 1 };

/** The pool budget: DB_POOL_MAX, DB_POOL_MIN and DB_APP_INSTANCES over `base` (the config file's `pool`, else the defaults). */
export function parsePoolBudget(env: NodeJS.ProcessEnv, base: Partial<PoolBudget> = {}): PoolBudget {
  const b = { ...DEFAULT_POOL, ...base };
  const max = intSetting(env, 'DB_POOL_MAX', b.max, 1, 1000);
  const min = intSetting(env, 'DB_POOL_MIN', b.min, 0, 1000);
  if (min > max) throw new UserError(`DB_POOL_MIN (${min}) is larger than DB_POOL_MAX (${max})`, 'lower DB_POOL_MIN or raise DB_POOL_MAX (or pool.min / pool.max in the config file)');
  return { max, min, instances: intSetting(env, 'DB_APP_INSTANCES', b.instances, 1, 100) };
}

/** The connection limit for the app role: the whole pool budget, no more. */
export function appConnectionLimit(pool: PoolBudget): number {
  return pool.max * pool.instances;
}

/** The database every command uses when the URL and the flags name none; the maintenance database is never managed. */
export const DEFAULT_DATABASE = 'app';
export const MAINTENANCE_DATABASE = 'postgres';

/**
 * The URL rule, the same for every command: the path of the URL names the application database,
 * as in sqlx's DATABASE_URL (`postgres://…/shop` means the database shop). A URL without a
 * path, or with the maintenance database `postgres` (which pgsteward never manages), names only
 * the server. Flags beat the environment; two different names at the same level are refused,
 * because guessing which one was meant is how the wrong database gets reset.
 */
export function decideDatabase(i: { flagDatabase?: string | undefined; envDatabase?: string | undefined; url?: KindDecision['url']; configDatabase?: string | undefined }): { database: string; from: string } {
  const urlDb = i.url && i.url.settings.database !== '' && i.url.settings.database !== MAINTENANCE_DATABASE ? i.url.settings.database : undefined;
  const levels: Array<Array<{ name: string | undefined; from: string }>> = [
    [
      { name: i.flagDatabase || undefined, from: '--database' },
      { name: i.url?.source === '--url' ? urlDb : undefined, from: 'the --url path' },
    ],
    [
      { name: i.envDatabase || undefined, from: 'DB_NAME' },
      { name: i.url?.source === 'DATABASE_URL' ? urlDb : undefined, from: 'the DATABASE_URL path' },
    ],
  ];
  for (const level of levels) {
    const named = level.filter((l): l is { name: string; from: string } => l.name !== undefined);
    if (named.length === 2 && named[0]!.name !== named[1]!.name) {
      throw new UserError(
        `${named[0]!.from} names database "${named[0]!.name.slice(0, 64)}" but ${named[1]!.from} names "${named[1]!.name.slice(0, 64)}"`,
        'name the database in one place (the URL path names the application database, as sqlx reads it)',
      );
    }
    if (named[0]) return { database: validateDatabaseName(named[0].name), from: named[0].from };
  }
  if (i.configDatabase) return { database: validateDatabaseName(i.configDatabase, 'database name in the config file'), from: 'the config file' };
  return { database: DEFAULT_DATABASE, from: 'the default' };
}

/** Passwords given by hand must be worth having: at least this long, with this many different characters. */
export const MIN_PASSWORD_LENGTH = 16;
export const MIN_PASSWORD_DISTINCT = 8;

export function checkGivenPassword(name: string, pw: string): string {
  if (pw.length < MIN_PASSWORD_LENGTH || new Set(pw).size < MIN_PASSWORD_DISTINCT) {
    throw new UserError(
      `${name} is too weak (${pw.length} characters, ${new Set(pw).size} different); nothing was changed`,
      `use at least ${MIN_PASSWORD_LENGTH} characters with at least ${MIN_PASSWORD_DISTINCT} different ones (e.g. openssl rand -base64 24), or unset ${name} to keep the current one`,
    );
  }
  return pw;
}

/** Where the tool keeps its state: PGSTEWARD_HOME, else `<repo>/.pgsteward`. */
export function stateDirFor(env: NodeJS.ProcessEnv, repoRoot: string): string {
  return path.resolve(repoRoot, env.PGSTEWARD_HOME ?? '.pgsteward');
}

/**
 * Resolves the target from flags and environment. Pure: reads nothing but its arguments.
 * The kind and the server come from the one table in target-rules.ts; the database from the
 * one URL rule above.
 */
export function resolveTarget(flags: TargetFlags, env: NodeJS.ProcessEnv, repoRoot: string, defaults: TargetDefaults = {}): TargetConfig {
  const decision = decideTarget({ flagTarget: flags.target, envTarget: env.DB_TARGET, flagUrl: flags.url, envUrl: env.DATABASE_URL, devHost: env.DEV_DB_HOST });
  const { kind, url } = decision;
  const { database } = decideDatabase({ flagDatabase: flags.database, envDatabase: env.DB_NAME, url, configDatabase: defaults.database });
  const warnings: string[] = [];
  if (flags.url && urlCarriesPassword(flags.url)) {
    warnings.push('--url carries a password, which every local user can read from the process list; pass the URL in DATABASE_URL, or its password in PGPASSWORD');
  }

  let admin: ConnectionSettings | undefined;
  if (url) {
    // The server and its administrator; the database part is the maintenance database, where roles and databases are made.
    admin = { ...url.settings, database: MAINTENANCE_DATABASE, password: url.settings.password ?? (env.PGPASSWORD || undefined) };
  } else if (kind === 'dev') {
    admin = {
      host: env.DEV_DB_HOST || '127.0.0.1',
      port: intSetting(env, 'DEV_DB_PORT', DEFAULT_DEV_PORT, 1, 65535),
      database: MAINTENANCE_DATABASE,
      user: env.DEV_DB_ADMIN_USER ?? 'postgres',
      password: env.DEV_DB_ADMIN_PASSWORD ?? (env.PGPASSWORD || undefined),
      ssl: 'disable',
    };
  }

  const stateDir = stateDirFor(env, repoRoot);
  const rolePasswords: Partial<Record<LoginRole, string>> = {};
  for (const role of LOGIN_ROLES) {
    const name = `DB_${role.toUpperCase()}_PASSWORD`;
    const v = env[name];
    if (v) rolePasswords[role] = checkGivenPassword(name, v);
  }

  return {
    kind,
    database,
    stateDir,
    pool: parsePoolBudget(env, defaults.pool),
    admin,
    local: {
      binDir: env.LOCAL_PG_BIN || undefined,
      dataDir: env.LOCAL_PG_DATA ? path.resolve(repoRoot, env.LOCAL_PG_DATA) : undefined,
      port: intSetting(env, 'LOCAL_PG_PORT', DEFAULT_LOCAL_PORT, 1024, 65535),
    },
    rolePasswords,
    warnings,
  };
}
