import path from 'node:path';
import { NAME_PATTERN, SYSTEM_DATABASES } from './role-names.ts';
import { Reader } from './json-reader.ts';
import { parseChecksSection, type Expectations } from './checks-config.ts';
import { CONFIG_FILE_NAME, parseOpsConfig, readConfigFile, TOP_LEVEL_KEYS, type OpsConfig } from './ops-config.ts';
import { parsePoolBudget, type PoolBudget } from './target-settings.ts';

/**
 * One application's pgsteward.config.json, as a whole: its database, its migrations folder,
 * its pool budget, what the checks hold it to, and the ops sections. Every command that reads
 * the file validates all of it, so a typo anywhere stops the first command that reads it.
 */

export interface ProjectConfig {
  /** The file it came from; undefined when there is none (every value a default, no policy on). */
  source: string | undefined;
  /** The application's database; undefined leaves it to the URL, --database, DB_NAME or `app`. */
  database: string | undefined;
  /** Absolute (resolved against the file's folder); undefined means the default ./migrations. */
  migrationsDir: string | undefined;
  /** Pass over applied versions with no file (sqlx's --ignore-missing); default false. */
  ignoreMissing: boolean;
  /** The file's pool budget, before DB_POOL_MAX / DB_POOL_MIN / DB_APP_INSTANCES override it. */
  pool: Partial<PoolBudget>;
  /** The checks' settings; `pool` there is the decided budget, environment included. */
  checks: Expectations;
  /** The file has a `checks` section (an ops-only file, as the stacks write for their jobs, has none). */
  hasChecks: boolean;
  ops: OpsConfig;
}

export const POOL_KEYS = ['max', 'min', 'instances'] as const;

function database(r: Reader, v: unknown): string | undefined {
  const name = r.string(v, 'database');
  if (name === undefined) return undefined;
  if (!NAME_PATTERN.test(name) || name.startsWith('pg_')) r.fail('database', `"${name.slice(0, 64)}" is not a database name pgsteward can manage`, 'use 1-48 lower-case letters, digits and underscores, not starting with a digit or pg_');
  if ((SYSTEM_DATABASES as readonly string[]).includes(name)) r.fail('database', `"${name}" is a system database`, 'name the application database');
  return name;
}

function pool(r: Reader, v: unknown): Partial<PoolBudget> {
  const o = r.object(v, 'pool', POOL_KEYS);
  const out: Partial<PoolBudget> = {};
  const max = r.int(o.max, 'pool.max', undefined, 1, 1000);
  const min = r.int(o.min, 'pool.min', undefined, 0, 1000);
  const instances = r.int(o.instances, 'pool.instances', undefined, 1, 100);
  if (max !== undefined) out.max = max;
  if (min !== undefined) out.min = min;
  if (instances !== undefined) out.instances = instances;
  if (max !== undefined && min !== undefined && min > max) r.fail('pool.min', `(${min}) is larger than pool.max (${max})`, 'lower pool.min or raise pool.max');
  return out;
}

/**
 * Pure: the parsed JSON as a complete, typed config. Paths resolve against `baseDir`; the
 * environment is read only for the pool budget's overrides, as every command reads them.
 */
export function parseProjectConfig(raw: unknown, ctx: { file: string | undefined; baseDir: string; stateDir: string; env?: NodeJS.ProcessEnv }): ProjectConfig {
  const r = new Reader(ctx.file ?? CONFIG_FILE_NAME);
  const top = r.object(raw, '', TOP_LEVEL_KEYS);
  const migrations = r.string(top.migrations, 'migrations');
  const filePool = pool(r, top.pool);
  return {
    source: ctx.file,
    database: database(r, top.database),
    migrationsDir: migrations === undefined ? undefined : path.resolve(ctx.baseDir, migrations),
    ignoreMissing: r.bool(top.ignoreMissing, 'ignoreMissing', false),
    pool: filePool,
    checks: parseChecksSection(r, top.checks, { file: ctx.file, pool: parsePoolBudget(ctx.env ?? process.env, filePool) }),
    hasChecks: top.checks !== undefined,
    ops: parseOpsConfig(raw, ctx),
  };
}

/** Reads the file `--config`, PGSTEWARD_CONFIG or `<repoRoot>/pgsteward.config.json` names (see readConfigFile). */
export function loadProjectConfig(opts: { file?: string | undefined; env?: NodeJS.ProcessEnv; repoRoot: string; stateDir: string }): ProjectConfig {
  const found = readConfigFile(opts);
  const env = opts.env ?? process.env;
  if (!found) return parseProjectConfig(undefined, { file: undefined, baseDir: opts.repoRoot, stateDir: opts.stateDir, env });
  return parseProjectConfig(found.raw, { file: found.file, baseDir: path.dirname(found.file), stateDir: opts.stateDir, env });
}

/**
 * Pure: whether the checkout's own file (found at its default place, not named by --config or
 * PGSTEWARD_CONFIG) speaks for a database: only for one its migrations built, that is, one
 * whose sqlx ledger records nothing but files of that folder, with their checksums. Another
 * application's database checked from this checkout is then held to no configuration
 * (generic checks only) rather than to our tables and policies. A named file applies to
 * whatever it is pointed at.
 */
export function speaksFor(opts: { explicit: boolean; source: string | undefined; ledger: ReadonlyArray<{ version: bigint; checksum: Buffer }>; migrations: ReadonlyArray<{ version: bigint; checksum: Buffer }> }): boolean {
  if (opts.explicit || opts.source === undefined) return true;
  if (opts.ledger.length === 0) return false;
  const files = new Map(opts.migrations.map((m) => [m.version, m.checksum]));
  return opts.ledger.every((row) => files.get(row.version)?.equals(row.checksum) === true);
}
