import type postgres from 'postgres';
import type { Sql } from '../core/db/connect.ts';
import type { RoleNames } from '../core/config/role-names.ts';
import type { Expectations } from './expectations.ts';
import type { TargetKind } from '../core/config/target-settings.ts';
import type { ConnectionSettings } from '../core/db/url.ts';
import type { DriftKind, FieldChange, ObjectType } from '../core/drift/model.ts';

export type Severity = 'error' | 'warning';

export { POLICIES, type PolicyName } from '../core/config/policies.ts';
import type { PolicyName } from '../core/config/policies.ts';

/** One problem, named precisely enough to act on, with the SQL (or command) that fixes it. */
export interface Finding {
  /** The offending object, schema-qualified where it has a schema: `public.orders`, `orders_user_id_fkey`, `0005_x.sql:3`. */
  object: string;
  message: string;
  /** SQL that fixes it, or the command to run when no SQL can. */
  fix: string;
  /**
   * `fix` is SQL that repairs this finding by itself and is safe on a live database (the
   * statements may be run one by one, outside a transaction). Absent when a person must
   * decide: advice, a command, or SQL that needs adapting. Only these may ever be applied unreviewed.
   */
  fixable?: boolean;
  /** Defaults to the check's severity; a check may lower it to `warning` for an inconclusive probe. */
  severity?: Severity;
  /** The policy this finding enforces (see POLICIES); absent for a defect on any database. */
  policy?: PolicyName;
  /** schema-drift's findings: what kind of difference, on what, field by field (carried into --json). */
  drift?: DriftDetail;
}

/** A drift finding's structure, besides its object, message and fix (see docs/checks/schema-drift.md). */
export interface DriftDetail {
  /** `extra` (created outside migrations), `missing`, or `changed`. */
  kind: DriftKind;
  objectType: ObjectType;
  /** Field-level differences (`expected` is what the migrations build); empty for extra and missing objects. */
  fields: FieldChange[];
  /** SQL of a migration that makes the live state official, where exact SQL exists; quoted in `fix` too. */
  migrationSql?: string | undefined;
  /** SQL that puts the live database back, where exact SQL exists; quoted in `fix` too. Never run by the tool. */
  restoreSql?: string | undefined;
}

/** What a check returns: the subjects it verified and the problems it found. */
export interface CheckOutcome {
  /**
   * What passed. With `ctx.verbose`, one line per subject (`public.users: primary key id uuid
   * DEFAULT uuid_generate_v7()`); otherwise a check may fold many subjects into one counted
   * line (`1009 tables: uuid primary key DEFAULT uuid_generate_v7()`), so that passing
   * subjects cost the catalog a count rather than a row each.
   */
  passed: string[];
  /** How many subjects passed, the same with or without `verbose`; defaults to `passed.length`. */
  passedCount?: number;
  findings: Finding[];
}

/** A transaction that is always rolled back. */
export type ProbeSql = postgres.TransactionSql<{ bigint: bigint }>;

export interface CheckContext {
  /** A read-only session (default_transaction_read_only) on the database under check; every statement is counted. */
  sql: Sql;
  database: string;
  /** Undefined when the database's name cannot derive role names and none were given. */
  roles: RoleNames | undefined;
  expectations: Expectations;
  /** The policies the configuration enables: a check emits a policy's findings only when it is here. */
  policies: ReadonlySet<PolicyName>;
  migrationsDir: string;
  /** Applied versions with no file are passed over, as sqlx's --ignore-missing does. */
  ignoreMissing?: boolean | undefined;
  serverVersionNum: number;
  /** List every passing subject (`--verbose`, JUnit); otherwise passing subjects may be counted. */
  verbose: boolean;
  /**
   * Runs `fn` inside a READ WRITE transaction that is rolled back whatever happens, so
   * behavioural probes can insert, update and SET ROLE without leaving a trace.
   */
  probe<T>(fn: (tx: ProbeSql) => Promise<T>): Promise<T>;
  /** Runs `fn` once per suite run and shares its result between checks (e.g. the migration ledger). */
  once<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /** The server under check, for a check that needs more than this session (schema-drift builds a reference). */
  target: CheckTarget;
  /** Counts a statement a check sent to the database under check on a session of its own (see `sql`: every statement is counted). */
  recordQuery(text: string): void;
}

/** Where the database under check lives, as the command that runs the checks knows it. */
export interface CheckTarget {
  /**
   * `local` and `dev`: schema-drift builds its reference in a scratch database on the same
   * server; `prod`: on an ephemeral local cluster, never on the server. A caller that does not
   * say gets `prod`'s treatment: nothing is created on a server nobody described.
   */
  kind: TargetKind;
  /** Administrative connection to the server's maintenance database. */
  admin: ConnectionSettings;
  /** PostgreSQL bin folder for an ephemeral cluster (LOCAL_PG_BIN); default the embedded binaries. */
  binDir?: string | undefined;
}

/**
 * One rule. It lives in `checks/rules/<id>.ts` (the suite finds it there; nothing else to
 * register), with its failing example in `<id>.fixture.sql` and its page in `docs/checks/<id>.md`.
 */
export interface Check {
  /** Stable kebab-case id used by --only/--skip, JSON and JUnit; also the rule's file name. */
  id: string;
  title: string;
  /** One line: why this matters. */
  rationale: string;
  /** The severity of its findings unless a finding says otherwise. */
  severity: Severity;
  /** Set when the whole check is a policy: it runs only when the configuration enables it. */
  policy?: PolicyName;
  run(ctx: CheckContext): Promise<CheckOutcome>;
}

export type CheckStatus = 'passed' | 'failed' | 'warning' | 'error';

export interface ReportedFinding extends Required<Omit<Finding, 'severity' | 'fixable' | 'drift' | 'policy'>> {
  severity: Severity;
  fixable: boolean;
  policy?: PolicyName;
  drift?: DriftDetail;
}

export interface CheckResult {
  id: string;
  title: string;
  rationale: string;
  severity: Severity;
  /** failed: an error finding; warning: warning findings only; error: the check could not run. */
  status: CheckStatus;
  /** Lines saying what passed: one per subject with `verbose`, otherwise possibly counted groups. */
  passed: string[];
  /** Subjects that passed, whether or not each has its own line in `passed`. */
  passedCount: number;
  findings: ReportedFinding[];
  /** Why the check could not run (status `error`). */
  error?: string;
  /** SQL round trips this check made. */
  queries: number;
  durationMs: number;
}

export interface ChecksReport {
  results: CheckResult[];
  /** passed: subjects verified; failed: error findings plus checks that could not run; warnings: warning findings. */
  summary: { passed: number; failed: number; warnings: number };
  /** SQL round trips for the whole run, connection set-up included. */
  queries: number;
  durationMs: number;
  /** No error findings and every check ran. Warnings do not clear it (the CLI's --strict does). */
  ok: boolean;
  database: string;
  /** Policies the configuration did not enable, so nothing about them was evaluated. */
  policiesNotEvaluated: PolicyName[];
}
