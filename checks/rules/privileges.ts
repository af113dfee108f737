import { appConnectionLimit } from '../../core/config/target-settings.ts';
import { ROLE_KINDS, type RoleKind } from '../../core/config/role-names.ts';
import { UserError } from '../../core/errors.ts';
import type { Check, Finding } from '../types.ts';
import { splitTable } from '../expectations.ts';
import { notExtensionMember, relationInScope, schemaInScope } from '../lib/catalog.ts';
import { derivedIdent, qualified } from '../lib/names.ts';
import { attemptAs, CANNOT_SET_ROLE, insertProbeRow, INSUFFICIENT_PRIVILEGE } from '../lib/probe.ts';

interface RoleRow {
  kind: RoleKind;
  name: string;
  exists: boolean;
  rolsuper: boolean;
  rolcreatedb: boolean;
  rolcreaterole: boolean;
  rolreplication: boolean;
  rolbypassrls: boolean;
  rolcanlogin: boolean;
  rolconnlimit: number;
  member_of: string[];
}

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

interface Violation {
  kind: 'schema-create' | 'public-create' | 'database-create' | 'owns' | 'table-extra' | 'grant-option' | 'write';
  role: string;
  object: string;
  privileges: string[] | null;
}

/**
 * Everything the roles may do that they should not, in one pass over the catalog. $3 is the
 * app role (or NULL), $4 the roles that must not write, $5 the privileges beyond DML.
 */
const VIOLATIONS_QUERY = `
WITH roles AS (SELECT unnest(array_remove(array[$3::text] || $4::text[], NULL)) AS name),
schemas AS (
  SELECT n.oid, n.nspname, n.nspacl, n.nspowner FROM pg_namespace n
  WHERE ${schemaInScope('$1')} AND ${notExtensionMember('n.oid', 'pg_namespace')}
),
rels AS (
  SELECT c.oid, c.relkind, format('%I.%I', n.nspname, c.relname) AS name, pg_get_userbyid(c.relowner)::text AS owner
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND ${relationInScope('$1', '$2')}
)
SELECT 'schema-create' AS kind, r.name AS role, quote_ident(s.nspname) AS object, NULL::text[] AS privileges
  FROM roles r CROSS JOIN schemas s WHERE has_schema_privilege(r.name, s.oid, 'CREATE')
UNION ALL
SELECT 'public-create', 'PUBLIC', quote_ident(s.nspname), NULL
  FROM schemas s
 WHERE EXISTS (SELECT 1 FROM aclexplode(coalesce(s.nspacl, acldefault('n', s.nspowner))) x
                WHERE x.grantee = 0 AND x.privilege_type = 'CREATE')
UNION ALL
SELECT 'database-create', r.name, quote_ident(current_database()), NULL
  FROM roles r WHERE has_database_privilege(r.name, current_database(), 'CREATE')
UNION ALL
SELECT 'owns', r.name, o.type || ' ' || o.identity, NULL
  FROM roles r JOIN pg_roles pr ON pr.rolname = r.name
  JOIN pg_shdepend d ON d.refobjid = pr.oid AND d.refclassid = 'pg_authid'::regclass AND d.deptype = 'o'
  CROSS JOIN LATERAL pg_identify_object(d.classid, d.objid, d.objsubid) o
 WHERE d.dbid IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
UNION ALL
SELECT 'table-extra', $3, t.name, array(SELECT p FROM unnest($5::text[]) p WHERE has_table_privilege($3, t.oid, p))
  FROM rels t WHERE $3 IS NOT NULL AND t.relkind <> 'S' AND t.owner <> $3 AND has_table_privilege($3, t.oid, array_to_string($5::text[], ','))
UNION ALL
SELECT 'grant-option', $3, t.name, NULL
  FROM rels t WHERE $3 IS NOT NULL AND t.relkind <> 'S' AND t.owner <> $3
   AND has_table_privilege($3, t.oid, 'SELECT WITH GRANT OPTION, INSERT WITH GRANT OPTION, UPDATE WITH GRANT OPTION, DELETE WITH GRANT OPTION')
UNION ALL
SELECT 'write', r.name, t.name,
       CASE WHEN t.relkind = 'S'
            THEN array(SELECT p FROM unnest(array['USAGE', 'UPDATE']) p WHERE has_sequence_privilege(r.name, t.oid, p))
            ELSE array(SELECT p FROM unnest(array['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) p WHERE has_table_privilege(r.name, t.oid, p)) END
  FROM (SELECT unnest($4::text[]) AS name) r CROSS JOIN rels t
 WHERE t.owner <> r.name AND CASE WHEN t.relkind = 'S' THEN has_sequence_privilege(r.name, t.oid, 'USAGE, UPDATE')
            ELSE has_table_privilege(r.name, t.oid, 'INSERT, UPDATE, DELETE, TRUNCATE') END
ORDER BY 1, 2, 3`;

