import type { ChecksReport } from '../types.ts';

/** Bumped only when a field changes meaning or disappears; new fields may be added. */
export const JSON_SCHEMA_VERSION = 1;

/** The --json document. Its fields are documented in the README (Verification checks) and tested, so CI can rely on them. */
export function toJson(report: ChecksReport, opts: { strict: boolean; exitCode: number }) {
  return {
    schemaVersion: JSON_SCHEMA_VERSION,
    database: report.database,
    ok: opts.exitCode === 0,
    exitCode: opts.exitCode,
    strict: opts.strict,
    summary: report.summary,
    queries: report.queries,
    durationMs: report.durationMs,
    checks: report.results.map((r) => ({
      id: r.id,
      title: r.title,
      rationale: r.rationale,
      severity: r.severity,
      status: r.status,
      error: r.error ?? null,
      passed: r.passed,
      findings: r.findings.map((f) => ({
        severity: f.severity,
        object: f.object,
        message: f.message,
        fix: f.fix,
        fixable: f.fixable,
        // schema-drift's findings say what kind of difference, on what, field by field.
        ...(f.drift
          ? { kind: f.drift.kind, objectType: f.drift.objectType, fields: f.drift.fields, migrationSql: f.drift.migrationSql ?? null, restoreSql: f.drift.restoreSql ?? null }
          : {}),
        ...(f.policy ? { policy: f.policy } : {}),
      })),
      queries: r.queries,
      durationMs: r.durationMs,
      passedCount: r.passedCount,
    })),
    policiesNotEvaluated: report.policiesNotEvaluated,
  };
}
