import { describe, expect, it } from 'vitest';
import { diffSnapshots, matchByDefinition } from './diff.ts';
import { privilegeStatements } from './fix.ts';
import type { CatalogObject } from './model.ts';

const NAMES = new Map([
  ['@owner', 'app_owner'],
  ['@app', 'app_app'],
  ['@readonly', 'app_readonly'],
  ['@admin', 'postgres'],
]);

const map = (...objects: CatalogObject[]) => new Map(objects.map((o) => [o.key, o]));

const table = (name: string, fields: Partial<CatalogObject['fields']> = {}): CatalogObject => ({
  type: 'table',
  key: `relation:public.${name}`,
  display: `public.${name}`,
  parent: 'schema:public',
  fields: { owner: '@owner', privileges: ['@app SELECT', 'OWNER SELECT'], 'column order': [], ...fields },
  sql: { drop: `DROP TABLE public.${name};` },
});
const column = (t: string, name: string, fields: Partial<CatalogObject['fields']> = {}): CatalogObject => ({
  type: 'column',
  key: `column:public.${t}.${name}`,
  display: `public.${t}.${name}`,
  parent: `relation:public.${t}`,
  fields: { type: 'text', nullable: 'NULL', default: null, privileges: [], ...fields },
});
const constraint = (t: string, name: string, definition: string, generatedName: boolean): CatalogObject => ({
  type: 'constraint',
  key: `constraint:public.${t}:${name}`,
  display: `${name} on public.${t}`,
  parent: `relation:public.${t}`,
  match: { table: `public.${t}`, name, signature: `c ${definition}`, generatedName },
  fields: { definition },
  sql: { create: `ALTER TABLE public.${t} ADD CONSTRAINT ${name} ${definition};`, drop: `ALTER TABLE public.${t} DROP CONSTRAINT ${name};` },
});
const index = (t: string, name: string, signature: string, generatedName: boolean): CatalogObject => ({
  type: 'index',
  key: `index:public.${name}`,
  display: `public.${name}`,
  parent: `relation:public.${t}`,
  match: { table: `public.${t}`, name, signature, generatedName },
  fields: { definition: signature, valid: 'yes' },
  sql: { create: `${signature.replace('INDEX ON', `INDEX ${name} ON`)};`, drop: `DROP INDEX public.${name};` },
});
const schema: CatalogObject = { type: 'schema', key: 'schema:public', display: 'public', fields: { owner: '@owner', privileges: [] } };

