/**
 * Errors a user can act on. `problem` says what is wrong, `fix` says what to do;
 * the CLI prints them on one line and exits with `exitCode`, never a stack trace.
 */
export const EXIT = { ok: 0, findings: 1, error: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

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
