import { ROLE_KINDS, type RoleNames } from '../../core/config/role-names.ts';
import type { Sql } from '../../core/db/connect.ts';
import type { CheckContext, ProbeSql } from '../types.ts';
import { splitTable, type Expectations } from '../expectations.ts';
import { notExtensionMember, relationInScope, schemaInScope } from '../lib/catalog.ts';
import { derivedIdent, qualified } from '../lib/identifiers.ts';
import { attemptAs, insertProbeRow, type Attempt } from '../lib/probe.ts';
import type { CatalogRows, ProbeOutcome, RoleRow, Violation } from './privileges.findings.ts';

/** The I/O half of the privileges check: two catalog queries, and behavioural probes as the roles. */

const ROLES_QUERY = `
SELECT w.kind, w.name, r.oid IS NOT NULL AS exists,
       coalesce(r.rolsuper, false) AS rolsuper, coalesce(r.rolcreatedb, false) AS rolcreatedb,
       coalesce(r.rolcreaterole, false) AS rolcreaterole, coalesce(r.rolreplication, false) AS rolreplication,
       coalesce(r.rolbypassrls, false) AS rolbypassrls, coalesce(r.rolcanlogin, false) AS rolcanlogin,
       coalesce(r.rolconnlimit, -1) AS rolconnlimit,
       array(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
              WHERE m.member = r.oid ORDER BY 1) AS member_of
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS w(kind, name, ord)
LEFT JOIN pg_roles r ON r.rolname = w.name
ORDER BY w.ord`;

/**
 * Everything the roles may do that they should not, in one pass over the catalog. $3 is the
 * app role (or NULL), $4 the roles that must not write, $5 the privileges beyond DML.
 * Names come back unquoted; the findings quote them.
 */
const VIOLATIONS_QUERY = `
WITH roles AS (SELECT unnest(array_remove(array[$3::text] || $4::text[], NULL)) AS name),
schemas AS (
  SELECT n.oid, n.nspname, n.nspacl, n.nspowner FROM pg_namespace n
  WHERE ${schemaInScope('$1')} AND ${notExtensionMember('n.oid', 'pg_namespace')}
),
rels AS (
  SELECT c.oid, c.relkind, n.nspname::text AS schema, c.relname::text AS name, pg_get_userbyid(c.relowner)::text AS owner
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND ${relationInScope('$1', '$2')}
)
SELECT 'schema-create' AS kind, r.name AS role, s.nspname::text AS schema, NULL::text AS name, NULL::text AS described, NULL::text[] AS privileges
  FROM roles r CROSS JOIN schemas s WHERE has_schema_privilege(r.name, s.oid, 'CREATE')
UNION ALL
SELECT 'public-create', 'PUBLIC', s.nspname::text, NULL, NULL, NULL
  FROM schemas s
 WHERE EXISTS (SELECT 1 FROM aclexplode(coalesce(s.nspacl, acldefault('n', s.nspowner))) x
                WHERE x.grantee = 0 AND x.privilege_type = 'CREATE')
UNION ALL
SELECT 'database-create', r.name, current_database()::text, NULL, NULL, NULL
  FROM roles r WHERE has_database_privilege(r.name, current_database(), 'CREATE')
UNION ALL
SELECT 'owns', r.name, NULL, NULL, o.type || ' ' || o.identity, NULL
  FROM roles r JOIN pg_roles pr ON pr.rolname = r.name
  JOIN pg_shdepend d ON d.refobjid = pr.oid AND d.refclassid = 'pg_authid'::regclass AND d.deptype = 'o'
  CROSS JOIN LATERAL pg_identify_object(d.classid, d.objid, d.objsubid) o
 WHERE d.dbid IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
UNION ALL
SELECT 'table-extra', $3, t.schema, t.name, NULL, array(SELECT p FROM unnest($5::text[]) p WHERE has_table_privilege($3, t.oid, p))
  FROM rels t WHERE $3 IS NOT NULL AND t.relkind <> 'S' AND t.owner <> $3 AND has_table_privilege($3, t.oid, array_to_string($5::text[], ','))
UNION ALL
SELECT 'grant-option', $3, t.schema, t.name, NULL, NULL
  FROM rels t WHERE $3 IS NOT NULL AND t.relkind <> 'S' AND t.owner <> $3
   AND has_table_privilege($3, t.oid, 'SELECT WITH GRANT OPTION, INSERT WITH GRANT OPTION, UPDATE WITH GRANT OPTION, DELETE WITH GRANT OPTION')
UNION ALL
SELECT 'write', r.name, t.schema, t.name, NULL,
       CASE WHEN t.relkind = 'S'
            THEN array(SELECT p FROM unnest(array['USAGE', 'UPDATE']) p WHERE has_sequence_privilege(r.name, t.oid, p))
            ELSE array(SELECT p FROM unnest(array['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) p WHERE has_table_privilege(r.name, t.oid, p)) END
  FROM (SELECT unnest($4::text[]) AS name) r CROSS JOIN rels t
 WHERE t.owner <> r.name AND CASE WHEN t.relkind = 'S' THEN has_sequence_privilege(r.name, t.oid, 'USAGE, UPDATE')
            ELSE has_table_privilege(r.name, t.oid, 'INSERT, UPDATE, DELETE, TRUNCATE') END
ORDER BY 1, 2, 3, 4, 5`;

