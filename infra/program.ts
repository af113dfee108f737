import * as pulumi from '@pulumi/pulumi';
import { isUserError } from '../core/errors.ts';
import { readMigrations } from '../core/migrations/files.ts';
import { MIGRATIONS_DIR } from '../core/paths.ts';
import { parseStackConfig, type StackConfig } from './config.ts';
import { devStack } from './dev/stack.ts';
import { prodStack } from './prod/stack.ts';
import { setupKey } from './setup-key.ts';

export interface ProgramOptions {
  /** The migrations to apply; tests point this at a modified copy. */
  migrationsDir?: string;
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
  try {
    key = setupKey({ database: config.database, pool: config.pool, migrations: readMigrations(migrationsDir) });
  } catch (e) {
    throw asRunError(e);
  }
  const ctx = { project: pulumi.getProject(), stack: pulumi.getStack(), setupKey: key, migrationsDir };
  return config.target === 'dev' ? devStack(config, ctx) : await prodStack(config, ctx);
}
