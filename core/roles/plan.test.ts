import { describe, expect, it } from 'vitest';
import { aclChanges, batch, linesOf, type AclEntry } from './changes.ts';
import { roleModel, PUBLIC } from './model.ts';
import { modelStatements } from './model-sql.ts';
import { planDatabaseAccess, planRoles } from './plan-cluster.ts';
import { planPrivileges } from './plan-database.ts';
import { scramVerifier, verifierMatches } from './scram.ts';
import type { ClusterState, DatabaseState, RoleRow } from './state.ts';

/** Plans from catalog rows, no server: each kind of drift in, the statements and lines out. */

const model = roleModel({ database: 'shop', appConnectionLimit: 10 });
const r = model.roles;
const fixedVerifier = (pw: string) => `VERIFIER(${pw.length})`;

function role(name: string, over: Partial<RoleRow> = {}): RoleRow {
  const spec = model.specs.find((s) => s.name === name)!;
  return { name, superuser: false, createdb: false, createrole: false, replication: false, bypassrls: false, inherit: true, login: spec.login, connlimit: spec.connectionLimit, validUntil: null, ...over };
}
const entry = (grantee: string, privilege: string, grantor = r.owner, grantable = false): AclEntry => ({ grantee, grantor, privilege, grantable });

/** A cluster exactly as the model wants it. */
function converged(over: Partial<ClusterState> = {}): ClusterState {
  return {
    serverVersion: '17.10',
    serverVersionNum: 170010,
    admin: { name: 'postgres', superuser: true, usesOwner: true },
    roles: model.specs.map((s) => role(s.name)),
    memberships: [{ role: r.owner, member: r.migrator, grantor: 'postgres', admin: false, inherit: true, set: true }],
    settings: [{ role: r.migrator, database: 'shop', config: [`role=${r.owner}`] }],
    database: { owner: r.owner, acl: [r.migrator, r.app, r.readonly, r.backup].map((g) => entry(g, 'CONNECT')) },
    parameters: [],
    ...over,
  };
}

function convergedDatabase(over: Partial<DatabaseState> = {}): DatabaseState {
  const dml = ['DELETE', 'INSERT', 'SELECT', 'UPDATE'];
  const tableAcl = [...dml.map((p) => entry(r.app, p)), entry(r.readonly, 'SELECT'), entry(r.backup, 'SELECT')];
  return {
    schemas: [{ name: 'public', owner: r.owner, acl: [entry(r.app, 'USAGE'), entry(r.readonly, 'USAGE'), entry(r.backup, 'USAGE')] }],
    relations: [
      { schema: 'public', name: 'users', relkind: 'r', owner: r.owner, acl: tableAcl },
      { schema: 'public', name: '_sqlx_migrations', relkind: 'r', owner: r.owner, acl: [entry(r.readonly, 'SELECT'), entry(r.backup, 'SELECT')] },
      { schema: 'public', name: 'users_seq', relkind: 'S', owner: r.owner, acl: [entry(r.app, 'USAGE'), entry(r.readonly, 'SELECT'), entry(r.backup, 'SELECT')] },
    ],
    columns: [],
    routines: [{ schema: 'public', name: 'set_updated_at', args: '', kind: 'f', owner: r.owner, acl: [entry(r.app, 'EXECUTE'), entry(r.readonly, 'EXECUTE')] }],
    defaults: [
      { role: r.owner, schema: 'public', objtype: 'r', acl: tableAcl },
      { role: r.owner, schema: 'public', objtype: 'S', acl: [entry(r.app, 'USAGE'), entry(r.readonly, 'SELECT'), entry(r.backup, 'SELECT')] },
      { role: r.owner, schema: 'public', objtype: 'f', acl: [entry(r.app, 'EXECUTE'), entry(r.readonly, 'EXECUTE')] },
      { role: r.owner, schema: undefined, objtype: 'r', acl: [] },
      { role: r.owner, schema: undefined, objtype: 'S', acl: [] },
      { role: r.owner, schema: undefined, objtype: 'f', acl: [] },
    ],
    owned: [],
    foreignOwned: [],
    ...over,
  };
}

const plan = (state: ClusterState, passwords = {}) => [...planRoles({ state, model, passwords, verifier: fixedVerifier }), ...planDatabaseAccess(state, model)];

