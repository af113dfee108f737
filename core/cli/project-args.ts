import path from 'node:path';
import { loadProjectConfig, type ProjectConfig } from '../config/project-config.ts';
import { stateDirFor, type TargetDefaults } from '../config/target-settings.ts';
import { MIGRATIONS_DIR, REPO_ROOT } from '../paths.ts';
import type { ParsedArgs } from './command.ts';
import { UserError } from '../errors.ts';

/** The project configuration file a command's `--config` (else PGSTEWARD_CONFIG, else the repository's) names, validated. */
export function projectConfigFromArgs(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): ProjectConfig {
  return loadProjectConfig({ file: args.values.config as string | undefined, env, repoRoot: REPO_ROOT, stateDir: stateDirFor(env, REPO_ROOT) });
}

/** What the file says about the target, below every flag and variable (see resolveTarget). */
export function targetDefaultsOf(project: ProjectConfig): TargetDefaults {
  return { database: project.database, pool: project.pool };
}

/** `--migrations DIR`, else the file's `migrations`, else ./migrations. */
export function migrationsDirFromArgs(args: ParsedArgs, project: ProjectConfig): string {
  const flag = args.values.migrations;
  return typeof flag === 'string' ? path.resolve(flag) : (project.migrationsDir ?? MIGRATIONS_DIR);
}

/** The flags of every command that reads a migrations folder (setup-db, status, checks). */
export const MIGRATION_OPTIONS = {
  migrations: { type: 'string', description: "migrations folder (default: the config file's migrations, else ./migrations)", valueName: 'DIR' },
  'ignore-missing': { type: 'boolean', description: "pass over applied versions that have no file, as sqlx's --ignore-missing (config: ignoreMissing)" },
} as const;

/** `--ignore-missing`, else the file's `ignoreMissing`. */
export function ignoreMissingFromArgs(args: ParsedArgs, project: ProjectConfig): boolean {
  return args.values['ignore-missing'] === true || project.ignoreMissing;
}

/** `--lock-wait-timeout SECONDS` (setup-db): how long to wait for the migration lock; default 60 s. */
export function lockWaitTimeoutFromArgs(args: ParsedArgs): number | undefined {
  const raw = args.values['lock-wait-timeout'];
  if (raw === undefined) return undefined;
  const s = Number(raw);
  if (typeof raw !== 'string' || !/^\d+(\.\d+)?$/.test(raw) || !(s > 0) || s > 86_400) {
    throw new UserError(`--lock-wait-timeout must be a number of seconds between 0 and 86400, got "${String(raw).slice(0, 20)}"`, 'pass e.g. --lock-wait-timeout 120');
  }
  return Math.round(s * 1000);
}
