import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { $, type Options } from 'zx/core';
import type { ConnectionSettings } from '../db/url.ts';
import { UserError } from '../errors.ts';
import { scrub } from '../secrets.ts';
import { invocation, type PgTool } from './invoke.ts';

/**
 * The one way pg_dump, pg_restore and psql are run: zx's `$` quotes every argument, spawns
 * the tool in its own process group (a Ctrl-C meant for us must not kill a dump we wait for),
 * never throws on a non-zero exit (`nothrow`), and kills the group on abort or timeout. The
 * connection travels in libpq variables (see `invocation`), never on the command line.
 */

export interface ToolRunOptions {
  /** Feed this file to the tool's standard input (pg_restore inside a container reads the dump that way). */
  stdinFile?: string;
  /** `stream`: the caller reads `run.stdout` (a dump); `capture`: collected into `exit.stdout` (a listing); default `ignore`. */
  stdout?: 'ignore' | 'stream' | 'capture';
  /** Each line the tool writes to stderr, as it comes (pg_restore --verbose progress). */
  onStderrLine?: (line: string) => void;
  /** Aborting kills the tool's process group. */
  signal?: AbortSignal;
  timeoutMs?: number;
  applicationName?: string;
  env?: NodeJS.ProcessEnv;
}

export interface ToolExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last 16 KiB of stderr. */
  stderr: string;
  /** With `stdout: 'capture'`. */
  stdout: string;
  aborted: boolean;
  timedOut: boolean;
}

export interface ToolRun {
  /** The tool's standard output, with `stdout: 'stream'`. */
  stdout: Readable | undefined;
  exit: Promise<ToolExit>;
  /** Stops the tool (its whole process group); harmless once it has exited. */
  kill(): void;
}

const STDERR_TAIL = 16_384;

/**
 * zx keeps every chunk of output in memory for `ProcessOutput.stdout`; a dump can be larger
 * than memory, and the caller streams or collects what it needs itself, so nothing is kept.
 */
function keepNothing(): NonNullable<Options['store']> {
  const none = { length: 0, push: () => 0, join: () => '', reduce: <A>(_f: unknown, init: A) => init, *[Symbol.iterator]() {} };
  return { stdout: none, stderr: none, stdall: none } as unknown as NonNullable<Options['store']>;
}

/** Starts `tool args` against `conn`. */
export function startTool(tool: PgTool, args: string[], conn: ConnectionSettings, opts: ToolRunOptions = {}): ToolRun {
  const inv = invocation(tool, args, conn, opts.applicationName ?? `pgsteward ${tool.name}`, opts.env ?? process.env);
  const ac = new AbortController();
  let aborted = false;
  const onAbort = () => {
    aborted = true;
    if (!ac.signal.aborted) ac.abort();
  };
  if (opts.signal?.aborted) aborted = true;
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  const mode = opts.stdout ?? 'ignore';
  const started = Date.now();
  const p = $({
    env: inv.env,
    // exec: the shell becomes the tool, so its exit code and signal are the tool's own.
    prefix: 'exec ',
    postfix: '',
    detached: true,
    nothrow: true,
    quiet: true,
    verbose: false,
    ac,
    store: keepNothing(),
    stdio: [opts.stdinFile ? 'pipe' : 'ignore', mode === 'ignore' ? 'ignore' : 'pipe', 'pipe'],
    ...(opts.stdinFile ? { input: createReadStream(opts.stdinFile) } : {}),
    ...(opts.timeoutMs ? { timeout: opts.timeoutMs, timeoutSignal: 'SIGTERM' as const } : {}),
  })`${inv.file} ${inv.args}`;
  if (aborted) ac.abort();

  let stderr = '';
  let partial = '';
  p.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-STDERR_TAIL);
    if (!opts.onStderrLine) return;
    const lines = (partial + d).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) if (l) opts.onStderrLine(l);
  });
  let stdout = '';
  if (mode === 'capture') p.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));

  const exit = (async (): Promise<ToolExit> => {
    const out = await p;
    opts.signal?.removeEventListener('abort', onAbort);
    if (partial && opts.onStderrLine) opts.onStderrLine(partial);
    const signal = (out.signal as NodeJS.Signals | null) ?? null;
    const timedOut = Boolean(opts.timeoutMs && signal && !aborted && Date.now() - started >= opts.timeoutMs);
    return { code: out.exitCode, signal, stderr, stdout, aborted, timedOut };
  })();
  return {
    stdout: mode === 'stream' ? (p.stdout ?? undefined) : undefined,
    exit,
    kill: () => {
      if (p.stage === 'running' && !ac.signal.aborted) ac.abort();
    },
  };
}

/** Runs a tool to its end; a failure becomes one line naming the tool's own reason and `fix`. */
export async function runTool(tool: PgTool, args: string[], conn: ConnectionSettings, opts: ToolRunOptions & { fix: string }): Promise<ToolExit> {
  const exit = await startTool(tool, args, conn, opts).exit;
  const failure = toolFailure(tool.name, exit, opts.fix, tool.placement.kind === 'docker' ? 'docker' : tool.path);
  if (failure) throw failure;
  return exit;
}

/** Pure: the line of a tool's stderr that says why it failed, without the tool's prefix, scrubbed of secrets. */
export function lastErrorLine(toolName: string, stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const err = [...lines].reverse().find((l) => /error|fatal|failed/i.test(l)) ?? lines.at(-1) ?? 'no output';
  return scrub(err.replace(new RegExp(`^${toolName}: (error: )?`), ''));
}

/** Pure: undefined when the tool succeeded, else the error to throw. Exit 126/127 come from the shell: the file could not be run. */
export function toolFailure(toolName: string, exit: ToolExit, fix: string, file = toolName): UserError | undefined {
  if (exit.code === 0) return undefined;
  if (exit.code === 127 || exit.code === 126) return new UserError(`cannot run ${file}`, 'install the PostgreSQL client tools or set PG_BIN');
  if (exit.timedOut) return new UserError(`${toolName} did not finish in time and was stopped`, fix);
  if (exit.aborted) return new UserError(`${toolName} was stopped`, fix);
  if (exit.signal) return new UserError(`${toolName} was killed by ${exit.signal}: ${lastErrorLine(toolName, exit.stderr)}`, fix);
  return new UserError(`${toolName} failed: ${lastErrorLine(toolName, exit.stderr)}`, fix);
}
