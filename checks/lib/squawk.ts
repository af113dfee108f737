import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { UserError } from '../../core/errors.ts';
import { REPO_ROOT } from '../../core/paths.ts';

const run = promisify(execFile);

export interface SquawkViolation {
  file: string;
  /** 1-based, as editors count. */
  line: number;
  rule: string;
  message: string;
  help: string | null;
}

/** The native squawk binary shipped by the squawk-cli npm package (skipping its node wrapper). */
export function squawkBinary(): string {
  try {
    const wrapper = createRequire(import.meta.url)('squawk-cli/js/index.js') as { getBinaryPath(): string };
    return wrapper.getBinaryPath();
  } catch {
    const bin = path.join(REPO_ROOT, 'node_modules', '.bin', 'squawk');
    if (existsSync(bin)) return bin;
    throw new UserError('squawk is not installed', 'run npm install (the squawk-cli package ships it)');
  }
}

export interface SquawkOptions {
  rules: readonly string[];
  pgVersion: string;
  /** sqlx wraps each file in a transaction unless it starts with `-- no-transaction`. */
  assumeInTransaction: boolean;
}

/** Lints files (paths relative to `cwd`) and returns the violations of the enabled rules only. */
export async function runSquawk(cwd: string, files: readonly string[], opts: SquawkOptions): Promise<SquawkViolation[]> {
  if (files.length === 0 || opts.rules.length === 0) return [];
  // --include switches on the opt-in rules among ours and makes squawk reject an unknown rule name.
  const args = ['--reporter', 'json', '--pg-version', opts.pgVersion, '--include', opts.rules.join(','), ...(opts.assumeInTransaction ? ['--assume-in-transaction'] : []), '--', ...files];
  let stdout: string;
  try {
    ({ stdout } = await run(squawkBinary(), args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 }));
  } catch (e) {
    const err = e as { code?: number | string; stdout?: string; stderr?: string; message: string };
    if (err.code === 1 && err.stdout) stdout = err.stdout;
    else throw new UserError(`squawk failed: ${(err.stderr || err.message).trim().split('\n')[0]}`, 'check checks.squawk.rules in the configuration file');
  }
  const enabled = new Set(opts.rules);
  const raw = JSON.parse(stdout || '[]') as Array<{ file: string; line: number; rule_name: string; message: string; help: string | null }>;
  return raw
    .filter((v) => enabled.has(v.rule_name))
    .map((v) => ({ file: v.file, line: v.line + 1, rule: v.rule_name, message: v.message, help: v.help }));
}