describe('diffSnapshots', () => {
  it('finds nothing between equal snapshots', () => {
    const side = map(schema, table('users'), column('users', 'email'));
    expect(diffSnapshots(side, map(...side.values()), NAMES)).toEqual([]);
  });

  it('reports an extra table once, with its columns, constraints and indexes inside that one finding', () => {
    const reference = map(schema, table('users'));
    const live = map(schema, table('users'), table('notes'), column('notes', 'body'), constraint('notes', 'notes_body_check', 'CHECK (body <> \'\')', true), index('notes', 'notes_body_idx', 'CREATE INDEX ON public.notes USING btree (body)', true));
    const findings = diffSnapshots(reference, live, NAMES);
    expect(findings.map((f) => [f.kind, f.objectType, f.object])).toEqual([['extra', 'table', 'public.notes']]);
    expect(findings[0]!.message).toBe('table public.notes exists in the database but no migration creates it (created outside migrations)');
    expect(findings[0]!.fix).toContain('`DROP TABLE public.notes;`');
    expect(findings[0]!.fix).toContain('pg_dump --schema-only --table=public.notes');
  });

  it('reports a missing schema once, not once per object in it', () => {
    const audit: CatalogObject = { ...schema, key: 'schema:audit', display: 'audit' };
    const t = { ...table('log'), key: 'relation:audit.log', display: 'audit.log', parent: 'schema:audit' };
    const c = { ...column('log', 'at'), parent: 'relation:audit.log' };
    const findings = diffSnapshots(map(schema, audit, t, c), map(schema), NAMES);
    expect(findings.map((f) => [f.kind, f.objectType, f.object])).toEqual([['missing', 'schema', 'audit']]);
  });

  it('matches a constraint by definition when PostgreSQL chose both names', () => {
    const reference = map(constraint('users', 'users_email_check', "CHECK (email ~ '@')", true));
    const live = map(constraint('users', 'users_email_check1', "CHECK (email ~ '@')", true));
    expect(diffSnapshots(reference, live, NAMES)).toEqual([]);
  });

  it('reports a renamed constraint whose name someone chose, with a RENAME both ways', () => {
    const reference = map(constraint('users', 'email_has_at', "CHECK (email ~ '@')", false));
    const live = map(constraint('users', 'users_email_check', "CHECK (email ~ '@')", true));
    const [f] = diffSnapshots(reference, live, NAMES);
    expect(f!.fields.map((x) => x.description)).toEqual(['name changed from email_has_at to users_email_check']);
    expect(f!.fix).toContain('`ALTER TABLE public.users RENAME CONSTRAINT email_has_at TO users_email_check;`');
    expect(f!.fix).toContain('`ALTER TABLE public.users RENAME CONSTRAINT users_email_check TO email_has_at;`');
  });

  it('reports a changed definition under the same name, re-created from the migrations\' definition', () => {
    const reference = map(index('users', 'users_email_idx', 'CREATE INDEX ON public.users USING btree (email)', true));
    const live = map(index('users', 'users_email_idx', 'CREATE INDEX ON public.users USING hash (email)', true));
    const [f] = diffSnapshots(reference, live, NAMES);
    expect(f!.kind).toBe('changed');
    expect(f!.fields[0]!.description).toBe('definition changed from CREATE INDEX ON public.users USING btree (email) to CREATE INDEX ON public.users USING hash (email)');
    expect(f!.fix).toContain('put the database back: `DROP INDEX public.users_email_idx; CREATE INDEX users_email_idx ON public.users USING btree (email);`');
  });

  it('pairs by name before definition, so two swapped definitions are two changes, not two renames', () => {
    const pairs = matchByDefinition(
      [index('t', 'a_idx', 'ON (a)', false), index('t', 'b_idx', 'ON (b)', false)],
      [index('t', 'a_idx', 'ON (b)', false), index('t', 'b_idx', 'ON (a)', false)],
    );
    expect(pairs.map((p) => [p.reference?.match?.name, p.live?.match?.name, Boolean(p.renamed)])).toEqual([
      ['a_idx', 'a_idx', false],
      ['b_idx', 'b_idx', false],
    ]);
  });

  it('compares only the relative order of the columns both sides have', () => {
    const reference = map(table('t', { 'column order': ['a', 'b', 'c'] }));
    expect(diffSnapshots(reference, map(table('t', { 'column order': ['a', 'x', 'b', 'c'] })), NAMES)).toEqual([]);
    const [f] = diffSnapshots(reference, map(table('t', { 'column order': ['a', 'c', 'b'] })), NAMES);
    expect(f!.fields.map((x) => x.description)).toEqual(['column order changed from a, b, c to a, c, b']);
  });

  it('names the live roles in messages and fix SQL, never the symbols', () => {
    const reference = map(table('users'));
    const live = map(table('users', { privileges: ['@app SELECT', '@app TRUNCATE', '@readonly SELECT*', 'OWNER SELECT'] }));
    const [f] = diffSnapshots(reference, live, NAMES);
    expect(f!.message).toBe('public.users: privileges: app_app gained TRUNCATE; app_readonly gained SELECT WITH GRANT OPTION');
    expect(f!.fix).toContain('`REVOKE TRUNCATE ON TABLE public.users FROM app_app; REVOKE SELECT ON TABLE public.users FROM app_readonly;`');
    expect(f!.fix).not.toMatch(/@(app|readonly|owner)/);
  });

  it('reports a trigger\'s full text only when no precise field explains the change', () => {
    const trig = (fields: Partial<CatalogObject['fields']>): CatalogObject => ({
      type: 'trigger',
      key: 'trigger:public.t:tr',
      display: 'tr on public.t',
      parent: 'relation:public.t',
      fields: { timing: 'BEFORE', events: 'UPDATE', level: 'ROW', function: 'public.f()', condition: null, enabled: 'enabled', definition: 'CREATE TRIGGER BEFORE UPDATE ON public.t FOR EACH ROW EXECUTE FUNCTION public.f()', ...fields },
    });
    const reference = map(trig({}));
    const timing = diffSnapshots(reference, map(trig({ timing: 'AFTER', definition: 'CREATE TRIGGER AFTER UPDATE …' })), NAMES);
    expect(timing[0]!.fields.map((f) => f.field)).toEqual(['timing']);
    const other = diffSnapshots(reference, map(trig({ definition: 'CREATE TRIGGER BEFORE UPDATE ON public.t REFERENCING … EXECUTE FUNCTION public.f()' })), NAMES);
    expect(other[0]!.fields.map((f) => f.field)).toEqual(['definition']);
  });

  it('says "none" for an absent value, and orders findings by object type then name', () => {
    const reference = map(table('b'), table('a'), column('a', 'x'));
    const live = map(table('b', { owner: '@admin' }), table('a'), column('a', 'x', { default: "'x'::text" }), table('c'));
    const findings = diffSnapshots(reference, live, NAMES);
    expect(findings.map((f) => f.message)).toEqual([
      'public.b: owner changed from app_owner to postgres',
      'table public.c exists in the database but no migration creates it (created outside migrations)',
      "public.a.x: default changed from none to 'x'::text",
    ]);
  });
});

describe('fix texts', () => {
  it('never promises an automatic fix, and always names both ways out', () => {
    const findings = diffSnapshots(map(table('a')), map(table('b')), NAMES);
    expect(findings).toHaveLength(2);
    for (const f of findings) expect(f.fix).toMatch(/^Either make it official with .+, or put the database back: .+\. Drift is never fixed automatically\.$/);
  });

  it('revokes only the grant option when the privilege itself stays', () => {
    expect(privilegeStatements(table('t'), ['@app SELECT*'], ['@app SELECT'])).toEqual(['GRANT SELECT ON TABLE public.t TO @app;', 'REVOKE GRANT OPTION FOR SELECT ON TABLE public.t FROM @app;']);
  });

  it('writes default-privilege changes as ALTER DEFAULT PRIVILEGES for the right role, schema and kind', () => {
    const d: CatalogObject = { type: 'default privileges', key: 'k', display: 'default privileges of @owner on tables in schema public', fields: { privileges: [] } };
    expect(privilegeStatements(d, ['@app SELECT'], ['@app SELECT', '@app DELETE'])).toEqual(['ALTER DEFAULT PRIVILEGES FOR ROLE @owner IN SCHEMA public GRANT DELETE ON TABLES TO @app;']);
  });
});
