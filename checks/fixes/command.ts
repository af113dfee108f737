import path from 'node:path';
import type { ConnectionSettings } from '../../core/db/url.ts';
import { UserError } from '../../core/errors.ts';
import type { ChecksReport } from '../types.ts';
import { formatWriteFixes, writeFixes, writeFixesExitCode, writeFixesJson } from './write.ts';

/** `--write-fixes [DIR]` and `--dry-run`, as the checks command receives them. */
export interface WriteFixesRequest {
  dir: string;
  dryRun: boolean;
}

/**
 * Pure: what the flags ask for; undefined for an ordinary checks run. DIR is the one
 * positional argument, allowed only with --write-fixes; it defaults to the migrations folder
 * in use (--migrations, else the default).
 */
export function writeFixesRequest(values: Record<string, unknown>, positionals: readonly string[], migrationsDir: string): WriteFixesRequest | undefined {
  if (!values['write-fixes']) {
    if (positionals.length) throw new UserError(`checks: unexpected argument "${positionals[0]!.slice(0, 80)}"`, 'a folder argument goes with --write-fixes: checks --write-fixes DIR');
    if (values['dry-run']) throw new UserError('checks: --dry-run goes with --write-fixes', 'run checks --write-fixes --dry-run to see the files without writing them');
    return undefined;
  }
  if (positionals.length > 1) throw new UserError(`checks: --write-fixes takes one folder, got ${positionals.length}`, 'pass one migrations folder: checks --write-fixes DIR');
  return { dir: path.resolve(positionals[0] ?? migrationsDir), dryRun: Boolean(values['dry-run']) };
}

/** Writes (or, with --dry-run, prints) the fixes for a report; prints the human or JSON summary; returns the exit code. */
export async function runWriteFixes(report: ChecksReport, connection: ConnectionSettings, request: WriteFixesRequest, json: boolean): Promise<number> {
  const result = await writeFixes({ report, connection, dir: request.dir, dryRun: request.dryRun });
  const exitCode = writeFixesExitCode(result);
  process.stdout.write(json ? JSON.stringify(writeFixesJson(result, exitCode), null, 2) + '\n' : formatWriteFixes(result));
  return exitCode;
}
