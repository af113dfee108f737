import type { CatalogObject, FieldChange, FieldValue } from './model.ts';
import { renderSql } from './render.ts';

/**
 * The fix text of a drift finding. Drift means a human decides which side is right, so it
 * always names both ways out and never applies either: a new migration that makes the live
 * state official, or the SQL that puts the live database back to what the migrations build.
 * Pure. SQL is given where the catalog says exactly what it is; otherwise the text says what
 * to write.
 */

export type FixInput =
  | { kind: 'extra'; live: CatalogObject; names: Map<string, string> }
  | { kind: 'missing'; reference: CatalogObject; names: Map<string, string> }
  | { kind: 'changed'; reference: CatalogObject; live: CatalogObject; fields: FieldChange[]; names: Map<string, string> };

const NO_AUTOFIX = 'Drift is never fixed automatically.';

/** The keyword GRANT and ALTER … OWNER use for an object, and the object's name as SQL. */
function grantTarget(o: CatalogObject): { keyword: string; name: string } | undefined {
  switch (o.type) {
    case 'table':
    case 'view':
    case 'materialized view':
    case 'foreign table':
      return { keyword: 'TABLE', name: o.display };
    case 'sequence':
      return o.display.startsWith('identity sequence of ') ? undefined : { keyword: 'SEQUENCE', name: o.display };
    case 'function':
    case 'aggregate':
      return { keyword: 'FUNCTION', name: o.display };
    case 'procedure':
      return { keyword: 'PROCEDURE', name: o.display };
    case 'schema':
      return { keyword: 'SCHEMA', name: o.display };
    case 'type':
      return { keyword: 'TYPE', name: o.display };
    case 'database':
      return { keyword: 'DATABASE', name: o.display };
    default:
      return undefined;
  }
}

/** ALTER … OWNER TO keyword per object type (GRANT says TABLE for views; ALTER does not). */
const ALTER_KEYWORD: Partial<Record<CatalogObject['type'], string>> = {
  table: 'TABLE',
  view: 'VIEW',
  'materialized view': 'MATERIALIZED VIEW',
  'foreign table': 'FOREIGN TABLE',
  sequence: 'SEQUENCE',
  function: 'FUNCTION',
  procedure: 'PROCEDURE',
  aggregate: 'AGGREGATE',
  schema: 'SCHEMA',
  type: 'TYPE',
  'event trigger': 'EVENT TRIGGER',
};

const list = (v: FieldValue): readonly string[] => (Array.isArray(v) ? v : []);
const text = (v: FieldValue): string | null => (typeof v === 'string' ? v : null);

/** `@app SELECT*` entries → GRANT/REVOKE statements that turn `from` into `to`. */
export function privilegeStatements(o: CatalogObject, from: readonly string[], to: readonly string[], column?: string): string[] {
  const out: string[] = [];
  const owner = text(o.fields.owner ?? null) ?? '@owner';
  const who = (g: string) => (g === 'OWNER' ? owner : g);
  const split = (e: string) => {
    const space = e.lastIndexOf(' ');
    return { grantee: who(e.slice(0, space)), privilege: e.slice(space + 1).replace(/\*$/, ''), option: e.endsWith('*') };
  };
  if (o.type === 'default privileges') {
    const m = /^default privileges of (\S+) on (.+?)(?: in schema (\S+))?$/.exec(o.display);
    if (!m) return out;
    const head = `ALTER DEFAULT PRIVILEGES FOR ROLE ${m[1]}${m[3] ? ` IN SCHEMA ${m[3]}` : ''}`;
    const objects = m[2]!.toUpperCase();
    for (const e of to.filter((x) => !from.includes(x)).map(split)) out.push(`${head} GRANT ${e.privilege} ON ${objects} TO ${e.grantee}${e.option ? ' WITH GRANT OPTION' : ''};`);
    for (const e of from.filter((x) => !to.includes(x)).map(split)) out.push(`${head} REVOKE ${e.privilege} ON ${objects} FROM ${e.grantee};`);
    return out;
  }
  const target = grantTarget(o);
  if (!target) return out;
  const on = `${target.keyword} ${target.name}`;
  const priv = (p: string) => (column ? `${p} (${column})` : p);
  for (const e of to.filter((x) => !from.includes(x)).map(split)) out.push(`GRANT ${priv(e.privilege)} ON ${on} TO ${e.grantee}${e.option ? ' WITH GRANT OPTION' : ''};`);
  for (const e of from.filter((x) => !to.includes(x)).map(split)) {
    // A lost grant option alone is revoked as just the option.
    const keepsPrivilege = to.includes(`${e.grantee === owner ? 'OWNER' : e.grantee} ${e.privilege}`);
    out.push(keepsPrivilege ? `REVOKE GRANT OPTION FOR ${priv(e.privilege)} ON ${on} FROM ${e.grantee};` : `REVOKE ${priv(e.privilege)} ON ${on} FROM ${e.grantee};`);
  }
  return out;
}

