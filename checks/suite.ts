import { performance } from 'node:perf_hooks';
import { withConnection } from '../core/db/connect.ts';
import { serverInfo } from '../core/db/server.ts';
import type { ConnectionSettings } from '../core/db/url.ts';
import { NAME_PATTERN, roleNames, type RoleNames } from '../core/config/role-names.ts';
import { errorLine, UserError } from '../core/errors.ts';
import { MIGRATIONS_DIR } from '../core/paths.ts';
import { scrub } from '../core/secrets.ts';
import { resolveExpectations, type Expectations } from './expectations.ts';
import { loadChecks } from './discover.ts';
import { applyIgnores, validateIgnores } from './lib/ignores.ts';
import type { TargetKind } from '../core/config/target-settings.ts';
import { MAINTENANCE_DATABASE } from '../core/config/target-settings.ts';
import { POLICIES, type Check, type CheckContext, type CheckOutcome, type CheckResult, type ChecksReport, type DriftDetail, type PolicyName, type ProbeSql, type ReportedFinding } from './types.ts';

export type { ChecksReport, CheckResult } from './types.ts';

/** Every check in checks/rules/, in report order (by id). */
export const CHECKS: readonly Check[] = await loadChecks();

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
  /** Pass over applied versions with no file (`--ignore-missing`). */
  ignoreMissing?: boolean;
  /** Default MIGRATIONS_DIR. */
  migrationsDir?: string;
  /**
   * The application's settings, as core/config/project-config.ts reads them from its
   * pgsteward.config.json. Default: this repository's own file (every policy on).
   */
  config?: Expectations;
  /** Sections replacing those of `config` (tests, fixtures). */
  expectations?: Partial<Expectations>;
  /** List every passing subject; otherwise passing subjects are counted in SQL (see checks/lib/passing.ts). */
  verbose?: boolean;
  /** Called before each check runs, for a progress line. */
  onCheck?: (check: Check, index: number, total: number) => void;
  /**
   * Which kind of server this is, which decides where schema-drift builds its reference (see
   * CheckTarget). Default: `prod`'s treatment (an ephemeral local cluster), so a caller that
   * does not say never has a scratch database created on its server. `admin` defaults to
   * `connection` on the maintenance database.
   */
  target?: { kind: TargetKind; admin?: ConnectionSettings | undefined; binDir?: string | undefined };
}

class Rollback extends Error {}

/** The roles to verify; undefined when the database's name cannot carry role names (only the privileges check minds). */
function rolesFor(database: string, given: RoleNames | undefined): RoleNames | undefined {
  if (given) return given;
  return NAME_PATTERN.test(database) ? roleNames(database) : undefined;
}

/** A drift detail with every text scrubbed of secrets, as messages and fixes are. */
function scrubDrift(d: DriftDetail): DriftDetail {
  const value = (v: DriftDetail['fields'][number]['expected']) => (v === null ? null : typeof v === 'string' ? scrub(v) : v.map(scrub));
  return {
    kind: d.kind,
    objectType: d.objectType,
    fields: d.fields.map((f) => ({ field: f.field, expected: value(f.expected), actual: value(f.actual), description: scrub(f.description) })),
    ...(d.migrationSql !== undefined ? { migrationSql: scrub(d.migrationSql) } : {}),
    ...(d.restoreSql !== undefined ? { restoreSql: scrub(d.restoreSql) } : {}),
  };
}

export function resultOf(check: Check, outcome: CheckOutcome, queries: number, durationMs: number): CheckResult {
  const findings: ReportedFinding[] = outcome.findings.map((f) => {
    const policy = f.policy ?? check.policy;
    return {
      object: f.object,
      message: scrub(f.message),
      fix: scrub(f.fix),
      fixable: f.fixable === true,
      severity: f.severity ?? check.severity,
      ...(policy ? { policy } : {}),
      ...(f.drift ? { drift: scrubDrift(f.drift) } : {}),
    };
  });
  const status = findings.some((f) => f.severity === 'error') ? 'failed' : findings.length > 0 ? 'warning' : 'passed';
  return {
    id: check.id,
    title: check.title,
    rationale: check.rationale,
    severity: check.severity,
    status,
    passed: outcome.passed,
    passedCount: outcome.passedCount ?? outcome.passed.length,
    findings,
    queries,
    durationMs,
  };
}

