import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';
import { errorLine } from './errors.ts';
import { scrub } from './secrets.ts';

export type Logger = PinoLogger;

export interface LoggerOptions {
  /** Component name, e.g. `backup-db` or `cron`. */
  name: string;
  /** Where lines go; default stderr, so stdout stays free for a command's result (and --json). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Force JSON or pretty output; default: pretty on a TTY, JSON lines otherwise. */
  pretty?: boolean;
  /** Default PGSTEWARD_LOG_LEVEL, else `info`. */
  level?: string;
}

/**
 * Keys whose values are secret wherever they appear in a log object. Redaction by key is the
 * first fence; `scrub` on every serialized line is the second, and catches a password a
 * library echoed into a message.
 */
export const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'PGPASSWORD',
  '*.PGPASSWORD',
  'env.PGPASSWORD',
  'secretAccessKey',
  '*.secretAccessKey',
  'sessionToken',
  '*.sessionToken',
  'url',
  '*.url',
  'connectionString',
  '*.connectionString',
];

export const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function levelFrom(env: NodeJS.ProcessEnv, given: string | undefined): string {
  const v = (given ?? env.PGSTEWARD_LOG_LEVEL ?? 'info').toLowerCase();
  return (LEVELS as readonly string[]).includes(v) ? v : 'info';
}

/**
 * The project's structured logger: pino, JSON lines off a TTY, pino-pretty on one,
 * with secrets redacted by key and scrubbed from every line.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const stream = opts.stream ?? process.stderr;
  const usePretty = opts.pretty ?? Boolean(stream.isTTY);
  const destination: DestinationStream = usePretty
    ? pretty({
        destination: stream,
        colorize: Boolean(stream.isTTY) && !process.env.NO_COLOR,
        translateTime: 'SYS:HH:MM:ss',
        ignore: 'pid,hostname',
        sync: true,
      })
    : (stream as DestinationStream);
  return pino(
    {
      name: opts.name,
      level: levelFrom(process.env, opts.level),
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '***' },
      serializers: { err: errorSerializer },
      hooks: { streamWrite: (line) => scrub(line) },
    },
    destination,
  );
}

/** Errors as one line of message and code: no stack traces in logs either (PGSTEWARD_DEBUG adds them). */
function errorSerializer(e: unknown): Record<string, unknown> {
  const err = e as { message?: string; code?: string; name?: string; stack?: string; line?: string };
  const out: Record<string, unknown> = { message: scrub(errorLine(e)) };
  if (err?.code) out.code = err.code;
  if (process.env.PGSTEWARD_DEBUG && err?.stack) out.stack = scrub(err.stack);
  return out;
}

/** A logger that drops everything, for library calls whose caller did not ask for logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