/** Statements that take `o` from field values `from` to `to`, or undefined when no exact SQL can be given. */
function changeStatements(o: CatalogObject, toObject: CatalogObject, field: string, from: FieldValue, to: FieldValue): string[] | undefined {
  if (field === 'privileges') {
    const column = o.type === 'column' ? o.display.slice(o.display.lastIndexOf('.') + 1) : undefined;
    const target = o.type === 'column' ? { ...o, type: 'table' as const, display: o.display.slice(0, o.display.lastIndexOf('.')) } : o;
    return privilegeStatements(target, list(from), list(to), column);
  }
  if (field === 'owner' && ALTER_KEYWORD[o.type]) return [`ALTER ${ALTER_KEYWORD[o.type]} ${o.display} OWNER TO ${text(to)};`];
  if (field === 'owner' && o.type === 'database') return [`ALTER DATABASE ${o.display} OWNER TO ${text(to)};`];
  if (o.type === 'column') {
    const dot = o.display.lastIndexOf('.');
    const head = `ALTER TABLE ${o.display.slice(0, dot)} ALTER COLUMN ${o.display.slice(dot + 1)}`;
    if (field === 'default') return [text(to) === null ? `${head} DROP DEFAULT;` : `${head} SET DEFAULT ${text(to)};`];
    if (field === 'nullable') return [to === 'NOT NULL' ? `${head} SET NOT NULL;` : `${head} DROP NOT NULL;`];
    if (field === 'type') return [`${head} TYPE ${text(to)};`];
  }
  if (o.type === 'table') {
    if (field === 'row level security') return [`ALTER TABLE ${o.display} ${to === 'enabled' ? 'ENABLE' : 'DISABLE'} ROW LEVEL SECURITY;`];
    if (field === 'forced row level security') return [`ALTER TABLE ${o.display} ${to === 'forced' ? 'FORCE' : 'NO FORCE'} ROW LEVEL SECURITY;`];
  }
  if (o.type === 'trigger' && field === 'enabled') {
    const m = /^(.+) on (.+)$/.exec(o.display)!;
    const how: Record<string, string> = { enabled: 'ENABLE', disabled: 'DISABLE', 'enabled for replica sessions only': 'ENABLE REPLICA', 'enabled always': 'ENABLE ALWAYS' };
    return [`ALTER TABLE ${m[2]} ${how[String(to)] ?? 'ENABLE'} TRIGGER ${m[1]};`];
  }
  if (o.type === 'extension' && field === 'version') return [`ALTER EXTENSION ${o.display} UPDATE TO '${text(to)}';`];
  if (o.type === 'view' && field === 'definition' && text(to)) return [`CREATE OR REPLACE VIEW ${o.display} AS ${text(to)!.trim()}`];
  // Everything else about these objects is restated whole: drop and re-create from the other side's definition.
  if ((o.type === 'index' || o.type === 'constraint' || o.type === 'trigger') && o.sql?.drop && toObject.sql?.create) return [o.sql.drop, toObject.sql.create];
  if ((o.type === 'function' || o.type === 'procedure') && toObject.sql?.create) {
    // CREATE OR REPLACE cannot change a result type or argument names; those need a drop first.
    const needsDrop = field === 'result' || field === 'arguments' || field === 'kind';
    return needsDrop && o.sql?.drop ? [o.sql.drop, toObject.sql.create] : [toObject.sql.create];
  }
  return undefined;
}

