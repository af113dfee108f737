import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { secretUrl, type ConnectionSettings } from '../core/db/url.ts';
import { provisionDatabase } from '../test/db.ts';
import { runCli } from '../test/cli.ts';
import { runChecks } from './suite.ts';
import { POLICIES } from './types.ts';
import { REPO_ROOT } from '../core/paths.ts';
import { applyFixes, fixtureDatabase } from './test-support.ts';

/** Runs the CLI with any URL password moved to PGPASSWORD, the documented way (a password in --url draws a warning). */
function cli(args: string[]) {
  let password: string | undefined;
  const moved = args.map((a) => {
    if (!/^postgres(ql)?:\/\//.test(a)) return a;
    const u = new URL(a);
    if (u.password) password = decodeURIComponent(u.password);
    u.password = '';
    return u.toString();
  });
  return runCli('checks/cli.ts', moved, { DB_POOL_MAX: '10', DB_APP_INSTANCES: '1', ...(password ? { PGPASSWORD: password } : {}) });
}

describe('checks CLI', () => {
  let project: ConnectionSettings;
  let fkFixture: ConnectionSettings;
  let dupFixture: ConnectionSettings;
  beforeAll(async () => {
    project = (await provisionDatabase('ckcli')).as();
    // Our migrations' own functions are being pinned in this wave (see checks/suite.test.ts,
    // BEING_PINNED); pin them here as those migrations will, so "0 warnings" keeps its meaning.
    const pending = await runChecks({ connection: project, only: ['function-search-path'] });
    await applyFixes(project, pending.results[0]!.findings.filter((f) => f.severity === 'warning'));
    fkFixture = (await fixtureDatabase(new URL('./rules/foreign-key-indexes.fixture.sql', import.meta.url))).connection;
    dupFixture = (await fixtureDatabase(new URL('./rules/duplicate-indexes.fixture.sql', import.meta.url))).connection;
  });

  it('exits 0 on the project schema and prints one line per check and the summary', async () => {
    const r = await cli(['--url', secretUrl(project)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^✓ primary-keys /m);
    expect(r.stdout).toMatch(/^✓ migration-data-preservation /m);
    expect(r.stdout).toMatch(/^\d+ passed, 0 failed, 0 warnings in [\d.]+ s, \d+ queries$/m);
    expect(r.stdout).not.toContain(project.password!);
  });

  it('exits 1 on findings, with the documented --json shape and a JUnit file', async () => {
    const junit = path.join(mkdtempSync(path.join(os.tmpdir(), 'pgsteward-junit-')), 'reports', 'checks.xml');
    const r = await cli(['--url', secretUrl(fkFixture), '--only', 'invalid-indexes,foreign-key-indexes', '--json', '--junit', junit]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ schemaVersion: 1, database: fkFixture.database, ok: false, exitCode: 1, strict: false });
    expect(doc.summary).toEqual({ passed: expect.any(Number), failed: 4, warnings: 0 });
    expect(doc.checks.map((c: { id: string; status: string }) => [c.id, c.status])).toEqual([
      ['foreign-key-indexes', 'failed'],
      ['invalid-indexes', 'passed'],
    ]);
    expect(doc.checks[0].findings[0]).toEqual({
      severity: 'error',
      object: 'public.invoices.invoices_account_id_fkey',
      message: expect.stringContaining('has no index'),
      fix: 'CREATE INDEX CONCURRENTLY IF NOT EXISTS invoices_account_id_idx ON public.invoices (account_id);',
      fixable: true,
    });
    expect(doc.checks[0].passedCount).toBe(doc.checks[0].passed.length);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<testsuite name="foreign-key-indexes" tests="\d+" failures="4" errors="0"/);
    expect(xml).toContain('<failure type="error"');
  });

  it('lets warnings pass unless --strict', async () => {
    const lax = await cli(['--url', secretUrl(dupFixture), '--only', 'duplicate-indexes']);
    expect(lax.code).toBe(0);
    expect(lax.stdout).toMatch(/^! duplicate-indexes /m);
    expect(lax.stdout).toMatch(/, 0 failed, 3 warnings /);
    const strict = await cli(['--url', secretUrl(dupFixture), '--only', 'duplicate-indexes', '--strict']);
    expect(strict.code).toBe(1);
  });

  it('exits 2 with one line and no password when it cannot connect or log in', async () => {
    const wrong = await cli(['--url', secretUrl({ ...project, password: 'not-the-password-42' })]);
    expect(wrong.code).toBe(2);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toMatch(/^error: cannot connect to postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/ckcli_\w+: authentication failed/);
    expect(wrong.stderr).not.toContain('not-the-password-42');

    const down = await cli(['--url', secretUrl({ ...project, port: 1 })]);
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/^error: cannot connect to .*: connection refused; /);
    expect(down.stderr).not.toContain(project.password!);

    const bad = await cli(['--url', 'mysql://root:topsecret@db/x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(bad.stderr).not.toContain('topsecret');
  });

  it('honours --config: with no policy in it only the generic checks run, and the report names the policies not evaluated', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-cfg-'));
    const generic = path.join(dir, 'generic.json');
    writeFileSync(generic, JSON.stringify({ migrations: path.join(REPO_ROOT, 'migrations'), checks: { probeRows: { 'public.users': { email: 'p@example.test', slug: 'p' } } } }));
    const r = await cli(['--url', secretUrl(project), '--config', generic, '--json']);
    expect(r.stderr).toBe('');
    const doc = JSON.parse(r.stdout);
    expect(doc.policiesNotEvaluated).toEqual([...POLICIES]);
    const ids = doc.checks.map((c: { id: string }) => c.id);
    for (const id of ['email-unique', 'search', 'privileges', 'updated-at-triggers', 'migration-state']) expect(ids).not.toContain(id);
    expect(ids).toEqual(expect.arrayContaining(['configuration', 'duplicate-indexes', 'foreign-key-indexes', 'invalid-indexes', 'primary-keys']));
    expect(doc.checks.find((c: { id: string }) => c.id === 'configuration').status).toBe('passed');
    const human = await cli(['--url', secretUrl(project), '--config', generic, '--only', 'configuration,invalid-indexes']);
    expect(human.stdout).toMatch(/^policies not evaluated \(not enabled in the configuration\): uuidv7-keys, updated-at, email-case-insensitive, search, roles, ledger$/m);
  });

  it('refuses a config file with a typo or a wrong type: exit 2, one line naming the file, the key and the fix', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-cfg-'));
    const typo = path.join(dir, 'typo.json');
    writeFileSync(typo, JSON.stringify({ checks: { probeRow: {} } }));
    const r = await cli(['--url', secretUrl(project), '--config', typo]);
    expect(r).toEqual({ code: 2, stdout: '', stderr: `error: ${typo}: checks.probeRow is not a known setting; did you mean checks.probeRows?\n` });
    writeFileSync(typo, JSON.stringify({ pool: { max: 'ten' } }));
    const t = await runCli('checks/cli.ts', ['--url', secretUrl({ ...project, password: undefined })], { PGSTEWARD_CONFIG: typo, PGPASSWORD: project.password! });
    expect(t).toEqual({ code: 2, stdout: '', stderr: `error: ${typo}: pool.max must be a whole number from 1 to 1000; fix the value or remove the key\n` });
  });

  it("checks another application's database from this checkout with no configuration: generic checks only, said on stderr", async () => {
    const foreign = (await fixtureDatabase(new URL('./generic.fixture.sql', import.meta.url))).connection;
    const r = await cli(['--url', secretUrl(foreign), '--json']);
    expect(r.stderr).toMatch(/^note: .*pgsteward\.config\.json describes databases built from migrations, and \w+ was not: checking it with no configuration \(generic checks only; migration-lint, migration-data-preservation, schema-drift need --migrations DIR\); pass --config FILE for its own settings\n$/);
    const doc = JSON.parse(r.stdout);
    expect(doc.policiesNotEvaluated).toEqual([...POLICIES]);
    const ids = doc.checks.map((c: { id: string }) => c.id);
    expect(ids).not.toContain('schema-drift');
    // Not one finding about our own tables: the configuration check has nothing configured to look for.
    expect(doc.checks.find((c: { id: string }) => c.id === 'configuration').findings).toEqual([]);
    expect(doc.summary.failed).toBe(0);
    const only = await cli(['--url', secretUrl(foreign), '--only', 'schema-drift']);
    expect(only.code).toBe(2);
    expect(only.stderr).toMatch(/^error: schema-drift compare \w+ with its migrations, .*; pass --migrations DIR/);
  });

  it('exits 2 on an unknown check id and shows the ids in --help', async () => {
    const r = await cli(['--url', secretUrl(project), '--skip', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown check id "nope"; use one of: configuration, duplicate-indexes, email-unique, /);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--roles-of NAME');
    expect(help.stdout).toMatch(/^ {2}migration-data-preservation/m);
  });
});
