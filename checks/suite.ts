import { performance } from 'node:perf_hooks';
import { connectChecked } from '../core/db/connect.ts';
import type { ConnectionSettings } from '../core/db/url.ts';
import { NAME_PATTERN, roleNames, type RoleNames } from '../core/config/role-names.ts';
import { UserError } from '../core/errors.ts';
import { MIGRATIONS_DIR } from '../core/paths.ts';
import { scrub } from '../core/secrets.ts';
import { resolveExpectations, type Expectations } from './expectations.ts';
import type { Check, CheckContext, CheckOutcome, CheckResult, ChecksReport, ProbeSql, ReportedFinding } from './types.ts';
import { primaryKeys } from './rules/primary-keys.ts';
import { foreignKeyIndexes } from './rules/foreign-key-indexes.ts';
import { duplicateIndexes } from './rules/duplicate-indexes.ts';
import { invalidIndexes } from './rules/invalid-indexes.ts';
import { updatedAtTriggers } from './rules/updated-at-triggers.ts';
import { emailUnique } from './rules/email-unique.ts';
import { search } from './rules/search.ts';
import { privileges } from './rules/privileges.ts';
import { migrationStateCheck } from './rules/migration-state.ts';
import { migrationLint } from './rules/migration-lint.ts';
import { migrationDataPreservation } from './rules/migration-data-preservation.ts';

export type { ChecksReport, CheckResult } from './types.ts';

/** Every check, in report order. */
export const CHECKS: readonly Check[] = [
  primaryKeys,
  foreignKeyIndexes,
  duplicateIndexes,
  invalidIndexes,
  updatedAtTriggers,
  emailUnique,
  search,
  privileges,
  migrationStateCheck,
  migrationLint,
  migrationDataPreservation,
];

export const CHECK_IDS = CHECKS.map((c) => c.id);

/** Applies --only and --skip; an unknown id is an error, not an empty run. */
export function selectChecks(all: readonly Check[], only?: readonly string[], skip?: readonly string[]): Check[] {
  const known = new Set(all.map((c) => c.id));
  for (const id of [...(only ?? []), ...(skip ?? [])]) {
    if (!known.has(id)) throw new UserError(`unknown check id "${id.slice(0, 60)}"`, `use one of: ${[...known].join(', ')}`);
  }
  const chosen = all.filter((c) => (!only || only.length === 0 || only.includes(c.id)) && !(skip ?? []).includes(c.id));
  if (chosen.length === 0) throw new UserError('--only and --skip leave no check to run', 'drop a --skip or widen --only');
  return chosen;
}

export interface RunChecksOptions {
  /** Superuser/admin connection to the database under check. */
  connection: ConnectionSettings;
  /** Default roleNames(connection.database); a restored scratch database passes the original database's names. */
  roles?: RoleNames;
  only?: string[];
  skip?: string[];
  /** Default MIGRATIONS_DIR. */
  migrationsDir?: string;
  /** Sections replacing the project's expectations (checks/expectations.ts). */
  expectations?: Partial<Expectations>;
  /** Called before each check runs, for a progress line. */
  onCheck?: (check: Check, index: number, total: number) => void;
}

class Rollback extends Error {}

/** The roles to verify; undefined when the database's name cannot carry role names (only the privileges check minds). */
function rolesFor(database: string, given: RoleNames | undefined): RoleNames | undefined {
  if (given) return given;
  return NAME_PATTERN.test(database) ? roleNames(database) : undefined;
}

export function resultOf(check: Check, outcome: CheckOutcome, queries: number, durationMs: number): CheckResult {
  const findings: ReportedFinding[] = outcome.findings.map((f) => ({
    object: f.object,
    message: scrub(f.message),
    fix: scrub(f.fix),
    severity: f.severity ?? check.severity,
  }));
  const status = findings.some((f) => f.severity === 'error') ? 'failed' : findings.length > 0 ? 'warning' : 'passed';
  return { id: check.id, title: check.title, rationale: check.rationale, severity: check.severity, status, passed: outcome.passed, findings, queries, durationMs };
}

export function summarize(results: readonly CheckResult[]): ChecksReport['summary'] {
  let passed = 0;
  let failed = 0;
  let warnings = 0;
  for (const r of results) {
    passed += r.passed.length;
    if (r.status === 'error') failed++;
    for (const f of r.findings) f.severity === 'error' ? failed++ : warnings++;
  }
  return { passed, failed, warnings };
}

/**
 * Runs the checks against one database. Read-only: the session is
 * default_transaction_read_only, and behavioural probes run in transactions that are always
 * rolled back. Unreachable servers and bad credentials throw a UserError (exit 2); a check
 * that fails to run is reported with status `error`.
 */
export async function runChecks(opts: RunChecksOptions): Promise<ChecksReport> {
  const started = performance.now();
  const checks = selectChecks(CHECKS, opts.only, opts.skip);
  const expectations = resolveExpectations(opts.expectations);
  const roles = rolesFor(opts.connection.database, opts.roles ?? expectations.roles);
  let queries = 0;
  const sql = await connectChecked(opts.connection, {
    max: 1,
    applicationName: 'pgsteward checks',
    onQuery: () => queries++,
    // Nothing but the probes' own READ WRITE transactions can write; nothing waits long on a lock.
    parameters: { default_transaction_read_only: 'on', lock_timeout: '5s', statement_timeout: '120s', idle_in_transaction_session_timeout: '300s' },
  });
  try {
    const [v] = await sql<{ num: number }[]>`select current_setting('server_version_num')::int as num`;
    const memo = new Map<string, Promise<unknown>>();
    const ctx: CheckContext = {
      sql,
      database: opts.connection.database,
      roles,
      expectations,
      migrationsDir: opts.migrationsDir ?? MIGRATIONS_DIR,
      serverVersionNum: v!.num,
      async probe<T>(fn: (tx: ProbeSql) => Promise<T>): Promise<T> {
        let value: T | undefined;
        await sql
          .begin('read write', async (tx) => {
            value = await fn(tx as unknown as ProbeSql);
            throw new Rollback();
          })
          .catch((e) => {
            if (!(e instanceof Rollback)) throw e;
          });
        return value as T;
      },
      once<T>(key: string, fn: () => Promise<T>): Promise<T> {
        if (!memo.has(key)) memo.set(key, fn());
        return memo.get(key) as Promise<T>;
      },
    };

    const results: CheckResult[] = [];
    for (const [index, check] of checks.entries()) {
      opts.onCheck?.(check, index, checks.length);
      const q0 = queries;
      const t0 = performance.now();
      try {
        const outcome = await check.run(ctx);
        results.push(resultOf(check, outcome, queries - q0, Math.round(performance.now() - t0)));
      } catch (e) {
        const err = e as { code?: string; message?: string };
        const line = e instanceof UserError ? e.line : `${err.code ? `${err.code}: ` : ''}${(err.message ?? String(e)).split('\n')[0]}`;
        results.push({
          id: check.id,
          title: check.title,
          rationale: check.rationale,
          severity: check.severity,
          status: 'error',
          passed: [],
          findings: [],
          error: scrub(line),
          queries: queries - q0,
          durationMs: Math.round(performance.now() - t0),
        });
      }
    }
    const summary = summarize(results);
    return {
      results,
      summary,
      queries,
      durationMs: Math.round(performance.now() - started),
      ok: summary.failed === 0,
      database: opts.connection.database,
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}
