import path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { loadOpsConfig, type OpsConfig } from '../core/config/ops-config.ts';
import { isUserError } from '../core/errors.ts';
import { readMigrations } from '../core/migrations/files.ts';
import { MIGRATIONS_DIR, REPO_ROOT } from '../core/paths.ts';
import { parseStackConfig, type StackConfig } from './config.ts';
import { devStack } from './dev/stack.ts';
import { prodStack } from './prod/stack.ts';
import { setupKey } from './setup-key.ts';

export interface ProgramOptions {
  /** The migrations to apply; tests point this at a modified copy. */
  migrationsDir?: string;
  /** The ops config (schedules, retention); default: pgsteward.config.json as the ops commands find it. */
  ops?: OpsConfig;
}

/** The ops commands' own config, read the way they read it (PGSTEWARD_CONFIG, else the repository's file). */
export function loadStackOpsConfig(env: NodeJS.ProcessEnv = process.env): OpsConfig {
  return loadOpsConfig({ env, repoRoot: REPO_ROOT, stateDir: path.resolve(REPO_ROOT, env.PGSTEWARD_HOME ?? '.pgsteward') });
}

/** A user's mistake, reported by Pulumi as one line without a stack trace. */
function asRunError(e: unknown): unknown {
  return isUserError(e) ? new pulumi.RunError(e.line) : e;
}

export function loadConfig(): StackConfig {
  try {
    return parseStackConfig(pulumi.runtime.allConfig(), pulumi.getStack());
  } catch (e) {
    throw asRunError(e);
  }
}

/**
 * The Pulumi program: config is read and validated once, the migrations are read (and
 * refused if malformed) before anything is declared, then the target's stack is built.
 * The returned object is the stack's outputs.
 */
export async function program(opts: ProgramOptions = {}) {
  const config = loadConfig();
  const migrationsDir = opts.migrationsDir ?? MIGRATIONS_DIR;
  let key: string;
  let ops: OpsConfig;
  try {
    key = setupKey({ database: config.database, pool: config.pool, migrations: readMigrations(migrationsDir) });
    ops = opts.ops ?? loadStackOpsConfig();
  } catch (e) {
    throw asRunError(e);
  }
  const all = pulumi.runtime.allConfig();
  const awsRegion = all['aws:region'] || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined;
  const ctx = { project: pulumi.getProject(), stack: pulumi.getStack(), setupKey: key, migrationsDir, ops, awsRegion };
  try {
    return config.target === 'dev' ? devStack(config, ctx) : await prodStack(config, ctx);
  } catch (e) {
    throw asRunError(e);
  }
}
