import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EXIT, UserError, errorLine, isUserError } from '../errors.ts';
import { scrub } from '../secrets.ts';
import { paint } from './paint.ts';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  description: string;
  /** Shown in help after the description. */
  valueName?: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** Extra lines after the options: examples, exit codes, environment. */
  details?: string;
  options: Record<string, OptionSpec>;
  /** Accept positional arguments (e.g. a backup file). */
  positionals?: string;
}

/** Flags every target-aware command takes. */
export const TARGET_OPTIONS: Record<string, OptionSpec> = {
  target: { type: 'string', description: 'local (default), dev or prod; also DB_TARGET', valueName: 'NAME' },
  url: { type: 'string', description: 'administrative connection URL (overrides DATABASE_URL); its path names the database, as sqlx reads it; put the password in PGPASSWORD, not here', valueName: 'URL' },
  database: { type: 'string', description: 'database name (default app; also DB_NAME)', valueName: 'NAME' },
  json: { type: 'boolean', description: 'print one JSON document instead of text' },
};

export const EXIT_CODES_HELP = 'Exit codes: 0 success, 1 findings, 2 errors.';

export function helpText(spec: CommandSpec): string {
  const opts = { ...spec.options, help: { type: 'boolean', short: 'h', description: 'show this help' } as OptionSpec };
  const rows = Object.entries(opts).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.valueName ?? 'VALUE'}` : ''}`;
    return [flag, o.description] as const;
  });
  const width = Math.max(...rows.map(([f]) => f.length)) + 2;
  return [
    `${spec.name}: ${spec.summary}`,
    '',
    `Usage: ${spec.name} [options]${spec.positionals ? ` ${spec.positionals}` : ''}`,
    '',
    'Options:',
    ...rows.map(([f, d]) => `  ${f.padEnd(width)}${d}`),
    '',
    spec.details ? spec.details.trimEnd() + '\n' : '',
    EXIT_CODES_HELP,
  ].join('\n');
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parseCommandArgs(spec: CommandSpec, argv: string[]): ParsedArgs | 'help' {
  const options: ParseArgsConfig['options'] = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of Object.entries(spec.options)) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: Boolean(spec.positionals), strict: true });
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0]!.replace(/\. To specify a positional.*$/, '');
    throw new UserError(`${spec.name}: ${msg}`, `see ${spec.name} --help`);
  }
  if (parsed.values.help) return 'help';
  return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
}

/**
 * Runs a command's main function with the project's CLI contract: --help, one-line errors
 * on stderr with secrets scrubbed, no stack traces, exit 0/1/2.
 */
export async function runCommand(spec: CommandSpec, main: (args: ParsedArgs) => Promise<number>, argv = process.argv.slice(2)): Promise<never> {
  let code: number;
  try {
    const args = parseCommandArgs(spec, argv);
    if (args === 'help') {
      process.stdout.write(helpText(spec) + '\n');
      code = EXIT.ok;
    } else {
      code = await main(args);
    }
  } catch (e) {
    code = reportError(spec.name, e);
  }
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}

export function reportError(name: string, e: unknown): number {
  if (isUserError(e)) {
    process.stderr.write(`${paint.red('error')}: ${scrub(e.line)}\n`);
    return e.exitCode;
  }
  process.stderr.write(`${paint.red('error')}: ${name}: ${scrub(errorLine(e) || 'unknown error')}; this is a bug, please report it (set PGSTEWARD_DEBUG=1 for details)\n`);
  if (process.env.PGSTEWARD_DEBUG) process.stderr.write(scrub(String((e as Error)?.stack ?? e)) + '\n');
  return EXIT.error;
}
