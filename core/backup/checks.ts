import type { RoleNames } from '../config/role-names.ts';
import type { TargetKind } from '../config/target-settings.ts';
import type { ConnectionSettings } from '../db/url.ts';
import type { Target } from '../open-target.ts';

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

/**
 * `target` says which kind of server this is, for where schema-drift may build its reference;
 * without it the suite builds it on an ephemeral local cluster, never on the server checked.
 */
export interface ChecksTarget {
  kind: TargetKind;
  admin?: ConnectionSettings;
  binDir?: string | undefined;
}

/** What the checks need to know about a target: its kind, its server, LOCAL_PG_BIN. */
export function checksTarget(t: Pick<Target, 'config' | 'admin'>): ChecksTarget {
  return { kind: t.config.kind, admin: t.admin, binDir: t.config.local.binDir };
}

export type ChecksRunner = (opts: { connection: ConnectionSettings; roles?: RoleNames; target?: ChecksTarget }) => Promise<ChecksOutcome>;

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
