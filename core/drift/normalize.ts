import type { CatalogObject, ObjectType } from './model.ts';
import { parseAclItem } from './acl.ts';
import { ADMIN_SYMBOL, type RoleMap } from './roles.ts';

/**
 * Catalog rows → normalized objects. Pure: everything that is not drift is taken out here.
 * - OIDs never appear; objects are keyed by name (and, for constraints and indexes whose
 *   names PostgreSQL chose, matched by definition in diff.ts).
 * - Role names become symbols (roles.ts); who granted a privilege is dropped, who holds it is kept.
 * - A privilege list never set reads as its default, so "never touched" equals "reset".
 * - Column numbers (gaps from dropped columns) are dropped; only the relative order of the
 *   columns both sides have is compared (diff.ts), since SELECT * and COPY depend on it.
 * - Planner statistics, storage parameters of the physical kind (attstattarget, compression,
 *   tablespaces) and extension members are never read.
 * - Extension ownership is dropped: there is no ALTER EXTENSION … OWNER, a restore makes the
 *   restoring user the owner, and the extension's objects are compared through its version.
 */

export interface Row {
  [column: string]: unknown;
}

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const yesNo = (v: unknown): string => (v ? 'yes' : 'no');
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
const sorted = (v: readonly string[]): string[] => [...v].sort();

/** `a` → `"A"` when it needs quotes: the same rule as quote_ident, for names built client-side. */
export function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : '"' + name.replace(/"/g, '""') + '"';
}

/**
 * A privilege list (aclitem text) → `@app SELECT`, `PUBLIC EXECUTE`, `OWNER INSERT*`: the
 * grantor dropped (who granted is not drift, who holds it is), the owner's own rights marked
 * OWNER (so ALTER … OWNER TO is one change of owner, not also one in every list), duplicates
 * from several grantors merged.
 */
export function privileges(items: unknown, owner: string | null, roles: RoleMap): string[] {
  if (!Array.isArray(items) || items.length === 0) return [];
  const out = new Set<string>();
  for (const item of list(items)) {
    const acl = parseAclItem(item);
    const who = acl.grantee === null ? 'PUBLIC' : acl.grantee === owner ? 'OWNER' : roles.toSymbol(acl.grantee);
    for (const p of acl.privileges) out.add(`${who} ${p.privilege}${p.grantable ? '*' : ''}`);
  }
  return sorted([...out]);
}

/** `role=app_owner` → `role=@owner`: settings whose value is one of the roles compare symbolically. */
export function settings(entries: unknown, roles: RoleMap): string[] {
  if (!Array.isArray(entries) || entries.length === 0) return [];
  return sorted(
    list(entries).map((e) => {
      const eq = e.indexOf('=');
      if (eq < 0) return e;
      const value = e.slice(eq + 1);
      const symbol = roles.toSymbol(value);
      return symbol === value ? e : `${e.slice(0, eq + 1)}${symbol}`;
    }),
  );
}

const GENERATED_LABEL: Record<string, string> = { p: 'pkey', u: 'key', f: 'fkey', c: 'check', x: 'excl', index: 'idx' };
const GENERATED_PATTERN = new Map<string, RegExp>();

/**
 * Whether `name` has the shape PostgreSQL gives a constraint or index it names itself:
 * `<table>[_<columns>]_<label>[N]`, the table part possibly truncated to fit 63 bytes.
 */
export function looksGenerated(name: string, table: string, kind: keyof typeof GENERATED_LABEL | string): boolean {
  const label = GENERATED_LABEL[kind];
  if (!label) return false;
  let pattern = GENERATED_PATTERN.get(label);
  if (!pattern) GENERATED_PATTERN.set(label, (pattern = new RegExp(`^(.*)_${label}\\d*$`)));
  const m = pattern.exec(name);
  if (!m) return false;
  const stem = m[1]!;
  if (stem === table || stem.startsWith(table + '_')) return true;
  // makeObjectName truncates the table and column parts when the whole would pass 63 bytes.
  if (Buffer.byteLength(name) < 56) return false;
  for (let keep = table.length - 1; keep >= Math.min(table.length, 8); keep--) if (stem.startsWith(table.slice(0, keep) + '_')) return true;
  return false;
}

