import { beforeAll, describe, expect, it } from 'vitest';
import { parseProjectConfig } from '../../core/config/project-config.ts';
import { fixtureRun, runOne } from '../test-support.ts';
import type { CheckResult } from '../types.ts';
import { configuredNames, judgeConfiguration } from './configuration.ts';

describe('configuration', () => {
  let r: CheckResult;
  beforeAll(async () => {
    const { opts } = await fixtureRun(new URL('./configuration.fixture.sql', import.meta.url));
    r = await runOne('configuration', { ...opts, expectations: { ...opts.expectations, configFile: '/srv/app/pgsteward.config.json' } });
  });

  it('names each missing schema, table and column as the configuration’s mistake, with the key to fix', () => {
    expect(r.status).toBe('failed');
    expect(r.findings.map((f) => [f.object, f.severity, f.message])).toEqual([
      ['sales', 'error', '`sales` is configured as a schema to check but has no such schema; fix the config or the schema'],
      ['public.old_imports', 'warning', '`public.old_imports` is configured as a table to ignore but has no such table; fix the config or the schema'],
      ['public.users.mail', 'error', '`public.users.mail` is configured as an e-mail column but has no such column; fix the config or the schema'],
      ['public.docs.tsv', 'error', '`public.docs.tsv` is configured as full-text-searchable but has no such table; fix the config or the schema'],
      ['public.phrases.text', 'error', '`public.phrases.text` is configured as trigram-searchable but has no such column; fix the config or the schema'],
      ['public.users.nickname', 'error', "`public.users.nickname` is configured as a probe row's column but has no such column; fix the config or the schema"],
      ['public.ghosts', 'error', '`public.ghosts` is configured as a table with a probe row but has no such table; fix the config or the schema'],
    ]);
    expect(r.findings.find((f) => f.object === 'public.phrases.text')!.fix).toBe('correct checks.policies.search.trigram in /srv/app/pgsteward.config.json, or create the column in a migration');
    expect(r.findings.find((f) => f.object === 'public.ghosts')!.fix).toBe('correct checks.probeRows["public.ghosts"] in /srv/app/pgsteward.config.json, or create the table in a migration');
    expect(r.findings.every((f) => !f.fixable)).toBe(true);
  });

  it('lists what the configuration names and the database has', () => {
    expect(r.passed).toEqual([
      'public: exists, configured as a schema to check (checks.schemas)',
      'public.users.email: exists, configured as an e-mail column (checks.policies.emailCaseInsensitive.columns)',
      'public.phrases.body: exists, configured as trigram-searchable (checks.policies.search.trigram)',
      'public.users: exists, configured as a table with a probe row (checks.probeRows["public.users"])',
      'public.users.email: exists, configured as a probe row\'s column (checks.probeRows["public.users"])',
    ]);
  });
});

describe('configuredNames', () => {
  const parse = (checks: unknown) => parseProjectConfig({ checks }, { file: 'f.json', baseDir: '/', stateDir: '/', env: {} }).checks;

  it('with no configuration names nothing, so it passes on any database', () => {
    const ex = parse(undefined);
    expect(configuredNames(ex)).toEqual([]);
    expect(judgeConfiguration([], [], ex, false)).toEqual({ passed: ['the configuration names no table or column'], passedCount: 1, findings: [] });
  });

  it('reads a policy’s tables and columns only when the policy is on', () => {
    const off = parse({ policies: { emailCaseInsensitive: false, search: false } });
    expect(configuredNames(off)).toEqual([]);
    const on = parse({ policies: { emailCaseInsensitive: { columns: ['users.email'] }, search: { trigram: ['phrases.text'] } } });
    expect(configuredNames(on).map((n) => [n.schema, n.table, n.column, n.key])).toEqual([
      ['public', 'users', 'email', 'checks.policies.emailCaseInsensitive.columns'],
      ['public', 'phrases', 'text', 'checks.policies.search.trigram'],
    ]);
  });

  it('counts the names that exist when not listing', () => {
    const ex = parse({ policies: { emailCaseInsensitive: { columns: ['users.email', 'users.mail'] } } });
    const names = configuredNames(ex);
    const rows = [
      { i: 1, schema_exists: true, table_exists: true, column_exists: true },
      { i: 2, schema_exists: true, table_exists: true, column_exists: false },
    ];
    const out = judgeConfiguration(names, rows, ex, false);
    expect(out.passed).toEqual(['1 configured name exists in the database']);
    expect(out.passedCount).toBe(1);
    expect(out.findings.map((f) => f.fix)).toEqual(['correct checks.policies.emailCaseInsensitive.columns in f.json, or create the column in a migration']);
  });
});
