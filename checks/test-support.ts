import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '../core/db/connect.ts';
import type { ConnectionSettings } from '../core/db/url.ts';
import { createDatabase, pgAdmin, provisionDatabase, withSql } from '../test/db.ts';
import { SQUAWK_RULES, type Expectations } from './expectations.ts';
import { splitStatements } from './lib/sql-text.ts';
import { runSquawk, type SquawkViolation } from './lib/squawk.ts';
import { runChecks, type RunChecksOptions } from './suite.ts';
import type { CheckResult, ReportedFinding } from './types.ts';

/**
 * What a fixture says about itself, in a leading block comment tagged `fixture`:
 *
 *     /* fixture
 *     { "findings": ["public.orders.orders_account_id_fkey"], "settings": { "probeRows": { … } } }
 *     *\/
 *
 * All keys are optional. The generic rule test (checks/rules.test.ts) reads it.
 */
export interface FixtureMeta {
  /** The objects the rule must name on the fixture, in any order (duplicates count). */
  findings?: string[];
  /** The objects still named after every fixable finding's fix was applied; default: the unfixable findings. */
  remaining?: string[];
  /** Settings sections for this fixture over this repository's pgsteward.config.json (the rules' Expectations shape), e.g. the probe rows its tables need. */
  settings?: Partial<Expectations>;
  /**
   * The fixture is a pending migration, not a schema: it is copied into an empty migrations
   * folder under this file name, and `database` (SQL) builds the schema it would run against.
   */
  migration?: string;
  database?: string;
  /**
   * The database is first set up as setup-db does it (roles, the project's migrations,
   * privileges), and the fixture then runs on it as the superuser: the changes made by hand
   * that schema-drift must find.
   */
  migrated?: boolean;
  /**
   * How the generic test repairs a finding: `fixable` (default) runs the fix of every fixable
   * finding; `restore` runs each finding's restoring SQL (`drift.restoreSql`, the "put the
   * database back" half of a drift fix), which the tool itself never runs.
   */
  repair?: 'fixable' | 'restore';
}

export function fixtureMeta(file: URL): FixtureMeta {
  const text = readFileSync(file, 'utf8');
  const m = /\/\*\s*fixture\b([\s\S]*?)\*\//.exec(text);
  if (!m) return {};
  // Words may follow the tag (`/* fixture (at the end, …)`); the JSON object is the rest.
  const body = m[1]!;
  try {
    return JSON.parse(body.slice(body.indexOf('{'), body.lastIndexOf('}') + 1)) as FixtureMeta;
  } catch (e) {
    throw new Error(`${fileURLToPath(file)}: the /* fixture … */ block is not JSON: ${(e as Error).message}`);
  }
}

/** Runs a script one statement at a time (so CREATE INDEX CONCURRENTLY works), on its own connection. */
async function runScript(connection: ConnectionSettings, text: string, where: string): Promise<void> {
  const sql = connect(connection, { max: 1 });
  try {
    for (const s of splitStatements(text)) {
      const mayFail = s.comments.some((c) => /fixture:\s*expect error/i.test(c));
      try {
        await sql.unsafe(s.text);
      } catch (e) {
        if (!mayFail) throw new Error(`${where}:${s.line}: ${(e as Error).message}`);
      }
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * A fresh database built from a check's fixture file. `__DB__` in the file becomes the
 * database's name (roles are cluster-wide, so fixtures name theirs after it). Statements run
 * one at a time, so CREATE INDEX CONCURRENTLY works; a statement preceded by
 * `-- fixture: expect error` may fail (that is how an invalid index is made).
 */
export async function fixtureDatabase(file: URL, prefix = 'ck'): Promise<{ database: string; connection: ConnectionSettings }> {
  const database = await createDatabase(prefix);
  const text = readFileSync(file, 'utf8').replaceAll('__DB__', database);
  await runScript(pgAdmin(database), text, `fixture ${file.pathname}`);
  return { database, connection: pgAdmin(database) };
}

/** A fixture of either kind, ready for runChecks: a schema, or a pending migration with the schema it runs against. */
export async function fixtureRun(file: URL): Promise<{ database: string; opts: Omit<RunChecksOptions, 'only'> }> {
  const meta = fixtureMeta(file);
  // The suite's server is a local one: schema-drift may build its reference on it.
  const settings = { ...(meta.settings ? { expectations: meta.settings } : {}), target: { kind: 'local' as const } };
  if (meta.migrated) {
    const db = await provisionDatabase('ckmig');
    const text = readFileSync(file, 'utf8').replaceAll('__DB__', db.database);
    await runScript(db.as(), text, `fixture ${file.pathname}`);
    return { database: db.database, opts: { connection: db.as(), ...settings } };
  }
  if (!meta.migration) {
    const { database, connection } = await fixtureDatabase(file);
    return { database, opts: { connection, ...settings } };
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-fixture-'));
  copyFileSync(fileURLToPath(file), path.join(dir, meta.migration));
  const database = await createDatabase('ck');
  if (meta.database) await withSql(pgAdmin(database), (sql) => sql.unsafe(meta.database!));
  return { database, opts: { connection: pgAdmin(database), migrationsDir: dir, ...settings } };
}

/** Runs one check and returns its result; subjects are listed unless `verbose: false` is passed. */
export async function runOne(id: string, opts: Omit<RunChecksOptions, 'only'>): Promise<CheckResult> {
  const report = await runChecks({ verbose: true, ...opts, only: [id] });
  return report.results[0]!;
}

/** The objects a result's findings name, for assertions. */
export function objects(r: CheckResult): string[] {
  return r.findings.map((f) => f.object);
}

/** The SQL the generic test runs to repair a finding, by the fixture's `repair` rule; undefined when it has none. */
export function repairSql(f: ReportedFinding, repair: FixtureMeta['repair'] = 'fixable'): string | undefined {
  if (repair === 'restore') return f.drift?.restoreSql;
  return f.fixable ? f.fix : undefined;
}

/**
 * Applies the fix of every fixable finding (or, with `repair: 'restore'`, every drift finding's
 * restoring SQL), each statement on its own (the fixes use CONCURRENTLY, which refuses to run
 * in a transaction), as the superuser, in report order.
 */
export async function applyFixes(connection: ConnectionSettings, findings: readonly ReportedFinding[], repair: FixtureMeta['repair'] = 'fixable'): Promise<void> {
  for (const f of findings) {
    const sql = repairSql(f, repair);
    if (sql !== undefined) await runScript(connection, sql, `fix for ${f.object}`);
  }
}

/**
 * What our own migration lint (the migration-lint check's squawk rules) says about a fix
 * written as a migration file: one with CONCURRENTLY is written `-- no-transaction`, as sqlx
 * needs it, and linted outside a transaction; the rest inside one, as sqlx runs them.
 */
export async function lintFix(fix: string): Promise<SquawkViolation[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-fixlint-'));
  const concurrent = /\bCONCURRENTLY\b/i.test(fix.replace(/--.*$/gm, ''));
  writeFileSync(path.join(dir, '1_fix.sql'), `${concurrent ? '-- no-transaction\n' : ''}${fix}\n`);
  return runSquawk(dir, ['1_fix.sql'], { rules: SQUAWK_RULES, pgVersion: '17.0', assumeInTransaction: !concurrent });
}

/** Runs with only these policies enabled (none: the generic checks alone, as with no configuration). */
export function withPolicies<T extends Omit<RunChecksOptions, 'only'>>(opts: T, policies: Expectations['policies']): T {
  return { ...opts, expectations: { ...opts.expectations, policies } };
}