/** tgtype bits (pg_trigger.h) → timing, events, level. */
export function decodeTriggerType(tgtype: number, columns: readonly string[] = []): { timing: string; events: string; level: string } {
  const timing = tgtype & 64 ? 'INSTEAD OF' : tgtype & 2 ? 'BEFORE' : 'AFTER';
  const events: string[] = [];
  if (tgtype & 4) events.push('INSERT');
  if (tgtype & 8) events.push('DELETE');
  if (tgtype & 16) events.push(columns.length ? `UPDATE OF ${[...columns].sort().join(', ')}` : 'UPDATE');
  if (tgtype & 32) events.push('TRUNCATE');
  return { timing, events: events.join(' OR '), level: tgtype & 1 ? 'ROW' : 'STATEMENT' };
}

/** The parts of pg_get_triggerdef the type bits do not carry: the function call and WHEN. `name` is quoted as the server quotes it. */
export function parseTriggerDefinition(definition: string, name: string): { function: string; condition: string | null; definition: string } {
  const call = /\sEXECUTE (?:FUNCTION|PROCEDURE) (.*)$/s.exec(definition)?.[1] ?? '';
  const condition = /\sWHEN \((.*)\) EXECUTE (?:FUNCTION|PROCEDURE) /s.exec(definition)?.[1] ?? null;
  const withoutName = definition.replace(`TRIGGER ${name} `, 'TRIGGER ');
  return { function: call, condition, definition: withoutName };
}

const TRIGGER_ENABLED: Record<string, string> = { O: 'enabled', D: 'disabled', R: 'enabled for replica sessions only', A: 'enabled always' };
const RELATION_TYPE: Record<string, ObjectType> = { r: 'table', p: 'table', v: 'view', m: 'materialized view', f: 'foreign table' };
const RELATION_KIND: Record<string, string> = { r: 'table', p: 'partitioned table', v: 'view', m: 'materialized view', f: 'foreign table' };
const PERSISTENCE: Record<string, string> = { p: 'logged', u: 'unlogged', t: 'temporary' };
const REPLICA_IDENTITY: Record<string, string> = { d: 'default', n: 'nothing', f: 'full', i: 'index' };
const FUNCTION_TYPE: Record<string, ObjectType> = { f: 'function', p: 'procedure', a: 'aggregate', w: 'function' };
const VOLATILITY: Record<string, string> = { i: 'immutable', s: 'stable', v: 'volatile' };
const PARALLEL: Record<string, string> = { s: 'safe', r: 'restricted', u: 'unsafe' };
const POLICY_COMMAND: Record<string, string> = { r: 'SELECT', a: 'INSERT', w: 'UPDATE', d: 'DELETE', '*': 'ALL' };
const DEFACL_TYPE: Record<string, string> = { r: 'tables', S: 'sequences', f: 'functions', T: 'types', n: 'schemas', L: 'large objects' };
const TYPE_KIND: Record<string, string> = { e: 'enum', d: 'domain', c: 'composite', r: 'range' };
const IDENTITY: Record<string, string> = { a: 'GENERATED ALWAYS', d: 'GENERATED BY DEFAULT' };

/** INDOPTION_DESC and INDOPTION_NULLS_FIRST (pg_index.h). */
const DESC = 1;
const NULLS_FIRST = 2;

/**
 * `CREATE UNIQUE INDEX ON public.t USING btree ((lower(a)) text_pattern_ops, b DESC) INCLUDE (c) WHERE (…)`
 * from an index's parts (queries.ts INDEXES and INDEX_COLUMNS). Valid SQL once a name is put
 * in; what pg_get_indexdef prints, except that expressions are always in parentheses and a
 * collation is named whenever it is not the default one.
 */
export function indexSignature(rel: string, index: Row, columns: readonly Row[]): string {
  const keyCount = Number(index.key_columns);
  const parts = [...columns].sort((a, b) => Number(a.ord) - Number(b.ord)).map((c) => {
    const text = c.expression ? `(${String(c.text)})` : String(c.text);
    if (Number(c.ord) > keyCount) return { include: true, text };
    const option = Number(c.option);
    const order = option & DESC ? (option & NULLS_FIRST ? ' DESC' : ' DESC NULLS LAST') : option & NULLS_FIRST ? ' NULLS FIRST' : '';
    return { include: false, text: `${text}${c.collation ? ` COLLATE ${String(c.collation)}` : ''}${c.opclass ? ` ${String(c.opclass)}` : ''}${order}` };
  });
  const keys = parts.filter((p) => !p.include).map((p) => p.text);
  const include = parts.filter((p) => p.include).map((p) => p.text);
  const options = list(index.options);
  const predicate = str(index.predicate);
  return [
    `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX ON ${index.on_only ? 'ONLY ' : ''}${rel} USING ${String(index.method)} (${keys.join(', ')})`,
    include.length ? ` INCLUDE (${include.join(', ')})` : '',
    index.nulls_not_distinct ? ' NULLS NOT DISTINCT' : '',
    options.length ? ` WITH (${options.join(', ')})` : '',
    predicate ? ` WHERE ${predicate.startsWith('(') ? predicate : `(${predicate})`}` : '',
  ].join('');
}

