import { appConnectionLimit, type PoolBudget } from '../../core/config/target-settings.ts';
import type { RoleKind, RoleNames } from '../../core/config/role-names.ts';
import type { CheckOutcome, Finding } from '../types.ts';
import { derivedIdent, qualified } from '../lib/identifiers.ts';
import { CANNOT_SET_ROLE, INSUFFICIENT_PRIVILEGE } from '../lib/probe.ts';

/**
 * Pure: catalog rows and probe outcomes in, findings out. The queries that produce the rows
 * and the probes that produce the outcomes live in privileges.probe.ts.
 */

export interface RoleRow {
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

export type ViolationKind = 'schema-create' | 'public-create' | 'database-create' | 'owns' | 'table-extra' | 'grant-option' | 'write';

export interface Violation {
  kind: ViolationKind;
  /** A role name, or PUBLIC. */
  role: string;
  /** For schema and table violations: the schema; for database-create: the database. */
  schema: string | null;
  /** For table violations: the relation. */
  name: string | null;
  /** For owns: pg_identify_object's type and identity, e.g. `table public.app_scratch`. */
  described: string | null;
  privileges: string[] | null;
}

export interface CatalogRows {
  roles: RoleRow[];
  violations: Violation[];
}

export interface FindingContext {
  database: string;
  names: RoleNames;
  pool: PoolBudget;
  /** What to do about a missing role: setup-db only on a database pgsteward set up (see checks/lib/adoption.ts). */
  setupFix?: string;
}

const POWERS = [
  ['rolsuper', 'SUPERUSER'],
  ['rolcreatedb', 'CREATEDB'],
  ['rolcreaterole', 'CREATEROLE'],
  ['rolreplication', 'REPLICATION'],
  ['rolbypassrls', 'BYPASSRLS'],
] as const;

const q = derivedIdent;
const grantee = (role: string) => (role === 'PUBLIC' ? 'PUBLIC' : q(role));

function roleFindings(rows: readonly RoleRow[], c: FindingContext): CheckOutcome {
  const passed: string[] = [];
  const findings: Finding[] = [];
  for (const r of rows) {
    if (!r.exists) {
      findings.push({
        object: r.name,
        message: `role ${r.name} (${r.kind}) does not exist`,
        fix: `${c.setupFix ?? `npm run setup-db -- --database ${c.database}`}   # or check against another database's roles with --roles-of NAME`,
      });
      continue;
    }
    const powers = POWERS.filter(([k]) => r[k]).map(([, p]) => p);
    if (powers.length) {
      findings.push({ object: r.name, message: `role ${r.name} (${r.kind}) has ${powers.join(', ')}`, fix: `ALTER ROLE ${q(r.name)} ${powers.map((p) => `NO${p}`).join(' ')};` });
    } else passed.push(`${r.name}: no superuser, createdb, createrole, replication or bypassrls`);
    if (r.kind === 'owner' && r.rolcanlogin) {
      findings.push({ object: r.name, message: `owner role ${r.name} can log in; it should only be assumed through SET ROLE`, fix: `ALTER ROLE ${q(r.name)} NOLOGIN;` });
    }
  }
  const app = rows.find((r) => r.kind === 'app' && r.exists);
  if (app) {
    const budget = appConnectionLimit(c.pool);
    if (app.rolconnlimit !== budget) {
      findings.push({
        object: app.name,
        message: `app role ${app.name} has ${app.rolconnlimit < 0 ? 'no connection limit' : `CONNECTION LIMIT ${app.rolconnlimit}`}; the pool budget is ${budget} (${c.pool.max} per instance × ${c.pool.instances})`,
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
  return { passed, findings };
}

function violationFinding(v: Violation, c: FindingContext): Finding {
  const role = grantee(v.role);
  const privs = v.privileges?.join(', ') ?? '';
  const schema = v.schema === null ? '' : q(v.schema);
  const table = v.schema !== null && v.name !== null ? qualified(v.schema, v.name) : '';
  switch (v.kind) {
    case 'schema-create':
      return { object: `${v.role} on schema ${schema}`, message: `${v.role} can CREATE in schema ${schema}`, fix: `REVOKE CREATE ON SCHEMA ${schema} FROM ${role};` };
    case 'public-create':
      return { object: `PUBLIC on schema ${schema}`, message: `PUBLIC (every role) can CREATE in schema ${schema}`, fix: `REVOKE CREATE ON SCHEMA ${schema} FROM PUBLIC;` };
    case 'database-create':
      return { object: `${v.role} on database ${schema}`, message: `${v.role} can CREATE schemas in database ${schema}`, fix: `REVOKE CREATE ON DATABASE ${schema} FROM ${role}; REVOKE CREATE ON DATABASE ${schema} FROM PUBLIC;` };
    case 'owns':
      return { object: `${v.role}: ${v.described}`, message: `${v.role} owns ${v.described}; an owner can ALTER and DROP it whatever the grants say`, fix: `REASSIGN OWNED BY ${role} TO ${q(c.names.owner)};` };
    case 'table-extra':
      return { object: table, message: `${v.role} holds ${privs} on ${table}; the app role gets SELECT, INSERT, UPDATE and DELETE only`, fix: `REVOKE ${privs} ON ${table} FROM ${role};` };
    case 'grant-option':
      return { object: table, message: `${v.role} may grant its privileges on ${table} to others`, fix: `REVOKE GRANT OPTION FOR ALL ON ${table} FROM ${role};` };
    case 'write':
      return { object: table, message: `read-only role ${v.role} holds ${privs} on ${table}`, fix: `REVOKE ${privs} ON ${table} FROM ${role};` };
  }
}

/** The roles the probes and the violation query look at: the app role and the read-only ones that exist. */
export function actorsOf(rows: readonly RoleRow[]): { app: string | null; readers: string[] } {
  const app = rows.find((r) => r.kind === 'app' && r.exists)?.name ?? null;
  const readers = rows.filter((r) => (r.kind === 'readonly' || r.kind === 'backup') && r.exists).map((r) => r.name);
  return { app, readers };
}

/** Catalog rows → findings, and a passed line for every kind of violation a role is free of. */
export function catalogFindings(rows: CatalogRows, c: FindingContext): CheckOutcome {
  const roles = roleFindings(rows.roles, c);
  const passed = [...roles.passed];
  const findings = [...roles.findings, ...rows.violations.map((v) => violationFinding(v, c))];
  const seen = new Set(rows.violations.map((v) => `${v.kind}|${v.role}`));
  const { app, readers } = actorsOf(rows.roles);
  for (const r of [app, ...readers].filter((x): x is string => x !== null)) {
    if (!seen.has(`schema-create|${r}`)) passed.push(`${r}: no CREATE on any schema`);
    if (!seen.has(`database-create|${r}`)) passed.push(`${r}: no CREATE on the database`);
    if (!seen.has(`owns|${r}`)) passed.push(`${r}: owns nothing`);
  }
  if (app && !seen.has(`table-extra|${app}`) && !seen.has(`grant-option|${app}`)) passed.push(`${app}: DML grants only`);
  for (const r of readers) if (!seen.has(`write|${r}`)) passed.push(`${r}: no write privilege on any table or sequence`);
  if (!seen.has('public-create|PUBLIC')) passed.push('PUBLIC: no CREATE on any schema');
  return { passed, findings };
}

/** What a probe tried as a role, and what the server said. */
export interface ProbeOutcome {
  role: string;
  /** `CREATE TABLE in schema public`, `DROP TABLE public.users`, `insert into and read public.users`. */
  what: string;
  /** Refusal (42501) proves a fence; `allowed` proves the role can do its job. */
  expect: 'refused' | 'allowed';
  result: { ok: true } | { ok: false; code: string; message: string };
  fix: string;
}

/** Nothing there to probe: a missing table, schema or object proves nothing either way. */
const ABSENT = ['42P01', '3F000', '42704'];

/** Probe outcomes → findings; a role the checker could not act as is reported once, as a warning. */
export function probeFindings(outcomes: readonly ProbeOutcome[]): CheckOutcome {
  const passed: string[] = [];
  const findings: Finding[] = [];
  const warned = new Set<string>();
  for (const o of outcomes) {
    const r = o.result;
    if (!r.ok && r.code === CANNOT_SET_ROLE) {
      if (warned.has(o.role)) continue;
      warned.add(o.role);
      findings.push({
        object: o.role,
        message: `could not act as ${o.role} to probe its privileges: ${r.message}`,
        fix: `run the checks as a superuser, or GRANT ${q(o.role)} TO the checking user`,
        severity: 'warning',
      });
      continue;
    }
    if (!r.ok && ABSENT.includes(r.code)) continue;
    if (o.expect === 'allowed') {
      if (r.ok) passed.push(`${o.role}: can ${o.what}`);
      else findings.push({ object: o.role, message: `${o.role} cannot ${o.what} in a rolled-back probe: ${r.message}`, fix: o.fix });
    } else if (!r.ok && r.code === INSUFFICIENT_PRIVILEGE) {
      passed.push(`${o.role}: ${o.what} is refused (42501)`);
    } else {
      findings.push({ object: o.role, message: `${o.role}: ${o.what} ${r.ok ? 'succeeded' : `failed with ${r.code} instead of 42501: ${r.message}`} in a rolled-back probe`, fix: o.fix });
    }
  }
  return { passed, findings };
}
