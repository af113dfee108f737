import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOGIN_ROLES } from '../../core/config/role-names.ts';
import { readMigrationFolder } from '../../core/migrations/files.ts';
import { generatePassword } from '../../core/secrets.ts';
import { setupDatabase } from '../../core/setup.ts';
import { migrate } from '../../core/migrations/runner.ts';
import { pgAdmin, withSql } from '../../test/db.ts';
import { CHECKS, runChecks, type RunChecksOptions } from '../suite.ts';
import { fixtureMeta, fixtureRun, runOne } from '../test-support.ts';
import type { ChecksReport, CheckResult } from '../types.ts';
import { formatWriteFixes, writeFixes, type WriteFixesResult } from './write.ts';

/**
 * Issue 15 §2: every rule proves its fix the way a user would apply it. Its fixture fails; the
 * fixes are written as migration files; setup-db (core/setup.ts, the real path: roles, privileges,
 * the migration runner as <db>_owner) applies them; the rule then reports nothing it wrote a fix
 * for, and the whole suite reports nothing it did not report before. Driven by each finding's
 * own `fix`, never by SQL written here.
 */

const fixtureOf = (id: string) => new URL(`../rules/${id}.fixture.sql`, import.meta.url);
/** The rules the issue names; the table below must contain at least these. */
const NAMED = ['foreign-key-indexes', 'duplicate-indexes', 'updated-at-triggers', 'email-unique', 'search', 'privileges'];

/** Rules whose fixture is a schema (not a pending migration or a drifted setup) and yields a finding to repair. */
const PROVABLE = CHECKS.filter((c) => {
  const meta = fixtureMeta(fixtureOf(c.id));
  if (meta.migration || meta.migrated) return false;
  // A rule that can mark a finding fixable at all; privileges, whose repairs setup-db makes.
  return c.id === 'privileges' || /\bfixable: (?!false\b)/.test(readFileSync(new URL(`../rules/${c.id}.ts`, import.meta.url), 'utf8'));
}).map((c) => c.id);

/**
 * The whole suite but schema-drift, which compares the database with its migrations folder:
 * here that folder holds only the fixes, not the fixture's schema, so drift is all it could say.
 */
const suite = (opts: Omit<RunChecksOptions, 'only'>, dir: string) => runChecks({ ...opts, migrationsDir: dir, skip: ['schema-drift'] });
const keys = (r: ChecksReport) => r.results.flatMap((x) => (x.error ? [`${x.id} could not run: ${x.error}`] : x.findings.map((f) => `${x.id} ${f.object} ${f.severity}`)));
const only = (report: ChecksReport, result: CheckResult): ChecksReport => ({ ...report, results: [result] });

/**
 * Fixtures setup-db cannot take over for reasons that have nothing to do with the fixes: their
 * files are applied by the migration runner alone (as the superuser), the same runner setup-db uses.
 */
const RUNNER_ONLY: Record<string, string> = {
  'primary-keys': "the fixture defines its own uuid_generate_v7(), which setup-db's pg_uuidv7 provisioning will not replace",
  'function-search-path': "the fixture's schema app belongs to the superuser, outside the schemas setup-db hands to <db>_owner",
};

/** Applies the folder as setup-db does (roles, privileges, then the runner as <db>_owner); returns the files applied. */
async function apply(id: string, database: string, dir: string): Promise<string[]> {
  const folder = readMigrationFolder(dir);
  if (RUNNER_ONLY[id]) {
    const r = await withSql(pgAdmin(database), (sql) => migrate(sql, database, folder));
    return r.applied.map((a) => a.file);
  }
  const passwords = Object.fromEntries(LOGIN_ROLES.map((r) => [r, generatePassword()]));
  const setup = await setupDatabase({ admin: pgAdmin(), database, pool: { max: 10, min: 2, instances: 1 }, passwords, migrations: folder.migrations });
  return setup.migrations.applied.map((a) => a.file);
}

describe('the rules with mechanical fixes', () => {
  it('include every rule the issue names', () => {
    expect(PROVABLE).toEqual(expect.arrayContaining(NAMED));
  });
});

describe.each(PROVABLE)('%s proves its fix through --write-fixes and setup-db', (id) => {
  it('finding, written fix, setup-db: the rule is quiet about what was written, and nothing new appears anywhere', async () => {
    const { database, opts } = await fixtureRun(fixtureOf(id));
    const dir = mkdtempSync(path.join(os.tmpdir(), `pgsteward-fixes-${id}-`));
    // 1-2. the fixture fails
    const before = await runOne(id, opts);
    expect(before.status, before.error).not.toBe('error');
    expect(before.findings.length).toBeGreaterThan(0);
    const wholeBefore = await suite(opts, dir);

    // 3. fixes are written for this rule's findings
    const written: WriteFixesResult = await writeFixes({ report: only(wholeBefore, before), connection: opts.connection, dir, dryRun: false });
    const names = readMigrationFolder(dir).migrations.map((m) => m.file);
    expect(names).toEqual(written.plan.files.map((f) => f.name));
    if (id !== 'privileges') expect(written.plan.written.length, `${id}: a fix is written`).toBeGreaterThan(0);
    // Issue 15 §1: what is written passes our own migration lint and data-preservation check.
    const lint = await runChecks({ ...opts, migrationsDir: dir, only: ['migration-lint', 'migration-data-preservation'] });
    expect(keys(lint)).toEqual([]);
    expect(lint.results.map((r) => r.passed.length)).toEqual(names.length ? [names.length, names.length] : [1, 1]);

    // 4. setup-db applies them
    expect(await apply(id, database, dir)).toEqual(names);
    if (process.env.SHOW_FIXES) console.log(`${id}:\n${formatWriteFixes({ ...written, dryRun: true })}`);

    // 5. the rule again: only what was left to a person remains
    const after = await runOne(id, opts);
    expect(after.status, after.error).not.toBe('error');
    const left = written.plan.notWritten.filter((n) => !/^setup-db converges/.test(n.reason)).map((n) => n.object);
    expect(after.findings.map((f) => f.object).sort()).toEqual(left.sort());

    // 6. the whole suite: nothing new anywhere
    const wholeAfter = await suite(opts, dir);
    const known = new Set(keys(wholeBefore));
    expect(keys(wholeAfter).filter((k) => !known.has(k))).toEqual([]);

    // and a second --write-fixes writes nothing
    const again = await writeFixes({ report: only(wholeAfter, wholeAfter.results.find((r) => r.id === id)!), connection: opts.connection, dir, dryRun: true });
    expect(again.plan.files).toEqual([]);
  });
});
