import { ident } from '../db/connect.ts';
import { aclChanges, type AclEntry, type AclSubject, type Change } from './changes.ts';
import { LEDGER_TABLE, MANAGED_DEFAULT_OBJTYPES, PUBLIC, type DefaultObjtype, type Grants, type RoleModel } from './model.ts';
import type { DatabaseState } from './state.ts';

/**
 * Pure: from one read of the database's catalogs to the statements that give the five roles
 * exactly the model's privileges inside it: the schemas, every table, view, sequence and
 * function in them, column grants, default privileges, and nothing owned by a login role.
 * Ownership changes come first, so the grants after them are planned as they will apply.
 */

const OBJTYPE_WORDS: Record<string, string> = { r: 'TABLES', S: 'SEQUENCES', f: 'FUNCTIONS', T: 'TYPES', n: 'SCHEMAS' };
const ROUTINE_KINDS: Record<string, string> = { f: 'function', p: 'procedure', a: 'aggregate', w: 'window function' };

function qualified(schema: string, name: string): string {
  return `${ident(schema)}.${ident(name)}`;
}

interface Owned {
  owner: string;
  acl: AclEntry[];
}

/**
 * How an object looks once REASSIGN OWNED has given it to the owner role: its old owner's own
 * entries are now the owner's, and grants it made are now the owner's grants.
 */
function afterReassign<T extends Owned>(o: T, reassigned: ReadonlySet<string>, owner: string): T {
  if (!reassigned.has(o.owner)) return o;
  const old = o.owner;
  return { ...o, owner, acl: o.acl.filter((e) => e.grantee !== old).map((e) => (e.grantor === old ? { ...e, grantor: owner } : e)) };
}

function ownershipChanges(state: DatabaseState, model: RoleModel): { changes: Change[]; reassigned: Set<string>; adopted: Set<string> } {
  const changes: Change[] = [];
  const reassigned = new Set<string>();
  const owner = model.roles.owner;
  for (const role of [...new Set(state.owned.map((o) => o.role))]) {
    reassigned.add(role);
    const lines = state.owned.filter((o) => o.role === role).map((o) => `gave ${o.type} ${o.identity} (owned by ${role}) to ${owner}`);
    changes.push({ sql: `REASSIGN OWNED BY ${ident(role)} TO ${ident(owner)}`, lines, scope: 'database' });
  }
  // Objects a role outside the model owns (typically the superuser that ran sqlx before the
  // take-over): one ALTER each, never REASSIGN OWNED, which would also take that role's objects
  // elsewhere. Without this the migrator could not even read the ledger.
  const adopted = new Set<string>();
  for (const o of state.foreignOwned.filter((f) => f.actable)) {
    adopted.add(o.key);
    changes.push({ sql: `${o.alter} OWNER TO ${ident(owner)}`, lines: [`made ${owner} the owner of ${o.label} (was ${o.owner})`], scope: 'database' });
  }
  return { changes, reassigned, adopted };
}

/** What an object looks like once the ownership changes above have run. */
function afterOwnership<T extends Owned>(o: T, key: string, reassigned: ReadonlySet<string>, adopted: ReadonlySet<string>, owner: string): T {
  return afterReassign(o, adopted.has(key) ? new Set([o.owner]) : reassigned, owner);
}

function schemaChanges(state: DatabaseState, model: RoleModel, reassigned: ReadonlySet<string>): Change[] {
  const out: Change[] = [];
  const owner = model.roles.owner;
  for (const name of model.schemas) {
    const found = state.schemas.find((s) => s.name === name);
    if (!found) {
      out.push({ sql: `CREATE SCHEMA ${ident(name)} AUTHORIZATION ${ident(owner)}`, lines: [`created schema ${name}`], scope: 'database' });
      out.push(...aclChanges(subject(`SCHEMA ${ident(name)}`, `schema ${name}`, owner), [], model.schemaGrants, model.managedGrantees, 'database'));
      continue;
    }
    let s = afterReassign(found, reassigned, owner);
    if (s.owner !== owner) {
      out.push({ sql: `ALTER SCHEMA ${ident(name)} OWNER TO ${ident(owner)}`, lines: [`made ${owner} the owner of schema ${name} (was ${s.owner})`], scope: 'database' });
      s = afterReassign(s, new Set([s.owner]), owner);
    }
    out.push(...aclChanges(subject(`SCHEMA ${ident(name)}`, `schema ${name}`, s.owner), s.acl, model.schemaGrants, model.managedGrantees, 'database'));
  }
  return out;
}

function subject(on: string, label: string, owner: string, column?: string): AclSubject {
  return { prefix: '', on, label, owner, column, grantorMatters: true };
}

