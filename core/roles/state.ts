import type { Sql } from '../db/connect.ts';
import { parseServerInfo } from '../db/server.ts';
import type { AclEntry } from './changes.ts';
import { type RoleModel, roleNamesOf } from './model.ts';

/**
 * What the server holds about the model's roles, read once per phase: one query for the
 * cluster (roles, memberships, settings, the database's owner and ACL, parameter grants) and
 * one inside the database (schemas, every table, sequence, function and column ACL in the
 * managed schemas, default privileges, objects owned by login roles). ACL entries come back
 * only for the five roles and PUBLIC, with built-in defaults made explicit (acldefault).
 */

export interface RoleRow {
  name: string;
  superuser: boolean;
  createdb: boolean;
  createrole: boolean;
  replication: boolean;
  bypassrls: boolean;
  inherit: boolean;
  login: boolean;
  connlimit: number;
  /** `infinity`, a timestamp, or null for none. */
  validUntil: string | null;
  /** The stored SCRAM verifier; read only when the administrator is a superuser. */
  password?: string | null;
}

export interface MembershipRow {
  role: string;
  member: string;
  grantor: string;
  admin: boolean;
  /** PostgreSQL 16+; before that every membership inherits (per rolinherit) and allows SET ROLE. */
  inherit: boolean;
  set: boolean;
}

export interface SettingRow {
  role: string;
  database: string | undefined;
  /** `name=value` */
  config: string[];
}

export interface ClusterState {
  serverVersion: string;
  serverVersionNum: number;
  admin: { name: string; superuser: boolean; /** may act as the owner role (INHERIT and SET) */ usesOwner: boolean };
  roles: RoleRow[];
  memberships: MembershipRow[];
  settings: SettingRow[];
  database: { owner: string; acl: AclEntry[] } | undefined;
  parameters: Array<{ name: string; acl: AclEntry[] }>;
}

export interface RelationRow {
  schema: string;
  name: string;
  /** pg_class.relkind: r p v m f (table privileges) or S (sequence privileges). */
  relkind: string;
  owner: string;
  acl: AclEntry[];
}

export interface ColumnRow {
  schema: string;
  table: string;
  column: string;
  owner: string;
  acl: AclEntry[];
}

export interface RoutineRow {
  schema: string;
  name: string;
  /** pg_get_function_identity_arguments: SQL text, e.g. `integer, text`. */
  args: string;
  /** f function, p procedure, a aggregate, w window */
  kind: string;
  owner: string;
  acl: AclEntry[];
}

export interface DefaultAclRow {
  role: string;
  schema: string | undefined;
  objtype: string;
  acl: AclEntry[];
}

export interface DatabaseState {
  schemas: Array<{ name: string; owner: string; acl: AclEntry[] }>;
  relations: RelationRow[];
  columns: ColumnRow[];
  routines: RoutineRow[];
  defaults: DefaultAclRow[];
  /** Objects (in this database, or shared) owned by one of the login roles. */
  owned: Array<{ role: string; type: string; identity: string }>;
  /**
   * Objects in the managed schemas owned by a role outside the model (a superuser that ran the
   * application's migrations, a DBA): the owner role should own them. `alter` is the statement
   * head that changes the owner; `actable` says whether the administrator may (superuser, or
   * able to act as the current owner).
   */
  foreignOwned: ForeignOwnedRow[];
}

export interface ForeignOwnedRow {
  /** `ALTER TABLE "public"."users"`, `ALTER ROUTINE "public"."f"(integer)`. */
  alter: string;
  /** `table public.users`: for the change line. */
  label: string;
  /** The key the privilege plan knows the object by: `public.users`, `public.f(integer)`. */
  key: string;
  owner: string;
  actable: boolean;
}

/**
 * SQL: the managed grantees' entries of one ACL as a JSON array; a NULL ACL means the built-in
 * default for the object type `kind` (an SQL expression of type "char").
 */
