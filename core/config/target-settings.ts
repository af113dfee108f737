import path from 'node:path';
import { UserError } from '../errors.ts';
import { parseDatabaseUrl, isLoopback, type ConnectionSettings } from '../db/url.ts';
import { validateName, LOGIN_ROLES, type LoginRole } from './role-names.ts';

export const TARGET_KINDS = ['local', 'dev', 'prod'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

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
}

export interface TargetFlags {
  target?: string | undefined;
  url?: string | undefined;
  database?: string | undefined;
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

export function parsePoolBudget(env: NodeJS.ProcessEnv): PoolBudget {
  const max = intSetting(env, 'DB_POOL_MAX', 10, 1, 1000);
  const min = intSetting(env, 'DB_POOL_MIN', 2, 0, 1000);
  if (min > max) throw new UserError(`DB_POOL_MIN (${min}) is larger than DB_POOL_MAX (${max})`, 'lower DB_POOL_MIN or raise DB_POOL_MAX');
  return { max, min, instances: intSetting(env, 'DB_APP_INSTANCES', 1, 1, 100) };
}

/** The connection limit for the app role: the whole pool budget, no more. */
export function appConnectionLimit(pool: PoolBudget): number {
  return pool.max * pool.instances;
}

/**
 * Resolves the target from flags and environment. Pure: reads nothing but its arguments.
 * `--url` without `--target` means `dev` for a loopback host and `prod` otherwise, so a remote
 * database is never treated as disposable by accident.
 */
export function resolveTarget(flags: TargetFlags, env: NodeJS.ProcessEnv, repoRoot: string): TargetConfig {
  const explicitKind = flags.target ?? env.DB_TARGET;
  let admin: ConnectionSettings | undefined;
  if (flags.url) admin = parseDatabaseUrl(flags.url, '--url');

  let kind: TargetKind;
  if (explicitKind) {
    if (!(TARGET_KINDS as readonly string[]).includes(explicitKind)) {
      throw new UserError(`unknown target "${explicitKind.slice(0, 30)}"`, `use --target ${TARGET_KINDS.join('|')}`);
    }
    kind = explicitKind as TargetKind;
  } else {
    kind = admin ? (isLoopback(admin.host) ? 'dev' : 'prod') : 'local';
  }

  if (!admin && kind !== 'local') {
    if (env.DATABASE_URL) admin = parseDatabaseUrl(env.DATABASE_URL, 'DATABASE_URL');
    else if (kind === 'dev') {
      admin = {
        host: '127.0.0.1',
        port: intSetting(env, 'DEV_DB_PORT', DEFAULT_DEV_PORT, 1, 65535),
        database: 'postgres',
        user: env.DEV_DB_ADMIN_USER ?? 'postgres',
        password: env.DEV_DB_ADMIN_PASSWORD,
        ssl: 'disable',
      };
    } else {
      throw new UserError('the prod target needs DATABASE_URL', 'set DATABASE_URL to the RDS master connection (postgres://user:password@host:5432/postgres) or pass --url');
    }
  }
  if (kind === 'prod' && admin && admin.ssl === 'disable' && !isLoopback(admin.host)) {
    throw new UserError('the prod target refuses sslmode=disable', 'use sslmode=require or verify-full');
  }

  const database = validateName(flags.database ?? env.DB_NAME ?? 'app');
  const stateDir = path.resolve(repoRoot, env.PGSTEWARD_HOME ?? '.pgsteward');
  const rolePasswords: Partial<Record<LoginRole, string>> = {};
  for (const role of LOGIN_ROLES) {
    const v = env[`DB_${role.toUpperCase()}_PASSWORD`];
    if (v) rolePasswords[role] = v;
  }

  return {
    kind,
    database,
    stateDir,
    pool: parsePoolBudget(env),
    admin,
    local: {
      binDir: env.LOCAL_PG_BIN || undefined,
      dataDir: env.LOCAL_PG_DATA ? path.resolve(repoRoot, env.LOCAL_PG_DATA) : undefined,
      port: intSetting(env, 'LOCAL_PG_PORT', DEFAULT_LOCAL_PORT, 1024, 65535),
    },
    rolePasswords,
  };
}
