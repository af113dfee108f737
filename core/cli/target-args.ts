import { resolveTarget, type TargetConfig, type TargetDefaults } from '../config/target-settings.ts';
import { REPO_ROOT } from '../paths.ts';
import { rememberSecret } from '../secrets.ts';
import { paint } from './paint.ts';
import type { ParsedArgs } from './command.ts';

/**
 * The target every command acts on, from its flags and the environment, with the project
 * configuration file's `database` and `pool` below both; warnings go to stderr once.
 */
export function targetConfigFromArgs(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env, defaults: TargetDefaults = {}): TargetConfig {
  const v = args.values;
  const config = resolveTarget(
    { target: v.target as string | undefined, url: v.url as string | undefined, database: v.database as string | undefined },
    env,
    REPO_ROOT,
    defaults,
  );
  rememberSecret(config.admin?.password);
  for (const pw of Object.values(config.rolePasswords)) rememberSecret(pw);
  for (const w of config.warnings ?? []) process.stderr.write(`${paint.yellow('warning')}: ${w}\n`);
  return config;
}