function aclJson(acl: string, kind: string, owner: string): string {
  return `(SELECT coalesce(json_agg(json_build_object('grantee', w.name, 'grantor', pg_get_userbyid(x.grantor), 'privilege', x.privilege_type, 'grantable', x.is_grantable) ORDER BY w.name, x.privilege_type), '[]'::json)
      FROM aclexplode(coalesce(${acl}, acldefault(${kind}, ${owner}))) x JOIN who w ON w.oid = x.grantee)`;
}

const WHO = `WITH who AS (
  SELECT r.oid, r.rolname::text AS name FROM pg_roles r WHERE r.rolname = ANY($1::text[])
  UNION ALL SELECT 0::oid, 'PUBLIC'
)`;

/** The cluster query for a server version and administrator; exported so tests can read it. */
export function clusterStateQuery(versionNum: number, superuser: boolean): string {
  const v16 = versionNum >= 160000;
  const password = superuser ? `, 'password', (SELECT a.rolpassword FROM pg_authid a WHERE a.oid = r.oid)` : '';
  const parameters =
    versionNum >= 150000
      ? `(SELECT coalesce(json_agg(json_build_object('name', p.parname, 'acl', ${aclJson('p.paracl', `'p'`, '10')}) ORDER BY p.parname), '[]'::json)
          FROM pg_parameter_acl p WHERE EXISTS (SELECT 1 FROM aclexplode(p.paracl) x JOIN who w ON w.oid = x.grantee AND w.oid <> 0))`
      : `'[]'::json`;
  return `${WHO}
SELECT json_build_object(
  'roles', (SELECT coalesce(json_agg(json_build_object('name', r.rolname, 'superuser', r.rolsuper, 'createdb', r.rolcreatedb,
      'createrole', r.rolcreaterole, 'replication', r.rolreplication, 'bypassrls', r.rolbypassrls, 'inherit', r.rolinherit,
      'login', r.rolcanlogin, 'connlimit', r.rolconnlimit, 'validUntil', r.rolvaliduntil::text${password}) ORDER BY r.rolname), '[]'::json)
    FROM pg_roles r WHERE r.rolname = ANY($1::text[])),
  'memberships', (SELECT coalesce(json_agg(json_build_object('role', g.rolname, 'member', m.rolname, 'grantor', pg_get_userbyid(a.grantor),
      'admin', a.admin_option, 'inherit', coalesce((to_jsonb(a)->>'inherit_option')::boolean, true),
      'set', coalesce((to_jsonb(a)->>'set_option')::boolean, true)) ORDER BY m.rolname, g.rolname), '[]'::json)
    FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid JOIN pg_roles m ON m.oid = a.member WHERE m.rolname = ANY($1::text[])),
  'settings', (SELECT coalesce(json_agg(json_build_object('role', r.rolname, 'database', d.datname, 'config', s.setconfig) ORDER BY r.rolname, d.datname), '[]'::json)
    FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole LEFT JOIN pg_database d ON d.oid = s.setdatabase WHERE r.rolname = ANY($1::text[])),
  'database', (SELECT json_build_object('owner', pg_get_userbyid(d.datdba), 'acl', ${aclJson('d.datacl', `'d'`, 'd.datdba')}) FROM pg_database d WHERE d.datname = $2),
  'usesOwner', (SELECT pg_has_role(current_user, r.oid, 'USAGE')${v16 ? ` AND pg_has_role(current_user, r.oid, 'SET')` : ''} FROM pg_roles r WHERE r.rolname = $3),
  'parameters', ${parameters}
) AS state`;
}

interface ClusterJson extends Omit<ClusterState, 'serverVersion' | 'serverVersionNum' | 'admin' | 'database' | 'settings'> {
  database: ClusterState['database'] | null;
  settings: Array<{ role: string; database: string | null; config: string[] }>;
  usesOwner: boolean | null;
}

