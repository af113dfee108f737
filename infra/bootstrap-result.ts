/**
 * Judging a bootstrap run. Neither Docker's provider nor a `CREATE_ONLY` invocation fails a
 * deployment because the code it ran reported a problem in its output, so the stacks check
 * explicitly and fail with the line that explains why. Pure.
 */

export type Verdict = { ok: true; summary: string; settings?: Record<string, string> } | { ok: false; message: string };

/** The last non-empty lines of a log, trimmed: enough to show setup-db's one-line error. */
export function logTail(logs: string | undefined, lines = 5): string {
  if (!logs) return '';
  return logs
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l !== '')
    .slice(-lines)
    .join(' / ')
    .slice(-800);
}

/** The dev bootstrap container: exit code 0 or the deployment fails. */
export function judgeContainerExit(exitCode: number | undefined | null, logs: string | undefined, urn: string): Verdict {
  if (exitCode === 0) return { ok: true, summary: 'setup-db exited 0' };
  const tail = logTail(logs);
  const what = exitCode === undefined || exitCode === null ? 'did not report an exit code' : `exited with code ${exitCode}`;
  return {
    ok: false,
    message:
      `database bootstrap (setup-db) ${what}${tail ? `: ${tail}` : ''}; ` +
      `fix the cause and run pulumi up again (if nothing in the stack changed, re-run it with pulumi up --replace '${urn}')`,
  };
}

/**
 * The prod bootstrap Lambda's response. A FunctionError already fails the invocation; this
 * also refuses a response that is not the handler's success document, or one that ran an
 * older setup key than the deployment asked for.
 */
export function judgeLambdaResult(result: string | undefined, expectedKey: string): Verdict {
  let parsed: unknown;
  try {
    parsed = JSON.parse(result ?? '');
  } catch {
    return { ok: false, message: 'database bootstrap Lambda returned no JSON result; check its log group, then run pulumi up again' };
  }
  const r = parsed as { ok?: unknown; setupKey?: unknown; summary?: unknown; errorMessage?: unknown; settings?: unknown };
  if (typeof r?.errorMessage === 'string') return { ok: false, message: `database bootstrap Lambda failed: ${r.errorMessage.slice(0, 500)}` };
  if (r?.ok !== true) return { ok: false, message: 'database bootstrap Lambda did not report success; check its log group, then run pulumi up again' };
  if (r.setupKey !== expectedKey) return { ok: false, message: 'database bootstrap Lambda ran a different setup key than this deployment; run pulumi up again' };
  const settings: Record<string, string> = {};
  if (r.settings && typeof r.settings === 'object') for (const [k, v] of Object.entries(r.settings)) if (typeof v === 'string') settings[k] = v;
  return { ok: true, summary: typeof r.summary === 'string' ? r.summary : 'bootstrap succeeded', settings };
}
