/**
 * Errors a user can act on. `problem` says what is wrong, `fix` says what to do;
 * the CLI prints them on one line and exits with `exitCode`, never a stack trace.
 */
export const EXIT = { ok: 0, findings: 1, error: 2 } as const;
/** 128 + the signal's number, the shell's convention: Ctrl-C exits 130, a SIGTERM 143. */
export const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;
export type InterruptSignal = keyof typeof SIGNAL_EXIT;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT] | (typeof SIGNAL_EXIT)[InterruptSignal];

export class UserError extends Error {
  readonly fix: string | undefined;
  readonly exitCode: ExitCode;
  constructor(problem: string, fix?: string, exitCode: ExitCode = EXIT.error) {
    super(problem);
    this.name = 'UserError';
    this.fix = fix;
    this.exitCode = exitCode;
  }
  /** The one line the CLI prints. */
  get line(): string {
    return this.fix ? `${this.message}; ${this.fix}` : this.message;
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/**
 * The one line to show for any error: a UserError's problem and fix, or the first line of
 * anything else. Callers scrub secrets where the line leaves the process.
 */
export function errorLine(e: unknown): string {
  if (isUserError(e)) return e.line;
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n')[0] ?? '';
}

/** Work stopped by SIGINT or SIGTERM after it cleaned up: one line, exit 130 or 143. */
export class Interrupted extends UserError {
  readonly signal: InterruptSignal;
  constructor(signal: InterruptSignal, problem: string, fix?: string) {
    super(problem, fix, SIGNAL_EXIT[signal]);
    this.name = 'Interrupted';
    this.signal = signal;
  }
}

/** Ctrl-C (or end of input) at a confirmation prompt. */
export function cancelled(): Interrupted {
  return new Interrupted('SIGINT', 'cancelled; nothing was changed');
}

/** The signal an AbortSignal was aborted with (see core/cli/signals.ts), SIGINT when it says nothing. */
export function interruptSignal(signal: AbortSignal): InterruptSignal {
  return signal.reason === 'SIGTERM' ? 'SIGTERM' : 'SIGINT';
}