const POWERS = [
  ['rolsuper', 'SUPERUSER'],
  ['rolcreatedb', 'CREATEDB'],
  ['rolcreaterole', 'CREATEROLE'],
  ['rolreplication', 'REPLICATION'],
  ['rolbypassrls', 'BYPASSRLS'],
] as const;

function probeName(): string {
  return `pgsteward_probe_${Math.random().toString(36).slice(2, 10)}`;
}

export const privileges: Check = {
  id: 'privileges',
  title: 'Least-privilege roles',
  rationale: 'A compromised application must not be able to drop, alter or read around the schema; the read-only roles must not write.',
  severity: 'error',
  async run(ctx) {
    const ex = ctx.expectations;
    const names = ctx.roles;
    if (!names) {
      throw new UserError(`cannot derive role names from database name "${ctx.database.slice(0, 64)}"`, 'pass --roles-of NAME with the database whose roles apply');
    }
    const passed: string[] = [];
    const findings: Finding[] = [];
    const roleRows = await ctx.sql.unsafe<RoleRow[]>(ROLES_QUERY, [[...ROLE_KINDS], ROLE_KINDS.map((k) => names[k])] as never[]);
    const byKind = new Map(roleRows.map((r) => [r.kind, r]));
    const q = (name: string) => derivedIdent(name);

    for (const r of roleRows) {
      if (!r.exists) {
        findings.push({
          object: r.name,
          message: `role ${r.name} (${r.kind}) does not exist`,
          fix: `npm run setup-db -- --database ${ctx.database}   # or check against another database's roles with --roles-of NAME`,
        });
        continue;
      }
      const powers = POWERS.filter(([k]) => r[k]).map(([, p]) => p);
      if (powers.length) {
        findings.push({
          object: r.name,
          message: `role ${r.name} (${r.kind}) has ${powers.join(', ')}`,
          fix: `ALTER ROLE ${q(r.name)} ${powers.map((p) => `NO${p}`).join(' ')};`,
        });
      } else passed.push(`${r.name}: no superuser, createdb, createrole, replication or bypassrls`);
      if (r.kind === 'owner' && r.rolcanlogin) {
        findings.push({ object: r.name, message: `owner role ${r.name} can log in; it should only be assumed through SET ROLE`, fix: `ALTER ROLE ${q(r.name)} NOLOGIN;` });
      }
    }

    const app = byKind.get('app');
    if (app?.exists) {
      const budget = appConnectionLimit(ex.pool);
      if (app.rolconnlimit !== budget) {
        findings.push({
          object: app.name,
          message: `app role ${app.name} has ${app.rolconnlimit < 0 ? 'no connection limit' : `CONNECTION LIMIT ${app.rolconnlimit}`}; the pool budget is ${budget} (${ex.pool.max} per instance × ${ex.pool.instances})`,
          fix: `ALTER ROLE ${q(app.name)} CONNECTION LIMIT ${budget};`,
        });
      } else passed.push(`${app.name}: CONNECTION LIMIT ${budget} matches the pool budget`);
      if (app.member_of.length) {
        findings.push({
          object: app.name,
          message: `app role ${app.name} is a member of ${app.member_of.join(', ')} and inherits what they may do`,
          fix: app.member_of.map((g) => `REVOKE ${q(g)} FROM ${q(app.name)};`).join(' '),
        });
      } else passed.push(`${app.name}: member of no other role`);
    }

    const readers = (['readonly', 'backup'] as const).map((k) => byKind.get(k)).filter((r): r is RoleRow => Boolean(r?.exists)).map((r) => r.name);
    const appName = app?.exists ? app.name : null;
    const extra = ['TRUNCATE', 'REFERENCES', 'TRIGGER', ...(ctx.serverVersionNum >= 170000 ? ['MAINTAIN'] : [])];
    const violations = await ctx.sql.unsafe<Violation[]>(VIOLATIONS_QUERY, [ex.schemas ?? null, ex.ignoreTables, appName, readers, extra] as never[]);
    const seen = new Set<string>();
    for (const v of violations) {
      seen.add(`${v.kind}|${v.role}`);
      const role = v.role === 'PUBLIC' ? 'PUBLIC' : q(v.role);
      const privs = v.privileges?.join(', ') ?? '';
      switch (v.kind) {
        case 'schema-create':
          findings.push({ object: `${v.role} on schema ${v.object}`, message: `${v.role} can CREATE in schema ${v.object}`, fix: `REVOKE CREATE ON SCHEMA ${v.object} FROM ${role};` });
          break;
        case 'public-create':
          findings.push({ object: `PUBLIC on schema ${v.object}`, message: `PUBLIC (every role) can CREATE in schema ${v.object}`, fix: `REVOKE CREATE ON SCHEMA ${v.object} FROM PUBLIC;` });
          break;
        case 'database-create':
          findings.push({ object: `${v.role} on database ${v.object}`, message: `${v.role} can CREATE schemas in database ${v.object}`, fix: `REVOKE CREATE ON DATABASE ${v.object} FROM ${role}; REVOKE CREATE ON DATABASE ${v.object} FROM PUBLIC;` });
          break;
        case 'owns':
          findings.push({ object: `${v.role}: ${v.object}`, message: `${v.role} owns ${v.object}; an owner can ALTER and DROP it whatever the grants say`, fix: `REASSIGN OWNED BY ${role} TO ${q(names.owner)};` });
          break;
        case 'table-extra':
          findings.push({ object: v.object, message: `${v.role} holds ${privs} on ${v.object}; the app role gets SELECT, INSERT, UPDATE and DELETE only`, fix: `REVOKE ${privs} ON ${v.object} FROM ${role};` });
          break;
        case 'grant-option':
          findings.push({ object: v.object, message: `${v.role} may grant its privileges on ${v.object} to others`, fix: `REVOKE GRANT OPTION FOR ALL ON ${v.object} FROM ${role};` });
          break;
        case 'write':
          findings.push({ object: v.object, message: `read-only role ${v.role} holds ${privs} on ${v.object}`, fix: `REVOKE ${privs} ON ${v.object} FROM ${role};` });
          break;
      }
    }
    for (const r of [appName, ...readers].filter((x): x is string => Boolean(x))) {
      if (!seen.has(`schema-create|${r}`)) passed.push(`${r}: no CREATE on any schema`);
      if (!seen.has(`database-create|${r}`)) passed.push(`${r}: no CREATE on the database`);
      if (!seen.has(`owns|${r}`)) passed.push(`${r}: owns nothing`);
    }
    if (appName && !seen.has(`table-extra|${appName}`) && !seen.has(`grant-option|${appName}`)) passed.push(`${appName}: DML grants only`);
    for (const r of readers) if (!seen.has(`write|${r}`)) passed.push(`${r}: no write privilege on any table or sequence`);
    if (!seen.has('public-create|PUBLIC')) passed.push('PUBLIC: no CREATE on any schema');

    // Behaviour: act as each role and watch what the server refuses.
    const probeKey = Object.keys(ex.probeRows)[0];
    const probeSchemas = [...new Set([...(ex.schemas ?? ['public']), ...Object.keys(ex.probeRows).map((k) => splitTable(k).schema)])];
    const actors = [appName, ...readers].filter((x): x is string => Boolean(x));
    if (actors.length === 0) return { passed, findings };
    await ctx.probe(async (tx) => {
      const warned = new Set<string>();
      const warnCannotAct = (role: string, message: string) => {
        if (warned.has(role)) return;
        warned.add(role);
        findings.push({
          object: role,
          message: `could not act as ${role} to probe its privileges: ${message}`,
          fix: `run the checks as a superuser, or GRANT ${q(role)} TO the checking user`,
          severity: 'warning',
        });
      };
      const expectRefusal = async (role: string, what: string, stmt: string, fix: string, params: string[] = []) => {
        const got = await attemptAs(tx, role, (sp) => sp.unsafe(stmt, params));
        if (!got.ok && got.code === INSUFFICIENT_PRIVILEGE) passed.push(`${role}: ${what} is refused (42501)`);
        else if (!got.ok && ['42P01', '3F000', '42704'].includes(got.code)) return; // nothing there to probe
        else if (!got.ok && got.code === CANNOT_SET_ROLE) warnCannotAct(role, got.message);
        else
          findings.push({
            object: role,
            message: `${role}: ${what} ${got.ok ? 'succeeded' : `failed with ${got.code} instead of 42501: ${got.message}`} in a rolled-back probe`,
            fix,
          });
      };
      for (const role of actors) {
        for (const schema of probeSchemas) {
          await expectRefusal(role, `CREATE TABLE in schema ${schema}`, `CREATE TABLE ${q(schema)}.${probeName()} (id int)`, `REVOKE CREATE ON SCHEMA ${q(schema)} FROM ${q(role)}; REVOKE CREATE ON SCHEMA ${q(schema)} FROM PUBLIC;`);
        }
      }
      if (!probeKey) return;
      const { schema, table } = splitTable(probeKey);
      const tbl = qualified(schema, table);
      const row = ex.probeRows[probeKey]!;
      const ins = insertProbeRow(tbl, row, '1 AS ok');
      if (appName) {
        const wrote = await attemptAs(tx, appName, async (sp) => {
          await sp.unsafe(ins.text, ins.params);
          return sp.unsafe(`SELECT count(*)::int AS n FROM ${tbl}`);
        });
        if (wrote.ok) passed.push(`${appName}: can insert into and read ${tbl}`);
        else if (wrote.code === CANNOT_SET_ROLE) warnCannotAct(appName, wrote.message);
        else if (wrote.code !== '42P01')
          findings.push({ object: appName, message: `${appName} cannot insert into ${tbl} in a rolled-back probe: ${wrote.message}`, fix: `GRANT SELECT, INSERT, UPDATE, DELETE ON ${tbl} TO ${q(appName)};` });
        await expectRefusal(appName, `TRUNCATE ${tbl}`, `TRUNCATE ${tbl}`, `REVOKE TRUNCATE ON ${tbl} FROM ${q(appName)};`);
        await expectRefusal(appName, `DROP TABLE ${tbl}`, `DROP TABLE ${tbl}`, `ALTER TABLE ${tbl} OWNER TO ${q(names.owner)};`);
      }
      for (const r of readers) {
        await expectRefusal(r, `INSERT INTO ${tbl}`, ins.text, `REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ${tbl} FROM ${q(r)};`, ins.params);
      }
    });
    return { passed, findings };
  },
};
