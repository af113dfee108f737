import { loadOpsConfig, type OpsConfig } from '../config/ops-config.ts';
import type { TargetConfig } from '../config/target-settings.ts';
import { createLogger, type Logger } from '../log.ts';
import { REPO_ROOT } from '../paths.ts';
import type { OptionSpec, ParsedArgs } from './command.ts';
import { targetConfigFromArgs } from './target-args.ts';

/** Shared by the commands that read the ops config (backups, restores, cron, reset-db's safety backup). */
export const CONFIG_OPTION: Record<string, OptionSpec> = {
  config: { type: 'string', description: 'project config file (default ./pgsteward.config.json if present; also PGSTEWARD_CONFIG), see docs/configuration.md', valueName: 'FILE' },
};

export interface OpsContext {
  config: TargetConfig;
  ops: OpsConfig;
  log: Logger;
}

/** The target, the ops config and a logger, from a command's flags and environment. */
export function opsContext(name: string, args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): OpsContext {
  const config = targetConfigFromArgs(args, env);
  const ops = loadOpsConfig({ file: args.values.config as string | undefined, env, repoRoot: REPO_ROOT, stateDir: config.stateDir });
  return { config, ops, log: createLogger({ name }) };
}