/** Two round trips: who and what the server is, then everything about the five roles. */
export async function readClusterState(sql: Sql, model: RoleModel): Promise<ClusterState> {
  const [who] = await sql<{ v: string; n: number; name: string; superuser: boolean }[]>`
    select current_setting('server_version') as v, current_setting('server_version_num')::int as n,
           current_user::text as name, rolsuper as superuser from pg_roles where rolname = current_user`;
  const server = parseServerInfo(who!.v, who!.n);
  const [row] = await sql.unsafe<{ state: ClusterJson }[]>(clusterStateQuery(server.versionNum, who!.superuser), [roleNamesOf(model), model.database, model.roles.owner] as never[]);
  const s = row!.state;
  return {
    serverVersion: server.version,
    serverVersionNum: server.versionNum,
    admin: { name: who!.name, superuser: who!.superuser, usesOwner: who!.superuser || Boolean(s.usesOwner) },
    roles: s.roles,
    memberships: s.memberships,
    settings: s.settings.map((x) => ({ role: x.role, database: x.database ?? undefined, config: x.config })),
    database: s.database ?? undefined,
    parameters: s.parameters,
  };
}

const NOT_EXTENSION_MEMBER = (catalog: string, oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '${catalog}'::regclass AND e.objid = ${oid} AND e.deptype = 'e')`;

export const DATABASE_STATE_QUERY = `${WHO},
nsp AS (SELECT n.oid, n.nspname::text AS name FROM pg_namespace n WHERE n.nspname = ANY($2::text[])),
rel AS (
  SELECT c.oid, s.name AS schema, c.relname::text AS name, c.relkind::text AS relkind, c.relowner, c.relacl
  FROM pg_class c JOIN nsp s ON s.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND ${NOT_EXTENSION_MEMBER('pg_class', 'c.oid')}
)
SELECT json_build_object(
  'schemas', (SELECT coalesce(json_agg(json_build_object('name', n.nspname, 'owner', pg_get_userbyid(n.nspowner),
      'acl', ${aclJson('n.nspacl', `'n'`, 'n.nspowner')}) ORDER BY n.nspname), '[]'::json)
    FROM pg_namespace n WHERE n.nspname = ANY($2::text[])),
  'relations', (SELECT coalesce(json_agg(json_build_object('schema', c.schema, 'name', c.name, 'relkind', c.relkind, 'owner', pg_get_userbyid(c.relowner),
      'acl', ${aclJson('c.relacl', `(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::"char"`, 'c.relowner')}) ORDER BY c.schema, c.name), '[]'::json)
    FROM rel c),
  'columns', (SELECT coalesce(json_agg(json_build_object('schema', c.schema, 'table', c.name, 'column', a.attname, 'owner', pg_get_userbyid(c.relowner),
      'acl', ${aclJson('a.attacl', `'c'`, 'c.relowner')}) ORDER BY c.schema, c.name, a.attnum), '[]'::json)
    FROM rel c JOIN pg_attribute a ON a.attrelid = c.oid
    WHERE a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped
      AND EXISTS (SELECT 1 FROM aclexplode(a.attacl) x JOIN who w ON w.oid = x.grantee)),
  'routines', (SELECT coalesce(json_agg(json_build_object('schema', s.name, 'name', p.proname, 'args', pg_get_function_identity_arguments(p.oid),
      'kind', p.prokind, 'owner', pg_get_userbyid(p.proowner), 'acl', ${aclJson('p.proacl', `'f'`, 'p.proowner')}) ORDER BY s.name, p.proname, p.oid), '[]'::json)
    FROM pg_proc p JOIN nsp s ON s.oid = p.pronamespace WHERE ${NOT_EXTENSION_MEMBER('pg_proc', 'p.oid')}),
  'defaults', (SELECT coalesce(json_agg(json_build_object('role', x.role, 'schema', x.schema, 'objtype', x.objtype, 'acl', x.acl) ORDER BY x.role, x.schema, x.objtype), '[]'::json) FROM (
      SELECT pg_get_userbyid(d.defaclrole)::text AS role, n.nspname::text AS schema, d.defaclobjtype::text AS objtype,
             ${aclJson('d.defaclacl', `'r'`, 'd.defaclrole')} AS acl
        FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
       WHERE NOT (d.defaclnamespace = 0 AND d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = $3) AND d.defaclobjtype IN ('r', 'S', 'f'))
      UNION ALL
      -- The owner's defaults in every schema, as they take effect: no row means the built-in default.
      SELECT o.rolname::text, NULL, t.objtype, ${aclJson('d.defaclacl', 't.code::"char"', 'o.oid')}
        FROM pg_roles o CROSS JOIN (VALUES ('r', 'r'), ('S', 's'), ('f', 'f')) AS t(objtype, code)
        LEFT JOIN pg_default_acl d ON d.defaclrole = o.oid AND d.defaclnamespace = 0 AND d.defaclobjtype::text = t.objtype
       WHERE o.rolname = $3) x),
  'foreignOwned', (SELECT coalesce(json_agg(json_build_object('alter', f.alter, 'label', f.label, 'key', f.key, 'owner', f.owner,
      'actable', pg_has_role(current_user, f.owner_oid, 'USAGE')) ORDER BY f.key), '[]'::json) FROM (
      SELECT format('ALTER %s %I.%I', CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, c.schema, c.name) AS alter,
             format('%s %s.%s', CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' WHEN 'S' THEN 'sequence' ELSE 'table' END, c.schema, c.name) AS label,
             c.schema || '.' || c.name AS key, pg_get_userbyid(c.relowner)::text AS owner, c.relowner AS owner_oid
        FROM rel c
       -- a sequence that belongs to a column follows its table's owner
       WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))
      UNION ALL
      SELECT format('ALTER ROUTINE %I.%I(%s)', s.name, p.proname, pg_get_function_identity_arguments(p.oid)),
             format('%s %s.%s(%s)', CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END, s.name, p.proname, pg_get_function_identity_arguments(p.oid)),
             s.name || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', pg_get_userbyid(p.proowner)::text, p.proowner
        FROM pg_proc p JOIN nsp s ON s.oid = p.pronamespace WHERE ${NOT_EXTENSION_MEMBER('pg_proc', 'p.oid')}
      UNION ALL
      SELECT format('ALTER %s %I.%I', CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, s.name, t.typname),
             format('%s %s.%s', CASE t.typtype WHEN 'd' THEN 'domain' ELSE 'type' END, s.name, t.typname),
             s.name || '.' || t.typname, pg_get_userbyid(t.typowner)::text, t.typowner
        FROM pg_type t JOIN nsp s ON s.oid = t.typnamespace
       WHERE (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND (SELECT k.relkind FROM pg_class k WHERE k.oid = t.typrelid) = 'c'))
         AND ${NOT_EXTENSION_MEMBER('pg_type', 't.oid')}
    ) f
    WHERE f.owner <> $3 AND f.owner <> ALL ($4::text[])),
  'owned', (SELECT coalesce(json_agg(json_build_object('role', r.rolname, 'type', o.type, 'identity', o.identity) ORDER BY r.rolname, o.type, o.identity), '[]'::json)
    FROM pg_shdepend d JOIN pg_roles r ON r.oid = d.refobjid
    CROSS JOIN LATERAL pg_identify_object(d.classid, d.objid, d.objsubid) o
    WHERE d.refclassid = 'pg_authid'::regclass AND d.deptype = 'o' AND r.rolname = ANY($4::text[])
      AND d.dbid IN (0, (SELECT oid FROM pg_database WHERE datname = current_database())))
) AS state`;

/** One round trip inside the database. */
export async function readDatabaseState(sql: Sql, model: RoleModel): Promise<DatabaseState> {
  const logins = model.specs.filter((s) => s.login).map((s) => s.name);
  const [row] = await sql.unsafe<{ state: DatabaseState & { defaults: Array<DefaultAclRow & { schema: string | null }> } }[]>(DATABASE_STATE_QUERY, [
    roleNamesOf(model),
    [...model.schemas],
    model.roles.owner,
    logins,
  ] as never[]);
  const s = row!.state;
  return { ...s, defaults: s.defaults.map((d) => ({ ...d, schema: d.schema ?? undefined })) };
}