/** A check that threw: reported with status `error` and the one line that says why. */
export function errorResultOf(check: Check, e: unknown, queries: number, durationMs: number): CheckResult {
  const code = (e as { code?: unknown }).code;
  const line = e instanceof UserError || typeof code !== 'string' ? errorLine(e) : `${code}: ${errorLine(e)}`;
  return { id: check.id, title: check.title, rationale: check.rationale, severity: check.severity, status: 'error', passed: [], passedCount: 0, findings: [], error: scrub(line), queries, durationMs };
}

export function summarize(results: readonly CheckResult[]): ChecksReport['summary'] {
  let passed = 0;
  let failed = 0;
  let warnings = 0;
  for (const r of results) {
    passed += r.passedCount;
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
  const expectations = resolveExpectations(opts.expectations, opts.config);
  const policies = new Set<PolicyName>(expectations.policies);
  const checks = selectChecks(CHECKS, opts.only, opts.skip).filter((c) => c.policy === undefined || policies.has(c.policy));
  validateIgnores(expectations.ignore, CHECK_IDS);
  const roles = rolesFor(opts.connection.database, opts.roles ?? expectations.roles);
  let queries = 0;
  const connectOptions = {
    applicationName: 'pgsteward checks',
    onQuery: () => queries++,
    // Nothing but the probes' own READ WRITE transactions can write; nothing waits long on a lock.
    parameters: { default_transaction_read_only: 'on', lock_timeout: '5s', statement_timeout: '120s', idle_in_transaction_session_timeout: '300s' },
  };
  const results = await withConnection(opts.connection, connectOptions, async (sql) => {
    const server = await serverInfo(sql);
    const memo = new Map<string, Promise<unknown>>();
    const ctx: CheckContext = {
      sql,
      database: opts.connection.database,
      roles,
      expectations,
      policies,
      migrationsDir: opts.migrationsDir ?? MIGRATIONS_DIR,
      ignoreMissing: opts.ignoreMissing === true,
      serverVersionNum: server.versionNum,
      verbose: opts.verbose === true,
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
      target: {
        kind: opts.target?.kind ?? 'prod',
        admin: opts.target?.admin ?? { ...opts.connection, database: MAINTENANCE_DATABASE },
        binDir: opts.target?.binDir,
      },
      recordQuery: () => {
        queries++;
      },
    };

    const out: CheckResult[] = [];
    for (const [index, check] of checks.entries()) {
      opts.onCheck?.(check, index, checks.length);
      const q0 = queries;
      const t0 = performance.now();
      try {
        const outcome = applyIgnores(check.id, await check.run(ctx), expectations.ignore);
        out.push(resultOf(check, outcome, queries - q0, Math.round(performance.now() - t0)));
      } catch (e) {
        out.push(errorResultOf(check, e, queries - q0, Math.round(performance.now() - t0)));
      }
    }
    return out;
  });
  const summary = summarize(results);
  return {
    results,
    summary,
    queries,
    durationMs: Math.round(performance.now() - started),
    ok: summary.failed === 0,
    database: opts.connection.database,
    policiesNotEvaluated: POLICIES.filter((p) => !policies.has(p)),
  };
}

/**
 * runChecks held to the configuration file's checks and migrations folder, for the commands
 * that run the checks as one step of their own: restore's proof, verify-backup, cron's checks
 * job. A file without a `checks` section (the stacks write ops-only files for their jobs)
 * leaves them on this repository's own settings, as before the checks moved into the file.
 */
export function runChecksWith(project: { checks: Expectations; hasChecks: boolean; migrationsDir: string | undefined }): (opts: RunChecksOptions) => Promise<ChecksReport> {
  return (opts) => runChecks({ ...(project.hasChecks ? { config: project.checks } : {}), ...(project.migrationsDir ? { migrationsDir: project.migrationsDir } : {}), ...opts });
}
