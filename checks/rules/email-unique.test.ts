import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureDatabase, objects, runOne } from '../test-support.ts';
import type { CheckResult } from '../types.ts';
import { caseInsensitiveBy } from './email-unique.ts';

describe('email-unique', () => {
  let r: CheckResult;
  beforeAll(async () => {
    const { connection } = await fixtureDatabase(new URL('./email-unique.fixture.sql', import.meta.url));
    r = await runOne('email-unique', {
      connection,
      expectations: {
        emailColumns: [
          { table: 'public.users', column: 'email' },
          { table: 'public.members', column: 'email' },
        ],
      },
    });
  });

  it('fails and names the case-sensitive column and the missing one', () => {
    expect(r.status).toBe('failed');
    expect(objects(r)).toEqual(['public.users.email', 'public.members.email']);
  });

  it('gives a unique lower() index as the fix', () => {
    expect(r.findings[0]!.fix).toBe('CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_lower_key ON public.users (lower(email));');
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