describe('a converged server needs nothing', () => {
  it('plans no statement for the cluster or the database', () => {
    expect(plan(converged())).toEqual([]);
    expect(planPrivileges(convergedDatabase(), model)).toEqual([]);
  });

  it('compares a given password with the stored verifier instead of resetting it', () => {
    const stored = scramVerifier('the-app-password-1');
    const state = converged({ roles: model.specs.map((s) => role(s.name, s.name === r.app ? { password: stored } : {})) });
    expect(plan(state, { app: 'the-app-password-1' })).toEqual([]);
    expect(linesOf(plan(state, { app: 'another-password-22' }))).toEqual([`set the password of ${r.app}`]);
  });
});

describe('roles: every kind of drift becomes one line and the statement that undoes it', () => {
  it('creates missing roles with their attributes, and grants the migrator the owner', () => {
    const changes = plan(converged({ roles: [], memberships: [], settings: [] }), { app: 'app-password-long-1' });
    expect(changes.map((c) => c.sql)).toEqual(
      expect.arrayContaining([
        `CREATE ROLE "${r.owner}" NOLOGIN`,
        `CREATE ROLE "${r.migrator}" LOGIN`,
        `CREATE ROLE "${r.app}" LOGIN CONNECTION LIMIT 10 PASSWORD 'VERIFIER(19)'`,
        `GRANT "${r.owner}" TO "${r.migrator}" WITH INHERIT TRUE, SET TRUE`,
        `ALTER ROLE "${r.migrator}" IN DATABASE "shop" SET "role" = '${r.owner}'`,
      ]),
    );
  });

  it('revokes memberships the model does not give, each with its grantor on PostgreSQL 16+', () => {
    const state = converged({
      memberships: [
        ...converged().memberships,
        { role: 'pg_execute_server_program', member: r.app, grantor: 'postgres', admin: false, inherit: true, set: true },
        { role: r.owner, member: r.app, grantor: 'mallory', admin: false, inherit: true, set: true },
      ],
    });
    const changes = plan(state);
    expect(linesOf(changes)).toEqual([`revoked membership of ${r.app} in pg_execute_server_program`, `revoked membership of ${r.app} in ${r.owner}`]);
    expect(changes[1]!.sql).toBe(`REVOKE "${r.owner}" FROM "${r.app}" GRANTED BY "mallory" CASCADE`);
    expect(plan({ ...state, serverVersionNum: 150008 })[1]!.sql).toBe(`REVOKE "${r.owner}" FROM "${r.app}" CASCADE`);
  });

  it("takes ADMIN OPTION off the migrator's membership and restores INHERIT and SET", () => {
    const admin = plan(converged({ memberships: [{ role: r.owner, member: r.migrator, grantor: 'postgres', admin: true, inherit: false, set: true }] }));
    expect(linesOf(admin)).toEqual([`revoked ADMIN OPTION on the membership of ${r.migrator} in ${r.owner}`, `set INHERIT and SET on the membership of ${r.migrator} in ${r.owner}`]);
  });

  it('names each attribute it changes, in one ALTER ROLE that mentions only what differs', () => {
    const state = converged({ roles: model.specs.map((s) => role(s.name, s.name === r.app ? { createdb: true, bypassrls: true, connlimit: -1, validUntil: '2030-01-01 00:00:00+00' } : {})) });
    const [c] = plan(state);
    expect(c!.sql).toBe(`ALTER ROLE "${r.app}" NOCREATEDB NOBYPASSRLS CONNECTION LIMIT 10 VALID UNTIL 'infinity'`);
    expect(c!.sql).not.toMatch(/SUPERUSER|REPLICATION/); // an RDS master may not even mention them
    expect(c!.lines).toEqual([`removed CREATEDB from ${r.app}`, `removed BYPASSRLS from ${r.app}`, `set CONNECTION LIMIT 10 on ${r.app} (was no limit)`, `removed the expiry of ${r.app} (VALID UNTIL 2030-01-01 00:00:00+00)`]);
  });

  it('treats VALID UNTIL infinity as no expiry', () => {
    expect(plan(converged({ roles: model.specs.map((s) => role(s.name, { validUntil: 'infinity' })) }))).toEqual([]);
  });

  it('resets every setting the model does not have, anywhere, and corrects the one it has', () => {
    const state = converged({
      settings: [
        { role: r.app, database: undefined, config: ['statement_timeout=1s', 'myapp.mode=x'] },
        { role: r.migrator, database: 'shop', config: ['role=postgres', 'search_path=evil, public'] },
      ],
    });
    const changes = plan(state);
    expect(changes.map((c) => c.sql)).toEqual([
      `ALTER ROLE "${r.app}" RESET "statement_timeout"`,
      `ALTER ROLE "${r.app}" RESET "myapp"."mode"`,
      `ALTER ROLE "${r.migrator}" IN DATABASE "shop" RESET "search_path"`,
      `ALTER ROLE "${r.migrator}" IN DATABASE "shop" SET "role" = '${r.owner}'`,
    ]);
    expect(linesOf(changes)[3]).toBe(`set role=${r.owner} for ${r.migrator} in database shop (was postgres)`);
  });

  it("leaves the roles' settings in other databases alone: a copy restored with its source's roles is another database's model", () => {
    const state = converged({
      settings: [
        { role: r.migrator, database: 'shop', config: [`role=${r.owner}`] },
        { role: r.migrator, database: 'shop_copy', config: [`role=${r.owner}`, 'search_path=elsewhere'] },
      ],
    });
    expect(plan(state)).toEqual([]);
  });

  it('revokes parameter privileges (ALTER SYSTEM, SET) from the five roles', () => {
    const changes = plan(converged({ parameters: [{ name: 'archive_command', acl: [entry(r.app, 'ALTER SYSTEM', 'postgres')] }] }));
    expect(changes.map((c) => c.sql)).toEqual([`REVOKE ALTER SYSTEM ON PARAMETER "archive_command" FROM "${r.app}" CASCADE`]);
  });

  it('lets a non-superuser administrator act as the owner, once', () => {
    const rds = converged({ admin: { name: 'master', superuser: false, usesOwner: false } });
    expect(plan(rds).map((c) => c.sql)).toEqual([`GRANT "${r.owner}" TO "master" WITH INHERIT TRUE, SET TRUE`]);
    expect(plan({ ...rds, admin: { ...rds.admin, usesOwner: true } })).toEqual([]);
  });

  it('says when it cannot compare a password (a non-superuser administrator cannot read verifiers)', () => {
    const rds = converged({ admin: { name: 'master', superuser: false, usesOwner: true } });
    expect(linesOf(plan(rds, { app: 'app-password-long-1' }))).toEqual([`set the password of ${r.app} (not compared: a non-superuser administrator cannot read stored passwords)`]);
  });
});

