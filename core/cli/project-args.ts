import path from 'node:path';
import { loadProjectConfig, type ProjectConfig } from '../config/project-config.ts';
import { stateDirFor, type TargetDefaults } from '../config/target-settings.ts';
import { MIGRATIONS_DIR, REPO_ROOT } from '../paths.ts';
import type { ParsedArgs } from './command.ts';

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
