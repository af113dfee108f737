import { describe, expect, it } from 'vitest';
import { roleNames, ROLE_KINDS } from '../../core/config/role-names.ts';
import { catalogFindings, probeFindings, type RoleRow, type Violation } from './privileges.findings.ts';

/** The privileges check's judgement, on rows: no server. */

const names = roleNames('shop');
const pool = { max: 10, min: 2, instances: 1 };
const ctx = { database: 'shop', names, pool };

function roles(over: Partial<Record<string, Partial<RoleRow>>> = {}): RoleRow[] {
  return ROLE_KINDS.map((kind) => ({
    kind,
    name: names[kind],
    exists: true,
    rolsuper: false,
    rolcreatedb: false,
    rolcreaterole: false,
    rolreplication: false,
    rolbypassrls: false,
    rolcanlogin: kind !== 'owner',
    rolconnlimit: kind === 'app' ? 10 : -1,
    member_of: kind === 'migrator' ? [names.owner] : [],
    ...over[kind],
  }));
}
const v = (kind: Violation['kind'], role: string, over: Partial<Violation> = {}): Violation => ({ kind, role, schema: null, name: null, described: null, privileges: null, ...over });

describe('privileges findings from catalog rows', () => {
  it('passes the model, saying what it verified', () => {
    const r = catalogFindings({ roles: roles(), violations: [] }, ctx);
    expect(r.findings).toEqual([]);
    expect(r.passed).toEqual(
      expect.arrayContaining(['shop_app: CONNECTION LIMIT 10 matches the pool budget', 'shop_app: member of no other role', 'shop_app: DML grants only', 'shop_readonly: no write privilege on any table or sequence', 'PUBLIC: no CREATE on any schema']),
    );
  });

  it('names missing roles, powers, a login owner, the connection limit and memberships, with the SQL that fixes each', () => {
    const r = catalogFindings({ roles: roles({ backup: { exists: false }, app: { rolcreatedb: true, rolbypassrls: true, rolconnlimit: -1, member_of: ['pg_execute_server_program', 'shop_owner'] }, owner: { rolcanlogin: true } }), violations: [] }, ctx);
    expect(r.findings.map((f) => [f.message, f.fix])).toEqual([
      ['owner role shop_owner can log in; it should only be assumed through SET ROLE', 'ALTER ROLE shop_owner NOLOGIN;'],
      ['role shop_app (app) has CREATEDB, BYPASSRLS', 'ALTER ROLE shop_app NOCREATEDB NOBYPASSRLS;'],
      ['role shop_backup (backup) does not exist', 'npm run setup-db -- --database shop   # or check against another database\'s roles with --roles-of NAME'],
      ['app role shop_app has no connection limit; the pool budget is 10 (10 per instance × 1)', 'ALTER ROLE shop_app CONNECTION LIMIT 10;'],
      ['app role shop_app is a member of pg_execute_server_program, shop_owner and inherits what they may do', 'REVOKE pg_execute_server_program FROM shop_app; REVOKE shop_owner FROM shop_app;'],
    ]);
  });

  it('turns each violation into a finding, quoting names only where they need it', () => {
    const r = catalogFindings(
      {
        roles: roles(),
        violations: [
          v('schema-create', names.app, { schema: 'Billing' }),
          v('public-create', 'PUBLIC', { schema: 'public' }),
          v('database-create', names.app, { schema: 'shop' }),
          v('owns', names.app, { described: 'table public.app_scratch' }),
          v('table-extra', names.app, { schema: 'public', name: 'Orders', privileges: ['TRUNCATE', 'TRIGGER'] }),
          v('grant-option', names.app, { schema: 'public', name: 'users' }),
          v('write', names.readonly, { schema: 'public', name: 'users', privileges: ['INSERT'] }),
        ],
      },
      ctx,
    );
    expect(r.findings.map((f) => f.fix)).toEqual([
      'REVOKE CREATE ON SCHEMA "Billing" FROM shop_app;',
      'REVOKE CREATE ON SCHEMA public FROM PUBLIC;',
      'REVOKE CREATE ON DATABASE shop FROM shop_app; REVOKE CREATE ON DATABASE shop FROM PUBLIC;',
      'REASSIGN OWNED BY shop_app TO shop_owner;',
      'REVOKE TRUNCATE, TRIGGER ON public."Orders" FROM shop_app;',
      'REVOKE GRANT OPTION FOR ALL ON public.users FROM shop_app;',
      'REVOKE INSERT ON public.users FROM shop_readonly;',
    ]);
    expect(r.passed).not.toContain('shop_app: DML grants only');
    expect(r.passed).not.toContain('PUBLIC: no CREATE on any schema');
    expect(r.passed).toContain('shop_backup: no write privilege on any table or sequence');
  });
});

describe('privileges findings from probe outcomes', () => {
  const refused = { ok: false as const, code: '42501', message: 'permission denied' };
  it('passes refusals, fails what succeeded or failed otherwise, and skips what was not there', () => {
    const r = probeFindings([
      { role: 'shop_app', what: 'DROP TABLE public.users', expect: 'refused', result: refused, fix: 'x' },
      { role: 'shop_app', what: 'TRUNCATE public.users', expect: 'refused', result: { ok: true }, fix: 'REVOKE TRUNCATE ON public.users FROM shop_app;' },
      { role: 'shop_app', what: 'CREATE TABLE in schema x', expect: 'refused', result: { ok: false, code: '3F000', message: 'no schema' }, fix: 'x' },
      { role: 'shop_readonly', what: 'INSERT INTO public.users', expect: 'refused', result: { ok: false, code: '23502', message: 'null value' }, fix: 'y' },
      { role: 'shop_app', what: 'insert into and read public.users', expect: 'allowed', result: { ok: true }, fix: 'z' },
    ]);
    expect(r.passed).toEqual(['shop_app: DROP TABLE public.users is refused (42501)', 'shop_app: can insert into and read public.users']);
    expect(r.findings.map((f) => f.message)).toEqual([
      'shop_app: TRUNCATE public.users succeeded in a rolled-back probe',
      'shop_readonly: INSERT INTO public.users failed with 23502 instead of 42501: null value in a rolled-back probe',
    ]);
  });

  it('warns once per role it could not act as', () => {
    const cannot = { ok: false as const, code: 'cannot-set-role', message: 'permission denied to set role' };
    const r = probeFindings([
      { role: 'shop_app', what: 'a', expect: 'refused', result: cannot, fix: '' },
      { role: 'shop_app', what: 'b', expect: 'allowed', result: cannot, fix: '' },
    ]);
    expect(r.findings).toEqual([{ object: 'shop_app', message: 'could not act as shop_app to probe its privileges: permission denied to set role', fix: 'run the checks as a superuser, or GRANT shop_app TO the checking user', severity: 'warning' }]);
  });
});
