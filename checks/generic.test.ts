import { beforeAll, describe, expect, it } from 'vitest';
import { POLICIES, type ChecksReport } from './types.ts';
import { runChecks } from './suite.ts';
import { fixtureDatabase } from './test-support.ts';
import { LEDGER_TABLES } from './lib/ledger-tables.ts';
import { unconfiguredExpectations } from './expectations.ts';

/**
 * Issue 13 §3: a database that is not ours, with no configuration, gets only real findings.
 * The fixture is built from the patterns that produced false errors on a real open-source
 * schema: partial foreign-key indexes, an app-maintained nullable updated_at, serial and
 * natural keys, other tools' ledgers, its own trigger function.
 */
describe('the checks on a database that is not ours, with no policy enabled', () => {
  let report: ChecksReport;
  let strict: ChecksReport;
  beforeAll(async () => {
    const { connection } = await fixtureDatabase(new URL('./generic.fixture.sql', import.meta.url), 'ckgeneric');
    report = await runChecks({ connection, config: unconfiguredExpectations(), verbose: true, target: { kind: 'local' } });
    // The same database with every policy: proves the fixture holds what the policies would flag.
    strict = await runChecks({ connection, verbose: true, target: { kind: 'local' }, only: ['primary-keys', 'updated-at-triggers'] });
  }, 120_000);

  const errors = (r: ChecksReport) => r.results.flatMap((c) => [...(c.status === 'error' ? [`${c.id}: could not run: ${c.error}`] : []), ...c.findings.filter((f) => f.severity === 'error').map((f) => `${c.id}: ${f.object}: ${f.message}`)]);

  it('reports no error-level finding and no check that could not run', () => {
    expect(errors(report)).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('runs only the generic checks, and names every policy it did not evaluate', () => {
    expect(report.policiesNotEvaluated).toEqual([...POLICIES]);
    expect(report.results.map((r) => r.id)).toEqual(expect.arrayContaining(['duplicate-indexes', 'foreign-key-indexes', 'function-search-path', 'invalid-indexes', 'primary-keys']));
    expect(report.results.map((r) => r.id)).not.toEqual(expect.arrayContaining(['updated-at-triggers']));
    expect(report.results.every((r) => r.findings.every((f) => f.policy === undefined))).toBe(true);
  });

  it('counts the partial foreign-key indexes as cover, and passes serial, identity, natural and composite keys', () => {
    const fk = report.results.find((r) => r.id === 'foreign-key-indexes')!;
    expect(fk.passed).toEqual(
      expect.arrayContaining([
        'public.posts: posts_author_id_fkey (author_id) is covered by posts_author_id_idx',
        'public.votes: votes_user_id_fkey (user_id) is covered by votes_user_id_idx',
        'public.users: users_country_code_fkey (country_code) is covered by users_country_code_idx',
      ]),
    );
    const keys = report.results.find((r) => r.id === 'primary-keys')!;
    expect(keys.passed).toEqual(
      expect.arrayContaining(['public.users: id bigint primary key', 'public.posts: id integer primary key', 'public.countries: code text primary key', 'public.votes: composite primary key (2 columns)']),
    );
  });

  it('leaves other tools\' ledgers out of every table-level check, even one without a primary key', () => {
    const tableLevel = report.results.filter((r) => ['primary-keys', 'foreign-key-indexes', 'duplicate-indexes', 'invalid-indexes'].includes(r.id));
    expect(tableLevel).toHaveLength(4);
    const named = tableLevel.flatMap((r) => [...r.passed, ...r.findings.map((f) => `${f.object} ${f.message}`)]);
    expect(named.some((l) => l.includes('public.users'))).toBe(true);
    for (const { table } of LEDGER_TABLES) expect(named.filter((l) => new RegExp(`\\b${table}\\b`).test(l)), table).toEqual([]);
  });

  it('would flag the same schema under our policies, so the zero above is the policies being off, not blindness', () => {
    const keys = strict.results.find((r) => r.id === 'primary-keys')!;
    expect(keys.findings.map((f) => [f.object, f.policy])).toEqual(
      expect.arrayContaining([
        ['public.users.id', 'uuidv7-keys'],
        ['public.posts.id', 'uuidv7-keys'],
      ]),
    );
    const triggers = strict.results.find((r) => r.id === 'updated-at-triggers')!;
    expect(triggers.findings.map((f) => f.object)).toEqual(expect.arrayContaining(['public.users', 'public.posts']));
    // Its fix calls the database's own trigger function only for its own column; for updated_at it has none, so it brings one.
    expect(triggers.findings.find((f) => f.object === 'public.posts')!.fix).toMatch(/^CREATE OR REPLACE FUNCTION set_updated_at\(\)/);
  });
});
