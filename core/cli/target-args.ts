import { resolveTarget, type TargetConfig } from '../config/target-settings.ts';
import { REPO_ROOT } from '../paths.ts';
import type { ParsedArgs } from './command.ts';

export function targetConfigFromArgs(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): TargetConfig {
  const v = args.values;
  return resolveTarget(
    { target: v.target as string | undefined, url: v.url as string | undefined, database: v.database as string | undefined },
    env,
    REPO_ROOT,
  );
}