export async function readRoles(sql: Sql, names: RoleNames): Promise<RoleRow[]> {
  return sql.unsafe<RoleRow[]>(ROLES_QUERY, [[...ROLE_KINDS], ROLE_KINDS.map((k) => names[k])] as never[]);
}

/** The catalog half: the roles, then what the app and read-only roles may do beyond the model. */
export async function readCatalogRows(ctx: Pick<CheckContext, 'sql' | 'expectations' | 'serverVersionNum'>, names: RoleNames): Promise<CatalogRows> {
  const roles = await readRoles(ctx.sql, names);
  const app = roles.find((r) => r.kind === 'app' && r.exists)?.name ?? null;
  const readers = roles.filter((r) => (r.kind === 'readonly' || r.kind === 'backup') && r.exists).map((r) => r.name);
  const extra = ['TRUNCATE', 'REFERENCES', 'TRIGGER', ...(ctx.serverVersionNum >= 170000 ? ['MAINTAIN'] : [])];
  const ex = ctx.expectations;
  const violations = await ctx.sql.unsafe<Violation[]>(VIOLATIONS_QUERY, [ex.schemas ?? null, ex.ignoreTables, app, readers, extra] as never[]);
  return { roles, violations: [...violations] };
}

function probeName(): string {
  return `pgsteward_probe_${Math.random().toString(36).slice(2, 10)}`;
}

function outcome(a: Attempt<unknown>): ProbeOutcome['result'] {
  return a.ok ? { ok: true } : { ok: false, code: a.code, message: a.message };
}

/**
 * The behavioural half: act as each role inside a rolled-back transaction and record what the
 * server allows and refuses. Nothing is judged here; privilegeFindings does that.
 */
export async function probeRoles(tx: ProbeSql, ex: Expectations, actors: { app: string | null; readers: string[] }, owner: string): Promise<ProbeOutcome[]> {
  const out: ProbeOutcome[] = [];
  const q = derivedIdent;
  const refused = async (role: string, what: string, stmt: string, fix: string, params: string[] = []) => {
    out.push({ role, what, expect: 'refused', fix, result: outcome(await attemptAs(tx, role, (sp) => sp.unsafe(stmt, params))) });
  };
  const schemas = [...new Set([...(ex.schemas ?? ['public']), ...Object.keys(ex.probeRows).map((k) => splitTable(k).schema)])];
  for (const role of [actors.app, ...actors.readers].filter((x): x is string => x !== null)) {
    for (const schema of schemas) {
      await refused(role, `CREATE TABLE in schema ${schema}`, `CREATE TABLE ${q(schema)}.${probeName()} (id int)`, `REVOKE CREATE ON SCHEMA ${q(schema)} FROM ${q(role)}; REVOKE CREATE ON SCHEMA ${q(schema)} FROM PUBLIC;`);
    }
  }
  const probeKey = Object.keys(ex.probeRows)[0];
  if (!probeKey) return out;
  const { schema, table } = splitTable(probeKey);
  const tbl = qualified(schema, table);
  const ins = insertProbeRow(tbl, ex.probeRows[probeKey]!, '1 AS ok');
  if (actors.app) {
    const app = actors.app;
    const wrote = await attemptAs(tx, app, async (sp) => {
      await sp.unsafe(ins.text, ins.params);
      return sp.unsafe(`SELECT count(*)::int AS n FROM ${tbl}`);
    });
    out.push({ role: app, what: `insert into and read ${tbl}`, expect: 'allowed', fix: `GRANT SELECT, INSERT, UPDATE, DELETE ON ${tbl} TO ${q(app)};`, result: outcome(wrote) });
    await refused(app, `TRUNCATE ${tbl}`, `TRUNCATE ${tbl}`, `REVOKE TRUNCATE ON ${tbl} FROM ${q(app)};`);
    await refused(app, `DROP TABLE ${tbl}`, `DROP TABLE ${tbl}`, `ALTER TABLE ${tbl} OWNER TO ${q(owner)};`);
  }
  for (const r of actors.readers) {
    await refused(r, `INSERT INTO ${tbl}`, ins.text, `REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ${tbl} FROM ${q(r)};`, ins.params);
  }
  return out;
}