export type SnapshotRows = Record<
  'database' | 'schemas' | 'extensions' | 'types' | 'relations' | 'columns' | 'constraints' | 'indexes' | 'indexColumns' | 'sequences' | 'triggers' | 'policies' | 'functions' | 'defaultPrivileges' | 'memberships' | 'roleSettings' | 'eventTriggers',
  readonly Row[]
>;

export const relationKey = (qualified: string) => `relation:${qualified}`;
const schemaKey = (schema: string) => `schema:${schema}`;

/** Builds the objects of one side from its rows. `roles` maps that side's role names to symbols. */
export function normalizeSnapshot(rows: SnapshotRows, roles: RoleMap): Map<string, CatalogObject> {
  const out = new Map<string, CatalogObject>();
  const add = (o: CatalogObject) => out.set(o.key, o);
  const owner = (v: unknown) => roles.toSymbol(String(v));

  for (const r of rows.database) {
    add({
      type: 'database',
      key: 'database',
      display: String(r.qname),
      fields: { owner: owner(r.owner), 'connection limit': String(r.connlimit), privileges: privileges(r.acl, str(r.owner), roles), settings: settings(r.settings, roles) },
    });
  }
  for (const r of rows.schemas) {
    const name = String(r.name);
    add({
      type: 'schema',
      key: schemaKey(name),
      display: String(r.qname),
      fields: { owner: owner(r.owner), privileges: privileges(r.acl, str(r.owner), roles) },
      sql: { drop: `DROP SCHEMA ${String(r.qname)};` },
    });
  }
  for (const r of rows.extensions) {
    const name = String(r.qname);
    add({
      type: 'extension',
      key: `extension:${String(r.name)}`,
      display: name,
      fields: { version: str(r.version), schema: str(r.schema) },
      sql: { create: `CREATE EXTENSION ${name} VERSION '${String(r.version)}' SCHEMA ${String(r.schema)};`, drop: `DROP EXTENSION ${name};` },
    });
  }
  for (const r of rows.types) {
    const q = String(r.qname);
    add({
      type: 'type',
      key: `type:${q}`,
      display: q,
      parent: schemaKey(String(r.schema)),
      fields: { kind: TYPE_KIND[String(r.kind)] ?? String(r.kind), definition: str(r.definition), owner: owner(r.owner), privileges: privileges(r.acl, str(r.owner), roles) },
      sql: { drop: `DROP ${r.kind === 'd' ? 'DOMAIN' : 'TYPE'} ${q};` },
    });
  }

  // Child rows name their table by OID; the relations rows say what it is called.
  const relations = new Map(rows.relations.map((r) => [Number(r.oid), { q: String(r.qname), name: String(r.name), owner: str(r.owner) }]));
  const relOf = (r: Row) => relations.get(Number(r.relid)) ?? { q: `relation ${String(r.relid)}`, name: '', owner: null };
  const columnOrder = new Map<string, string[]>();
  for (const r of rows.columns) {
    const table = relOf(r);
    const rel = table.q;
    const name = String(r.qname);
    const order = columnOrder.get(rel);
    if (order) order.push(name);
    else columnOrder.set(rel, [name]);
    const display = `${rel}.${name}`;
    add({
      type: 'column',
      key: `column:${display}`,
      display,
      parent: relationKey(rel),
      fields: {
        type: String(r.type),
        nullable: r.not_null ? 'NOT NULL' : 'NULL',
        default: str(r.default),
        generated: str(r.generated),
        identity: IDENTITY[String(r.identity)] ?? null,
        collation: str(r.collation),
        privileges: privileges(r.acl, table.owner, roles),
      },
      sql: { drop: `ALTER TABLE ${rel} DROP COLUMN ${name};` },
    });
  }

  for (const r of rows.relations) {
    const q = String(r.qname);
    const kind = String(r.kind);
    const type = RELATION_TYPE[kind] ?? 'table';
    const parents = list(r.parents);
    add({
      type,
      key: relationKey(q),
      display: q,
      parent: schemaKey(String(r.schema)),
      fields: {
        kind: RELATION_KIND[kind] ?? kind,
        owner: owner(r.owner),
        privileges: privileges(r.acl, str(r.owner), roles),
        persistence: PERSISTENCE[String(r.persistence)] ?? String(r.persistence),
        'row level security': r.rls ? 'enabled' : 'disabled',
        'forced row level security': r.force_rls ? 'forced' : 'not forced',
        options: sorted(list(r.options)),
        'replica identity': REPLICA_IDENTITY[String(r.replica_identity)] ?? String(r.replica_identity),
        'partition key': str(r.partition_key),
        'partition of': r.is_partition && parents.length ? parents.join(', ') : null,
        inherits: !r.is_partition && parents.length ? parents.join(', ') : null,
        'partition bound': str(r.partition_bound),
        definition: str(r.definition),
        'column order': columnOrder.get(q) ?? [],
      },
      sql: { drop: `DROP ${type === 'table' ? 'TABLE' : type.toUpperCase()} ${q};` },
    });
  }

  for (const r of rows.constraints) {
    const table = relOf(r);
    const rel = table.q;
    const name = String(r.name);
    const qname = String(r.qname);
    const definition = String(r.definition);
    add({
      type: 'constraint',
      key: `constraint:${rel}:${qname}`,
      display: `${qname} on ${rel}`,
      parent: relationKey(rel),
      match: { table: rel, name: qname, signature: `${String(r.type)} ${definition}`, generatedName: looksGenerated(name, table.name, String(r.type)) },
      fields: { definition },
      sql: { create: `ALTER TABLE ${rel} ADD CONSTRAINT ${qname} ${definition};`, drop: `ALTER TABLE ${rel} DROP CONSTRAINT ${qname};` },
    });
  }
  const indexColumns = new Map<number, Row[]>();
  for (const r of rows.indexColumns) {
    const q = Number(r.indexid);
    const cols = indexColumns.get(q);
    if (cols) cols.push(r);
    else indexColumns.set(q, [r]);
  }
  for (const r of rows.indexes) {
    const table = relOf(r);
    const rel = table.q;
    const name = String(r.name);
    const q = String(r.qname);
    const signature = indexSignature(rel, r, indexColumns.get(Number(r.indexid)) ?? []);
    add({
      type: 'index',
      key: `index:${q}`,
      display: q,
      parent: relationKey(rel),
      match: { table: rel, name: String(r.quoted_name), signature, generatedName: looksGenerated(name, table.name, 'index') },
      fields: { definition: signature, valid: yesNo(r.valid) },
      sql: { create: `${signature.replace(' INDEX ON ', ` INDEX ${String(r.quoted_name)} ON `)};`, drop: `DROP INDEX ${q};` },
    });
  }
  for (const r of rows.sequences) {
    const q = String(r.qname);
    const ownedBy = r.owned_table ? `${String(r.owned_table)}.${String(r.owned_column)}` : null;
    const identity = r.owned_kind === 'i';
    add({
      type: 'sequence',
      // An identity column's sequence has a name PostgreSQL chose: it is known by its column.
      key: identity ? `sequence:identity:${ownedBy}` : `sequence:${q}`,
      display: identity ? `identity sequence of ${ownedBy}` : q,
      parent: r.owned_table ? relationKey(String(r.owned_table)) : schemaKey(String(r.schema)),
      fields: {
        'data type': String(r.data_type),
        start: String(r.start),
        increment: String(r.increment),
        minimum: String(r.min),
        maximum: String(r.max),
        cache: String(r.cache),
        cycle: yesNo(r.cycle),
        persistence: PERSISTENCE[String(r.persistence)] ?? String(r.persistence),
        'owned by': identity ? null : ownedBy,
        owner: owner(r.owner),
        privileges: privileges(r.acl, str(r.owner), roles),
      },
      sql: identity ? undefined : { drop: `DROP SEQUENCE ${q};` },
    });
  }
  for (const r of rows.triggers) {
    const rel = relOf(r).q;
    const name = String(r.qname);
    const parsed = parseTriggerDefinition(String(r.definition), name);
    add({
      type: 'trigger',
      key: `trigger:${rel}:${name}`,
      display: `${name} on ${rel}`,
      parent: relationKey(rel),
      fields: {
        ...decodeTriggerType(Number(r.tgtype), list(r.columns)),
        function: parsed.function,
        condition: parsed.condition,
        enabled: TRIGGER_ENABLED[String(r.enabled)] ?? String(r.enabled),
        definition: parsed.definition,
      },
      sql: { create: `${String(r.definition)};`, drop: `DROP TRIGGER ${name} ON ${rel};` },
    });
  }
  for (const r of rows.policies) {
    const rel = relOf(r).q;
    const name = String(r.qname);
    const policyRoles = sorted(list(r.roles).map((x) => (x === '=' ? 'PUBLIC' : roles.toSymbol(x))));
    add({
      type: 'policy',
      key: `policy:${rel}:${name}`,
      display: `${name} on ${rel}`,
      parent: relationKey(rel),
      fields: {
        command: POLICY_COMMAND[String(r.cmd)] ?? String(r.cmd),
        permissive: r.permissive ? 'PERMISSIVE' : 'RESTRICTIVE',
        roles: policyRoles,
        using: str(r.using),
        'with check': str(r.with_check),
      },
      sql: { drop: `DROP POLICY ${name} ON ${rel};` },
    });
  }
  for (const r of rows.functions) {
    const q = String(r.qname);
    const signature = `${q}(${String(r.identity_args)})`;
    const type = FUNCTION_TYPE[String(r.kind)] ?? 'function';
    add({
      type,
      key: `function:${signature}`,
      display: signature,
      parent: schemaKey(String(r.schema)),
      fields: {
        kind: String(r.kind) === 'w' ? 'window function' : type,
        arguments: String(r.arguments),
        result: str(r.result),
        language: String(r.language),
        volatility: VOLATILITY[String(r.volatility)] ?? String(r.volatility),
        strict: yesNo(r.strict),
        'security definer': yesNo(r.security_definer),
        leakproof: yesNo(r.leakproof),
        parallel: PARALLEL[String(r.parallel)] ?? String(r.parallel),
        cost: String(r.cost),
        rows: String(r.rows),
        configuration: settings(r.config, roles),
        body: `md5 ${String(r.body_hash)}`,
        owner: owner(r.owner),
        privileges: privileges(r.acl, str(r.owner), roles),
      },
      sql: { create: r.definition ? `${String(r.definition).trimEnd()};` : undefined, drop: `DROP ${type === 'aggregate' ? 'AGGREGATE' : type === 'procedure' ? 'PROCEDURE' : 'FUNCTION'} ${signature};` },
    });
  }
  for (const r of rows.defaultPrivileges) {
    const role = roles.toSymbol(String(r.role));
    const schema = str(r.schema);
    const objects = DEFACL_TYPE[String(r.objtype)] ?? String(r.objtype);
    add({
      type: 'default privileges',
      key: `default-privileges:${role}:${schema ?? '*'}:${objects}`,
      display: `default privileges of ${role} on ${objects}${schema ? ` in schema ${schema}` : ''}`,
      fields: { privileges: privileges(r.acl, str(r.role), roles) },
    });
  }
  const memberships = new Map<string, { role: string; member: string; options: Set<string> }>();
  for (const r of rows.memberships) {
    const role = roles.toSymbol(String(r.role));
    const member = roles.toSymbol(String(r.member));
    // The administrator's own memberships are setup's (RDS's master must be a member of the owner), not the schema's.
    if (member === ADMIN_SYMBOL) continue;
    const key = `membership:${role}:${member}`;
    const m = memberships.get(key) ?? { role, member, options: new Set<string>() };
    const opts = (r.options ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(opts)) if (v === true) m.options.add(k.replace(/_option$/, ''));
    memberships.set(key, m);
  }
  for (const [key, m] of memberships) {
    const sqlName = (n: string) => (n.startsWith('@') ? n : quoteIdent(n));
    const [role, member] = [sqlName(m.role), sqlName(m.member)];
    add({
      type: 'role membership',
      key,
      display: `membership of ${m.member} in ${m.role}`,
      fields: { options: sorted([...m.options]) },
      sql: { create: `GRANT ${role} TO ${member};`, drop: `REVOKE ${role} FROM ${member};` },
    });
  }
  for (const r of rows.roleSettings) {
    const role = roles.toSymbol(String(r.role));
    const scope = r.all_databases ? 'all databases' : 'this database';
    add({ type: 'role settings', key: `role-settings:${role}:${scope}`, display: `settings of ${role} in ${scope}`, fields: { settings: settings(r.config, roles) } });
  }
  for (const r of rows.eventTriggers) {
    const name = String(r.qname);
    add({
      type: 'event trigger',
      key: `event-trigger:${name}`,
      display: name,
      fields: { event: String(r.event), function: String(r.function), enabled: TRIGGER_ENABLED[String(r.enabled)] ?? String(r.enabled), tags: sorted(list(r.tags)), owner: owner(r.owner) },
      sql: { drop: `DROP EVENT TRIGGER ${name};` },
    });
  }
  return out;
}

