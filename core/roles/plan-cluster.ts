import { ident, literal } from '../db/connect.ts';
import type { LoginRole } from '../config/role-names.ts';
import { aclChanges, settingName, type Change } from './changes.ts';
import type { RoleModel, RoleSpec } from './model.ts';
import { scramVerifier, verifierMatches } from './scram.ts';
import type { ClusterState, MembershipRow, RoleRow } from './state.ts';

/**
 * Pure: from what the cluster holds (one read of its catalogs) to the statements that make the
 * five roles exactly the model. Only differences become statements, which also keeps setup
 * working for a non-superuser administrator (the RDS master): it may not even mention
 * SUPERUSER, REPLICATION or BYPASSRLS, and a role that already lacks them is never asked to.
 */

export interface RolePlanInput {
  state: ClusterState;
  model: RoleModel;
  /** Passwords for login roles; a role without one keeps its password. */
  passwords: Partial<Record<LoginRole, string>>;
  /** SCRAM verifier maker (random salt); injected so tests can fix it. */
  verifier?: (password: string) => string;
}

/** Attributes every managed role has: none of the powers, and INHERIT. */
const POWERS = [
  ['superuser', 'SUPERUSER'],
  ['createdb', 'CREATEDB'],
  ['createrole', 'CREATEROLE'],
  ['replication', 'REPLICATION'],
  ['bypassrls', 'BYPASSRLS'],
] as const;

function limitText(n: number): string {
  return n < 0 ? 'no limit' : String(n);
}

function noExpiry(validUntil: string | null): boolean {
  return validUntil === null || validUntil === 'infinity';
}

function createRole(spec: RoleSpec, verifier: string | undefined): Change {
  const limit = spec.connectionLimit >= 0 ? ` CONNECTION LIMIT ${spec.connectionLimit}` : '';
  const pw = verifier ? ` PASSWORD ${literal(verifier)}` : '';
  return { sql: `CREATE ROLE ${ident(spec.name)} ${spec.login ? 'LOGIN' : 'NOLOGIN'}${limit}${pw}`, lines: [`created role ${spec.name}`], scope: 'cluster', subject: spec.name };
}

/** Each differing attribute is one clause and one line; together one ALTER ROLE. */
function attributeChanges(spec: RoleSpec, row: RoleRow): Change[] {
  const clauses: Array<[string, string]> = [];
  for (const [key, word] of POWERS) if (row[key]) clauses.push([`NO${word}`, `removed ${word} from ${spec.name}`]);
  if (!row.inherit) clauses.push(['INHERIT', `set INHERIT on ${spec.name}`]);
  if (row.login !== spec.login) clauses.push([spec.login ? 'LOGIN' : 'NOLOGIN', `set ${spec.login ? 'LOGIN' : 'NOLOGIN'} on ${spec.name}`]);
  if (row.connlimit !== spec.connectionLimit) {
    clauses.push([`CONNECTION LIMIT ${spec.connectionLimit}`, `set CONNECTION LIMIT ${limitText(spec.connectionLimit)} on ${spec.name} (was ${limitText(row.connlimit)})`]);
  }
  if (!noExpiry(row.validUntil)) clauses.push([`VALID UNTIL 'infinity'`, `removed the expiry of ${spec.name} (VALID UNTIL ${row.validUntil})`]);
  if (clauses.length === 0) return [];
  return [{ sql: `ALTER ROLE ${ident(spec.name)} ${clauses.map(([c]) => c).join(' ')}`, lines: clauses.map(([, line]) => line), scope: 'cluster', subject: spec.name }];
}

function passwordChange(spec: RoleSpec, row: RoleRow | undefined, password: string, readable: boolean, verifier: (pw: string) => string): Change[] {
  if (row && readable && row.password && verifierMatches(row.password, password)) return [];
  const why = row && !readable ? ' (not compared: a non-superuser administrator cannot read stored passwords)' : '';
  return [{ sql: `ALTER ROLE ${ident(spec.name)} PASSWORD ${literal(verifier(password))}`, lines: [`set the password of ${spec.name}${why}`], scope: 'cluster', subject: spec.name }];
}

function grantedBy(state: ClusterState, m: MembershipRow): string {
  return state.serverVersionNum >= 160000 ? ` GRANTED BY ${ident(m.grantor)}` : '';
}

/** Memberships: exactly those the model gives, with INHERIT and SET and never ADMIN. */
function membershipChanges(state: ClusterState, spec: RoleSpec): Change[] {
  const out: Change[] = [];
  const rows = state.memberships.filter((m) => m.member === spec.name);
  const v16 = state.serverVersionNum >= 160000;
  for (const m of rows) {
    if (!spec.memberOf.includes(m.role)) {
      out.push({ sql: `REVOKE ${ident(m.role)} FROM ${ident(spec.name)}${grantedBy(state, m)} CASCADE`, lines: [`revoked membership of ${spec.name} in ${m.role}`], scope: 'cluster', subject: spec.name });
    } else if (m.admin) {
      out.push({ sql: `REVOKE ADMIN OPTION FOR ${ident(m.role)} FROM ${ident(spec.name)}${grantedBy(state, m)} CASCADE`, lines: [`revoked ADMIN OPTION on the membership of ${spec.name} in ${m.role}`], scope: 'cluster', subject: spec.name });
    }
  }
  for (const role of spec.memberOf) {
    const have = rows.filter((m) => m.role === role);
    const options = v16 ? ' WITH INHERIT TRUE, SET TRUE' : '';
    if (have.length === 0) {
      out.push({ sql: `GRANT ${ident(role)} TO ${ident(spec.name)}${options}`, lines: [`granted membership of ${spec.name} in ${role}`], scope: 'cluster', subject: spec.name });
    } else if (v16 && !have.some((m) => m.inherit && m.set)) {
      out.push({ sql: `GRANT ${ident(role)} TO ${ident(spec.name)}${options}`, lines: [`set INHERIT and SET on the membership of ${spec.name} in ${role}`], scope: 'cluster', subject: spec.name });
    }
  }
  return out;
}

