import type { RoleNames } from '../config/role-names.ts';
import type { ConnectionSettings } from '../db/url.ts';

/**
 * What restore and verification need from the checks suite (checks/suite.ts `runChecks`).
 * Passed in by the commands rather than imported, so core does not depend on checks/, and
 * structurally a subset of its ChecksReport.
 */
export interface ChecksOutcome {
  ok: boolean;
  summary: { passed: number; failed: number; warnings: number };
  results: ReadonlyArray<{ id: string; status: string; error?: string; findings: ReadonlyArray<{ object: string; message: string; severity?: string }> }>;
}

export type ChecksRunner = (opts: { connection: ConnectionSettings; roles?: RoleNames }) => Promise<ChecksOutcome>;

export interface ChecksSummary {
  ok: boolean;
  passed: number;
  failed: number;
  warnings: number;
  /** `check-id: object: message`, for the failing checks. */
  failures: string[];
}

/** The part of a checks report a restore report and a manifest keep. Pure. */
export function summarizeChecks(r: ChecksOutcome): ChecksSummary {
  const failures: string[] = [];
  for (const res of r.results) {
    if (res.status === 'error') failures.push(`${res.id}: could not run: ${res.error ?? 'unknown error'}`);
    if (res.status === 'failed') for (const f of res.findings.filter((x) => x.severity !== 'warning')) failures.push(`${res.id}: ${f.object}: ${f.message}`);
  }
  return { ok: r.ok, ...r.summary, failures };
}
