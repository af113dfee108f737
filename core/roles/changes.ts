import { ident } from '../db/connect.ts';
import { granted, PUBLIC, type Grantee, type Grants } from './model.ts';

/** One step towards the model: the SQL that makes it, and the line that says what it changed. */
export interface Change {
  sql: string;
  /** One line per thing changed (an ALTER ROLE with three clauses changes three things). */
  lines: readonly string[];
  /** Changes to the roles themselves, or to the database and what is in it. */
  scope: 'cluster' | 'database';
  /** The role a cluster change is about, so a report can fold the changes of a role it just created. */
  subject?: string;
}

/** One entry of an ACL, as aclexplode shows it; the catalog readers return only managed grantees. */
export interface AclEntry {
  grantee: Grantee;
  grantor: string;
  privilege: string;
  grantable: boolean;
}

/** Something privileges are granted on, and how to name it in GRANT/REVOKE. */
export interface AclSubject {
  /** `ALTER DEFAULT PRIVILEGES FOR ROLE "o" IN SCHEMA "s" ` for defaults; empty for objects. */
  prefix: string;
  /** What follows ON: `TABLE "public"."users"`, `DATABASE "app"`, `TABLES`. */
  on: string;
  /** For the change lines: `table public.users`, `future tables of app_owner in schema public`. */
  label: string;
  /** Its owner: entries granted by the owner are revoked directly; the owner's own entries are ownership, not grants. */
  owner: string;
  /** A column, for column privileges. */
  column?: string | undefined;
  /** Default privileges have no grantor to act as. */
  grantorMatters: boolean;
}

export function sqlGrantee(g: Grantee): string {
  return g === PUBLIC ? 'PUBLIC' : ident(g);
}

function privilegeList(s: AclSubject, privileges: readonly string[]): string {
  return privileges.map((p) => (s.column ? `${p} (${ident(s.column)})` : p)).join(', ');
}

function onLabel(s: AclSubject): string {
  return s.column ? `column ${s.column} of ${s.label}` : s.label;
}

/**
 * Runs a REVOKE as the grantor that made the grant: a superuser's REVOKE acts as the object's
 * owner and cannot reach a grant someone else made with a grant option.
 */
function asGrantor(s: AclSubject, grantor: string, sql: string): string {
  if (!s.grantorMatters || grantor === s.owner) return sql;
  return `SET ROLE ${ident(grantor)}; ${sql}; RESET ROLE`;
}

/**
 * Pure: the changes that make `actual` (the managed grantees' entries on one subject) exactly
 * `wanted`: missing privileges granted, extra ones and every grant option revoked.
 */
export function aclChanges(s: AclSubject, actual: readonly AclEntry[], wanted: Grants, managed: readonly Grantee[], scope: Change['scope']): Change[] {
  const out: Change[] = [];
  for (const g of managed) {
    if (g === s.owner) continue;
    const entries = actual.filter((e) => e.grantee === g);
    const want = granted(wanted, g);
    const have = new Set(entries.map((e) => e.privilege));
    const missing = want.filter((p) => !have.has(p));
    if (missing.length) {
      out.push({ sql: `${s.prefix}GRANT ${privilegeList(s, missing)} ON ${s.on} TO ${sqlGrantee(g)}`, lines: [`granted ${missing.join(', ')} on ${onLabel(s)} to ${g}`], scope });
    }
    const byGrantor = new Map<string, { extra: string[]; option: string[] }>();
    for (const e of entries) {
      const slot = byGrantor.get(e.grantor) ?? { extra: [], option: [] };
      byGrantor.set(e.grantor, slot);
      if (!want.includes(e.privilege)) slot.extra.push(e.privilege);
      else if (e.grantable) slot.option.push(e.privilege);
    }
    for (const [grantor, { extra, option }] of byGrantor) {
      const by = s.grantorMatters && grantor !== s.owner ? ` (granted by ${grantor})` : '';
      if (extra.length) {
        out.push({
          sql: asGrantor(s, grantor, `${s.prefix}REVOKE ${privilegeList(s, extra)} ON ${s.on} FROM ${sqlGrantee(g)} CASCADE`),
          lines: [`revoked ${extra.join(', ')} on ${onLabel(s)} from ${g}${by}`],
          scope,
        });
      }
      if (option.length) {
        out.push({
          sql: asGrantor(s, grantor, `${s.prefix}REVOKE GRANT OPTION FOR ${privilegeList(s, option)} ON ${s.on} FROM ${sqlGrantee(g)} CASCADE`),
          lines: [`revoked the grant option for ${option.join(', ')} on ${onLabel(s)} from ${g}${by}`],
          scope,
        });
      }
    }
  }
  return out;
}

/** Several changes as one multi-statement query: one round trip, and one implicit transaction. */
export function batch(changes: readonly Change[]): string {
  return changes.map((c) => c.sql).join(';\n');
}

export function linesOf(changes: readonly Change[]): string[] {
  return changes.flatMap((c) => c.lines);
}

/** A parameter or setting name as SQL: each dotted part quoted (`"myapp"."mode"`). */
export function settingName(name: string): string {
  return name.split('.').map(ident).join('.');
}