function settingTarget(role: string, database: string | undefined): string {
  return `ALTER ROLE ${ident(role)}${database ? ` IN DATABASE ${ident(database)}` : ''}`;
}

/**
 * `ALTER ROLE … SET`: exactly the model's settings. Those that need the database to exist are
 * left to planDatabaseAccess.
 */
function settingChanges(state: ClusterState, model: RoleModel, which: 'global' | 'database'): Change[] {
  const out: Change[] = [];
  const names = new Set(model.specs.map((s) => s.name));
  // Settings in other databases belong to those databases' models (a restored copy keeps its source's roles), so they are left alone.
  const inScope = (database: string | undefined) => (which === 'database' ? database === model.database : database === undefined);
  for (const row of state.settings) {
    if (!names.has(row.role) || !inScope(row.database)) continue;
    const where = row.database ? ` in database ${row.database}` : '';
    for (const entry of row.config) {
      const eq = entry.indexOf('=');
      const [name, value] = [entry.slice(0, eq), entry.slice(eq + 1)];
      const want = model.settings.find((s) => s.role === row.role && s.database === row.database && s.name === name);
      if (want && want.value === value) continue;
      if (want) continue; // a wrong value is set below
      out.push({ sql: `${settingTarget(row.role, row.database)} RESET ${settingName(name)}`, lines: [`removed the setting ${name}=${value} from ${row.role}${where}`], scope: which === 'database' ? 'database' : 'cluster', subject: row.role });
    }
  }
  for (const want of model.settings) {
    if (!inScope(want.database)) continue;
    const row = state.settings.find((s) => s.role === want.role && s.database === want.database);
    const current = row?.config.find((e) => e.startsWith(`${want.name}=`))?.slice(want.name.length + 1);
    if (current === want.value) continue;
    const where = want.database ? ` in database ${want.database}` : '';
    out.push({
      sql: `${settingTarget(want.role, want.database)} SET ${settingName(want.name)} = ${literal(want.value)}`,
      lines: [`set ${want.name}=${want.value} for ${want.role}${where}${current === undefined ? '' : ` (was ${current})`}`],
      scope: which === 'database' ? 'database' : 'cluster',
      subject: want.role,
    });
  }
  return out;
}

/** Parameter privileges (GRANT SET / ALTER SYSTEM ON PARAMETER): the five roles hold none. */
function parameterChanges(state: ClusterState, model: RoleModel): Change[] {
  const roles = model.specs.map((s) => s.name);
  return state.parameters.flatMap((p) =>
    aclChanges({ prefix: '', on: `PARAMETER ${settingName(p.name)}`, label: `parameter ${p.name}`, owner: '', grantorMatters: false }, p.acl, {}, roles, 'cluster'),
  );
}

/** Roles: created when missing, then attributes, password, memberships and settings converged. */
export function planRoles(i: RolePlanInput): Change[] {
  const { state, model } = i;
  const verifier = i.verifier ?? ((pw: string) => scramVerifier(pw));
  const out: Change[] = [];
  for (const spec of model.specs) {
    const row = state.roles.find((r) => r.name === spec.name);
    const pw = spec.login ? i.passwords[spec.kind as LoginRole] : undefined;
    if (!row) {
      out.push(createRole(spec, pw ? verifier(pw) : undefined));
    } else {
      out.push(...attributeChanges(spec, row));
      if (pw) out.push(...passwordChange(spec, row, pw, state.admin.superuser, verifier));
    }
  }
  for (const spec of model.specs) out.push(...membershipChanges(state, spec));
  out.push(...settingChanges(state, model, 'global'));
  out.push(...parameterChanges(state, model));
  // A non-superuser administrator (the RDS master) acts as the owner for CREATE DATABASE … OWNER
  // and ALTER DEFAULT PRIVILEGES FOR ROLE, which needs membership with INHERIT and SET.
  if (!state.admin.superuser && !state.admin.usesOwner) {
    const options = state.serverVersionNum >= 160000 ? ' WITH INHERIT TRUE, SET TRUE' : '';
    out.push({ sql: `GRANT ${ident(model.roles.owner)} TO ${ident(state.admin.name)}${options}`, lines: [`granted membership of ${state.admin.name} in ${model.roles.owner}`], scope: 'cluster' });
  }
  return out;
}

/** The database itself, once it exists: its owner, who may connect, and the settings that live in it. */
export function planDatabaseAccess(state: ClusterState, model: RoleModel): Change[] {
  const db = state.database;
  if (!db) return [];
  const out: Change[] = [];
  if (db.owner !== model.roles.owner) {
    out.push({ sql: `ALTER DATABASE ${ident(model.database)} OWNER TO ${ident(model.roles.owner)}`, lines: [`made ${model.roles.owner} the owner of database ${model.database} (was ${db.owner})`], scope: 'database' });
  }
  out.push(
    ...aclChanges(
      { prefix: '', on: `DATABASE ${ident(model.database)}`, label: `database ${model.database}`, owner: db.owner, grantorMatters: true },
      db.acl,
      model.databaseGrants,
      model.managedGrantees,
      'database',
    ),
  );
  out.push(...settingChanges(state, model, 'database'));
  return out;
}