function objectChanges(state: DatabaseState, model: RoleModel, reassigned: ReadonlySet<string>, adopted: ReadonlySet<string>): Change[] {
  const out: Change[] = [];
  const owner = model.roles.owner;
  const tableGrants = (name: string): Grants => (name === LEDGER_TABLE ? model.ledgerGrants : model.tableGrants);
  for (const found of state.relations) {
    const r = afterOwnership(found, `${found.schema}.${found.name}`, reassigned, adopted, owner);
    const sequence = r.relkind === 'S';
    const label = `${sequence ? 'sequence' : 'table'} ${r.schema}.${r.name}`;
    out.push(
      ...aclChanges(
        subject(`${sequence ? 'SEQUENCE' : 'TABLE'} ${qualified(r.schema, r.name)}`, label, r.owner),
        r.acl,
        sequence ? model.sequenceGrants : tableGrants(r.name),
        model.managedGrantees,
        'database',
      ),
    );
  }
  // Column grants: the table's own grants cover its columns, so a column grant is kept only
  // where the table grants the same privilege (redundant), and never with a grant option.
  for (const found of state.columns) {
    const c = afterOwnership(found, `${found.schema}.${found.table}`, reassigned, adopted, owner);
    const table = tableGrants(c.table);
    const wanted: Grants = Object.fromEntries(model.managedGrantees.map((g) => [g, c.acl.filter((e) => e.grantee === g && (table[g] ?? []).includes(e.privilege)).map((e) => e.privilege)]));
    out.push(...aclChanges(subject(`TABLE ${qualified(c.schema, c.table)}`, `table ${c.schema}.${c.table}`, c.owner, c.column), c.acl, wanted, model.managedGrantees, 'database'));
  }
  for (const found of state.routines) {
    const f = afterOwnership(found, `${found.schema}.${found.name}(${found.args})`, reassigned, adopted, owner);
    const label = `${ROUTINE_KINDS[f.kind] ?? 'routine'} ${f.schema}.${f.name}(${f.args})`;
    out.push(...aclChanges(subject(`ROUTINE ${qualified(f.schema, f.name)}(${f.args})`, label, f.owner), f.acl, model.routineGrants, model.managedGrantees, 'database'));
  }
  return out;
}

function defaultSubject(role: string, schema: string | undefined, objtype: string): AclSubject {
  const word = OBJTYPE_WORDS[objtype] ?? 'TABLES';
  return {
    prefix: `ALTER DEFAULT PRIVILEGES FOR ROLE ${ident(role)}${schema ? ` IN SCHEMA ${ident(schema)}` : ''} `,
    on: word,
    label: `future ${word.toLowerCase()} of ${role}${schema ? ` in schema ${schema}` : ''}`,
    owner: role,
    grantorMatters: false,
  };
}

/**
 * Default privileges: exactly the model's for the owner role (PUBLIC included, for tables,
 * sequences and functions), and none to the managed roles from anyone else's defaults.
 */
function defaultChanges(state: DatabaseState, model: RoleModel): Change[] {
  const out: Change[] = [];
  const owner = model.roles.owner;
  const roles = model.managedGrantees.filter((g) => g !== PUBLIC);
  const key = (role: string, schema: string | undefined, objtype: string) => `${role}\u0000${schema ?? ''}\u0000${objtype}`;
  const seen = new Set<string>();
  for (const row of state.defaults) {
    seen.add(key(row.role, row.schema, row.objtype));
    const want = model.defaultGrants.find((d) => d.role === row.role && d.schema === row.schema && d.objtype === row.objtype);
    const managed = row.role === owner && MANAGED_DEFAULT_OBJTYPES.includes(row.objtype as DefaultObjtype) ? model.managedGrantees : roles;
    out.push(...aclChanges(defaultSubject(row.role, row.schema, row.objtype), row.acl, want?.grants ?? {}, managed, 'database'));
  }
  for (const d of model.defaultGrants) {
    if (seen.has(key(d.role, d.schema, d.objtype))) continue;
    out.push(...aclChanges(defaultSubject(d.role, d.schema, d.objtype), [], d.grants, model.managedGrantees, 'database'));
  }
  return out;
}

/** Everything inside the database, in the order it must run. */
export function planPrivileges(state: DatabaseState, model: RoleModel): Change[] {
  const { changes: ownership, reassigned, adopted } = ownershipChanges(state, model);
  return [...ownership, ...schemaChanges(state, model, reassigned), ...defaultChanges(state, model), ...objectChanges(state, model, reassigned, adopted)];
}