describe('the database: owner, CONNECT, and nothing for PUBLIC', () => {
  it('takes the owner back and revokes what PUBLIC and the roles hold beyond CONNECT', () => {
    const state = converged({
      database: { owner: 'postgres', acl: [entry(PUBLIC, 'CONNECT', 'postgres'), entry(PUBLIC, 'TEMPORARY', 'postgres'), entry(r.app, 'CONNECT', 'postgres'), entry(r.app, 'CREATE', 'postgres')] },
    });
    expect(linesOf(plan(state))).toEqual([
      `made ${r.owner} the owner of database shop (was postgres)`,
      `granted CONNECT on database shop to ${r.migrator}`,
      `revoked CREATE on database shop from ${r.app}`,
      `granted CONNECT on database shop to ${r.readonly}`,
      `granted CONNECT on database shop to ${r.backup}`,
      `revoked CONNECT, TEMPORARY on database shop from PUBLIC`,
    ]);
  });
});

describe('inside the database', () => {
  const db = convergedDatabase();

  it('revokes extra table privileges and grant options, and grants what is missing', () => {
    const users = db.relations[0]!;
    const state = convergedDatabase({
      relations: [{ ...users, acl: [...users.acl.filter((e) => !(e.grantee === r.readonly)), entry(r.app, 'TRUNCATE'), { ...entry(r.backup, 'SELECT'), grantable: true }, entry(PUBLIC, 'SELECT')] }, ...db.relations.slice(1)],
    });
    const changes = planPrivileges(state, model);
    expect(linesOf(changes)).toEqual([
      `revoked TRUNCATE on table public.users from ${r.app}`,
      `granted SELECT on table public.users to ${r.readonly}`,
      `revoked the grant option for SELECT on table public.users from ${r.backup}`,
      `revoked SELECT on table public.users from PUBLIC`,
    ]);
    expect(changes[0]!.sql).toBe(`REVOKE TRUNCATE ON TABLE "public"."users" FROM "${r.app}" CASCADE`);
  });

  it('fences the ledger off from the app and grants sequences USAGE, not UPDATE', () => {
    const [users, ledger, seq] = db.relations;
    const state = convergedDatabase({ relations: [users!, { ...ledger!, acl: [...ledger!.acl, entry(r.app, 'SELECT')] }, { ...seq!, acl: [...seq!.acl, entry(r.app, 'UPDATE')] }] });
    expect(linesOf(planPrivileges(state, model))).toEqual([`revoked SELECT on table public._sqlx_migrations from ${r.app}`, `revoked UPDATE on sequence public.users_seq from ${r.app}`]);
  });

  it('revokes a grant someone else made as that grantor', () => {
    const users = db.relations[0]!;
    const state = convergedDatabase({ relations: [{ ...users, acl: [...users.acl, entry(r.app, 'TRIGGER', 'mallory')] }, ...db.relations.slice(1)] });
    const [c] = planPrivileges(state, model);
    expect(c!.sql).toBe(`SET ROLE "mallory"; REVOKE TRIGGER ON TABLE "public"."users" FROM "${r.app}" CASCADE; RESET ROLE`);
    expect(c!.lines).toEqual([`revoked TRIGGER on table public.users from ${r.app} (granted by mallory)`]);
  });

  it('revokes column grants beyond the table grant, keeping redundant ones', () => {
    const state = convergedDatabase({ columns: [{ schema: 'public', table: 'users', column: 'email', owner: r.owner, acl: [entry(r.readonly, 'UPDATE'), entry(r.app, 'UPDATE')] }] });
    const changes = planPrivileges(state, model);
    expect(changes.map((c) => c.sql)).toEqual([`REVOKE UPDATE ("email") ON TABLE "public"."users" FROM "${r.readonly}" CASCADE`]);
    expect(linesOf(changes)).toEqual([`revoked UPDATE on column email of table public.users from ${r.readonly}`]);
  });

  it('revokes EXECUTE from PUBLIC on functions (the built-in default grants it)', () => {
    const state = convergedDatabase({ routines: [{ ...db.routines[0]!, args: 'integer', acl: [...db.routines[0]!.acl, entry(PUBLIC, 'EXECUTE')] }] });
    expect(planPrivileges(state, model).map((c) => c.sql)).toEqual(['REVOKE EXECUTE ON ROUTINE "public"."set_updated_at"(integer) FROM PUBLIC CASCADE']);
  });

  it('gives objects owned by a login role to the owner, and plans grants as they will be after that', () => {
    const state = convergedDatabase({
      owned: [{ role: r.app, type: 'table', identity: 'public.app_scratch' }],
      relations: [...db.relations, { schema: 'public', name: 'app_scratch', relkind: 'r', owner: r.app, acl: ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'].map((p) => entry(r.app, p, r.app)) }],
    });
    const changes = planPrivileges(state, model);
    expect(changes[0]).toEqual({ sql: `REASSIGN OWNED BY "${r.app}" TO "${r.owner}"`, lines: [`gave table public.app_scratch (owned by ${r.app}) to ${r.owner}`], scope: 'database' });
    expect(linesOf(changes.slice(1))).toEqual([
      `granted SELECT, INSERT, UPDATE, DELETE on table public.app_scratch to ${r.app}`,
      `granted SELECT on table public.app_scratch to ${r.readonly}`,
      `granted SELECT on table public.app_scratch to ${r.backup}`,
    ]);
  });

  it('adopts what a role outside the model owns (the superuser that ran sqlx first), one ALTER each, and plans grants as they will be after that', () => {
    const ledger = { schema: 'public', name: '_sqlx_migrations', relkind: 'r', owner: 'postgres', acl: [] };
    const state = convergedDatabase({
      relations: [db.relations[0]!, ledger, db.relations[2]!],
      routines: [{ ...db.routines[0]!, owner: 'postgres', acl: [entry(r.app, 'EXECUTE', 'postgres'), entry(r.readonly, 'EXECUTE', 'postgres')] }],
      foreignOwned: [
        { alter: 'ALTER TABLE "public"."_sqlx_migrations"', label: 'table public._sqlx_migrations', key: 'public._sqlx_migrations', owner: 'postgres', actable: true },
        { alter: 'ALTER ROUTINE "public"."set_updated_at"()', label: 'function public.set_updated_at()', key: 'public.set_updated_at()', owner: 'postgres', actable: true },
        { alter: 'ALTER TYPE "public"."mood"', label: 'type public.mood', key: 'public.mood', owner: 'dba', actable: false },
      ],
    });
    const changes = planPrivileges(state, model);
    expect(changes.slice(0, 2)).toEqual([
      { sql: `ALTER TABLE "public"."_sqlx_migrations" OWNER TO "${r.owner}"`, lines: [`made ${r.owner} the owner of table public._sqlx_migrations (was postgres)`], scope: 'database' },
      { sql: `ALTER ROUTINE "public"."set_updated_at"() OWNER TO "${r.owner}"`, lines: [`made ${r.owner} the owner of function public.set_updated_at() (was postgres)`], scope: 'database' },
    ]);
    // grants postgres made become the owner's, so only the ledger's missing grants remain; a type the administrator cannot act for is left alone
    expect(linesOf(changes.slice(2))).toEqual([`granted SELECT on table public._sqlx_migrations to ${r.readonly}`, `granted SELECT on table public._sqlx_migrations to ${r.backup}`]);
  });

  it('takes the schema back, revokes CREATE on it and PUBLIC USAGE', () => {
    const state = convergedDatabase({ schemas: [{ name: 'public', owner: 'pg_database_owner', acl: [entry(r.app, 'USAGE', 'pg_database_owner'), entry(r.app, 'CREATE', 'pg_database_owner'), entry(r.readonly, 'USAGE', 'pg_database_owner'), entry(r.backup, 'USAGE', 'pg_database_owner'), entry(PUBLIC, 'USAGE', 'pg_database_owner')] }] });
    expect(linesOf(planPrivileges(state, model))).toEqual([
      `made ${r.owner} the owner of schema public (was pg_database_owner)`,
      `revoked CREATE on schema public from ${r.app}`,
      'revoked USAGE on schema public from PUBLIC',
    ]);
  });

  it('converges default privileges: the owner exactly, nobody else granting to the roles', () => {
    const state = convergedDatabase({
      defaults: [
        ...db.defaults.filter((d) => !(d.schema === undefined && d.objtype === 'f')),
        { role: r.owner, schema: undefined, objtype: 'f', acl: [entry(PUBLIC, 'EXECUTE')] },
        { role: r.owner, schema: 'public', objtype: 'T', acl: [entry(PUBLIC, 'USAGE')] },
        { role: 'postgres', schema: undefined, objtype: 'r', acl: [entry(r.app, 'TRUNCATE', 'postgres'), entry(PUBLIC, 'SELECT', 'postgres')] },
      ],
    });
    expect(planPrivileges(state, model).map((c) => c.sql)).toEqual([
      `ALTER DEFAULT PRIVILEGES FOR ROLE "${r.owner}" REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC CASCADE`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE "postgres" REVOKE TRUNCATE ON TABLES FROM "${r.app}" CASCADE`,
    ]);
  });

  it('sets the default privileges a new schema lacks', () => {
    const state = convergedDatabase({ defaults: db.defaults.filter((d) => d.schema === undefined) });
    expect(planPrivileges(state, model)).toHaveLength(8);
  });
});

describe('pieces', () => {
  it('matches SCRAM verifiers by recomputing with their salt and iterations', () => {
    const v = scramVerifier('correct-horse-battery-staple', Buffer.alloc(16, 7), 4096);
    expect(verifierMatches(v, 'correct-horse-battery-staple')).toBe(true);
    expect(verifierMatches(v, 'correct-horse-battery-stapl')).toBe(false);
    expect(verifierMatches('md5a3556571e93b0d20722ba62be61e8c2d', 'x')).toBe(false);
  });

  it('formats verifiers as PostgreSQL stores them, and never puts a password in a statement', () => {
    expect(scramVerifier('x', Buffer.alloc(16, 1), 4096)).toMatch(/^SCRAM-SHA-256\$4096:AQEBAQEBAQEBAQEBAQEBAQ==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
    const text = batch(planRoles({ state: converged({ roles: [] }), model, passwords: { app: 'plain-password-123' } }));
    expect(text).not.toContain('plain-password-123');
    expect(text).toMatch(/CREATE ROLE "shop_app" LOGIN CONNECTION LIMIT 10 PASSWORD 'SCRAM-SHA-256\$4096:/);
  });

  it('grants the app DML only, and never TRUNCATE, REFERENCES, TRIGGER or CREATE', () => {
    const text = modelStatements(model).join('\n');
    expect(text).toMatch(/GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "shop_app"/);
    expect(text).not.toMatch(/GRANT [^;\n]*(TRUNCATE|REFERENCES|TRIGGER|CREATE)[^;\n]*"shop_app"/);
    expect(text).not.toMatch(/PASSWORD/);
  });

  it('diffs an ACL against grants for any subject', () => {
    const s = { prefix: '', on: 'SCHEMA "x"', label: 'schema x', owner: 'o', grantorMatters: true };
    expect(aclChanges(s, [entry('a', 'USAGE', 'o'), entry('o', 'CREATE', 'o')], { a: ['USAGE'] }, ['a', 'o'], 'database')).toEqual([]);
  });
});
