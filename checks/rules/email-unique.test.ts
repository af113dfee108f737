import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureRun, objects, runOne } from '../test-support.ts';
import type { CheckResult } from '../types.ts';
import { caseInsensitiveBy, judgeEmailColumns, type EmailRow } from './email-unique.ts';

describe('email-unique', () => {
  let r: CheckResult;
  beforeAll(async () => {
    // The fixture configures public.users.email and public.members.email as e-mail columns.
    const { opts } = await fixtureRun(new URL('./email-unique.fixture.sql', import.meta.url));
    r = await runOne('email-unique', opts);
  });

  it('fails and names the case-sensitive column, not the missing one (the configuration check names that)', () => {
    expect(r.status).toBe('failed');
    expect(objects(r)).toEqual(['public.users.email']);
    expect(r.passed.join('\n')).not.toContain('members');
  });

  it('gives a unique lower() index as the fix', () => {
    expect(r.findings[0]!.fix).toBe('CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_lower_key ON public.users (lower(email));');
    expect(r.findings[0]!.fixable).toBe(true);
  });

  it('passes a guarded column with no probe row by the catalog, saying the probe was skipped for lack of a row', () => {
    expect(r.passed).toEqual([
      'public.admins.email: unique lower() index public.admins_email_lower_key',
      'public.admins: case probe skipped, no row in checks.probeRows["public.admins"] (checked by catalog alone)',
    ]);
  });
});

describe('caseInsensitiveBy', () => {
  const ix = (key: string, extra: Partial<{ partial: boolean; nondeterministic: boolean }> = {}) => ({ name: 'i', relname: 'i', key, partial: false, nondeterministic: false, ...extra });
  it('accepts lower() and upper() expressions, citext, nondeterministic collations and a lower-case CHECK', () => {
    expect(caseInsensitiveBy(ix('lower(email)'), 'email', 'text', [])).toBeTruthy();
    expect(caseInsensitiveBy(ix('upper((email)::text)'), 'email', 'character varying(320)', [])).toBeTruthy();
    expect(caseInsensitiveBy(ix('email'), 'email', 'citext', [])).toBeTruthy();
    expect(caseInsensitiveBy(ix('email', { nondeterministic: true }), 'email', 'text', [])).toBeTruthy();
    expect(caseInsensitiveBy(ix('email'), 'email', 'text', ['CHECK ((email = lower(email)))'])).toBeTruthy();
  });
  it('refuses case-sensitive and partial indexes', () => {
    expect(caseInsensitiveBy(ix('email'), 'email', 'text', [])).toBeUndefined();
    expect(caseInsensitiveBy(ix('lower(email)', { partial: true }), 'email', 'text', [])).toBeUndefined();
    expect(caseInsensitiveBy(ix('lower(other)'), 'email', 'text', [])).toBeUndefined();
  });
});

describe('judgeEmailColumns', () => {
  const row: EmailRow = {
    key: 'public.users', raw_table: 'users', raw_column: 'email', tbl: 'public.users', table_exists: true, column: 'email',
    type: 'text', unique_indexes: [{ name: 'public.users_email_key', relname: 'users_email_key', key: 'email', partial: false, nondeterministic: false }], checks: [],
  };
  it('offers the index as a mechanical fix only when no addresses clash yet', () => {
    const clean = judgeEmailColumns([row], new Map(), {});
    expect(clean.findings[0]!.fixable).toBe(true);
    const clashing = judgeEmailColumns([row], new Map([['public.users.email', 3]]), {});
    expect(clashing.findings[0]!.fixable).toBeUndefined();
    expect(clashing.findings[0]!.message).toMatch(/3 addresses already clash regardless of case/);
  });
  it('plans a probe for a guarded column only when it has a probe row', () => {
    const guarded: EmailRow = { ...row, unique_indexes: [{ ...row.unique_indexes![0]!, key: 'lower(email)' }] };
    expect(judgeEmailColumns([guarded], new Map(), {}).guarded.map((g) => g.sample)).toEqual([undefined]);
    expect(judgeEmailColumns([guarded], new Map(), { 'public.users': { email: 'a@example.test' } }).guarded.map((g) => g.sample)).toEqual([{ email: 'a@example.test' }]);
  });
});