function statementsFor(from: CatalogObject, to: CatalogObject, fields: FieldChange[], direction: 'forward' | 'back'): string[] | undefined {
  const out: string[] = [];
  for (const f of fields) {
    const [a, b] = direction === 'forward' ? [f.expected, f.actual] : [f.actual, f.expected];
    if (f.field === 'name') {
      const [oldName, newName] = [text(a), text(b)];
      const keyword = from.type === 'index' ? `ALTER INDEX ${from.display.slice(0, from.display.lastIndexOf('.') + 1)}${oldName}` : undefined;
      if (keyword) out.push(`${keyword} RENAME TO ${newName};`);
      else if (from.type === 'constraint') out.push(`ALTER TABLE ${from.match!.table} RENAME CONSTRAINT ${oldName} TO ${newName};`);
      else return undefined;
      continue;
    }
    const s = changeStatements(from, to, f.field, a, b);
    if (!s) return undefined;
    for (const line of s) if (!out.includes(line)) out.push(line);
  }
  return out;
}

const joinSql = (lines: readonly string[]) => lines.join(' ');
const code = (sql: string) => `\`${sql}\``;

/** Objects pg_dump can print the definition of, for a migration that adopts one created by hand. */
const DUMPABLE = new Set<CatalogObject['type']>(['table', 'view', 'materialized view', 'foreign table', 'sequence', 'type', 'schema']);

function adoptHint(o: CatalogObject, names: Map<string, string>): string {
  const what = renderSql(o.display, names);
  if (DUMPABLE.has(o.type)) return `a migration that creates this ${o.type} as it is now (\`pg_dump --schema-only --table=${what}\` prints it)`;
  return `a migration that creates this ${o.type} as it is now`;
}

function phrase(official: string, back: string): string {
  return `Either make it official with ${official}, or put the database back: ${back}. ${NO_AUTOFIX}`;
}

/**
 * A drift finding's way out, in words and as SQL. `migrationSql` is what a new migration would
 * say to make the live state official; `restoreSql` is what puts the live database back. Each is
 * absent where the catalog cannot say exactly what the SQL is (the text then says what to write).
 */
export interface DriftFix {
  text: string;
  migrationSql?: string | undefined;
  restoreSql?: string | undefined;
}

export function driftFix(input: FixInput): DriftFix {
  const render = (s: string) => renderSql(s, input.names);
  const quoted = (s: string | undefined, words: string) => (s === undefined ? words : code(s));
  if (input.kind === 'extra') {
    const create = input.live.sql?.create;
    const migrationSql = create ? render(create) : undefined;
    const restoreSql = input.live.sql?.drop ? render(input.live.sql.drop) : undefined;
    const official = migrationSql ? `a migration: ${code(migrationSql)}` : adoptHint(input.live, input.names);
    return { text: phrase(official, quoted(restoreSql, `remove the ${input.live.type} by hand`)), migrationSql, restoreSql };
  }
  if (input.kind === 'missing') {
    const drop = input.reference.sql?.drop;
    const migrationSql = drop ? render(drop) : undefined;
    const restoreSql = input.reference.sql?.create ? render(input.reference.sql.create) : undefined;
    const official = migrationSql ? `a migration that removes it: ${code(migrationSql)}` : `a migration that removes this ${input.reference.type}`;
    return { text: phrase(official, quoted(restoreSql, 're-create it as the migrations define it')), migrationSql, restoreSql };
  }
  // A migration runs against databases built like the reference, so it names objects as the reference does; the database itself is the live one wherever it runs.
  const reference = input.reference.type === 'database' ? { ...input.reference, display: input.live.display } : input.reference;
  const forward = statementsFor(reference, input.live, input.fields, 'forward');
  const back = statementsFor(input.live, reference, input.fields, 'back');
  const changed = input.fields.map((f) => f.field).join(', ');
  const migrationSql = forward?.length ? render(joinSql(forward)) : undefined;
  const restoreSql = back?.length ? render(joinSql(back)) : undefined;
  const official = migrationSql ? `a migration: ${code(migrationSql)}` : `a migration that sets ${changed} to what the database has now`;
  return { text: phrase(official, quoted(restoreSql, `set ${changed} back to what the migrations define`)), migrationSql, restoreSql };
}

export function fixText(input: FixInput): string {
  return driftFix(input).text;
}
