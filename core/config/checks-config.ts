import { POLICIES, type PolicyName } from './policies.ts';
import { ROLE_KINDS, type RoleNames } from './role-names.ts';
import type { PoolBudget } from './target-settings.ts';
import type { Json, Reader } from './json-reader.ts';

/** A finding silenced on purpose: which check, which object (as the report names it), and why. */
export interface Ignore {
  check: string;
  object: string;
  reason: string;
}

/**
 * What the checks know about one application: the `checks` section of pgsteward.config.json,
 * read into the shape every rule takes. Every check finds its subjects in the catalog; this
 * only says which of them carry promises (searchable columns, e-mail uniqueness, the pool
 * budget), which policies apply, and which sample rows the rolled-back probes may insert.
 * Tables are written schema-qualified and unquoted, as `format('%I.%I')` prints them:
 * `public.users`; a name without a schema means `public`.
 */

export interface TableColumn {
  table: string;
  column: string;
}

export interface FullTextColumn extends TableColumn {
  /** Text search configuration queries use, e.g. `english`. */
  config: string;
}

export const SEARCH_QUERY_KINDS = ['full-text', 'ilike', 'similarity'] as const;

export interface SearchQuery {
  /** full-text: `column @@ websearch_to_tsquery(config, term)`; ilike: `column ILIKE '%term%'`; similarity: `term <% column`. */
  kind: (typeof SEARCH_QUERY_KINDS)[number];
  column: string;
  term: string;
  /** The value of the probe's `key` column that must be among the hits. */
  expect: string;
}

export interface SearchProbe {
  table: string;
  /** Rows inserted inside the rolled-back probe; columns not named take their defaults. */
  rows: Array<Record<string, string>>;
  /** The column whose value identifies a hit. */
  key: string;
  queries: SearchQuery[];
}

export interface Expectations {
  /** The file these came from, for messages that name a key to fix; undefined when there is none. */
  configFile: string | undefined;
  /** The policies to evaluate (see policies.ts); none without a configuration. */
  policies: PolicyName[];
  /** Schemas to check; undefined means every schema that is not a system schema. */
  schemas: string[] | undefined;
  /** Tables no table-level check looks at; sqlx's ledger is always among them (a bigint key by sqlx's design). */
  ignoreTables: string[];
  /** Single-column surrogate keys must be uuid with one of these defaults (schema prefix allowed). */
  uuidV7Functions: string[];
  /** Flag single-column surrogate keys that are not uuid at all (serial, identity). */
  requireUuidKeys: boolean;
  updatedAt: {
    column: string;
    /** The trigger function the fix SQL names when a table has none. */
    function: string;
  };
  /** Columns whose values must be unique regardless of case. */
  emailColumns: TableColumn[];
  search: {
    fullText: FullTextColumn[];
    trigram: TableColumn[];
    probes: SearchProbe[];
  };
  /**
   * One valid row per table that probes may insert (always rolled back): proves UUIDv7 keys,
   * the updated_at trigger, case-insensitive e-mail uniqueness and the roles' privileges on
   * real rows. Columns not named take their defaults. A table without one is judged by the
   * catalog alone.
   */
  probeRows: Record<string, Record<string, string>>;
  /** The least-privilege roles; undefined means roleNames(database). */
  roles: RoleNames | undefined;
  /** The app role's CONNECTION LIMIT must equal max × instances. */
  pool: PoolBudget;
  squawk: {
    /** squawk rules whose findings fail the migration-lint check; the rest are ignored. */
    rules: string[];
    pgVersion: string;
  };
  /** Findings accepted on purpose, each with its reason (see docs/checks/README.md, "Silencing a finding"). */
  ignore: Ignore[];
}

/** sqlx's ledger: a tool's table, not the application's, on every sqlx database. */
export const SQLX_LEDGER = 'public._sqlx_migrations';

/**
 * squawk rules enforced on pending migrations unless the file lists its own. Each one guards
 * a live database: a long lock, a table rewrite, a statement that fails on a non-empty table,
 * or a rename that breaks the running application. Drops and truncates are left to the
 * data-preservation check, which honours `-- destructive: <reason>`. The timeout rules stay
 * off: the migration runner owns its session settings, not each file.
 */
export const SQUAWK_RULES = [
  'adding-field-with-default',
  'adding-foreign-key-constraint',
  'adding-not-nullable-field',
  'adding-required-field',
  'adding-serial-primary-key-field',
  'ban-char-field',
  'ban-concurrent-index-creation-in-transaction',
  'ban-drop-database',
  'ban-truncate-cascade',
  'ban-uncommitted-transaction',
  'constraint-missing-not-valid',
  'disallowed-unique-constraint',
  'prefer-timestamp-tz',
  'renaming-column',
  'renaming-table',
  'require-concurrent-index-creation',
  'require-concurrent-index-deletion',
  'transaction-nesting',
];

export const DEFAULT_UUID_FUNCTIONS = ['uuid_generate_v7', 'uuidv7'];
export const DEFAULT_UPDATED_AT = { column: 'updated_at', function: 'set_updated_at' };
export const DEFAULT_SQUAWK_PG_VERSION = '17.0';

/** `uuidv7-keys` → `uuidv7Keys`: how the file spells a policy. */
export function policyKey(p: PolicyName): string {
  return p.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The keys of each checks object, shared with the JSON Schema's test so the two cannot drift. */
export const CHECKS_KEYS = {
  checks: ['schemas', 'ignoreTables', 'policies', 'probeRows', 'squawk', 'ignore'],
  policies: POLICIES.map(policyKey),
  uuidv7Keys: ['functions', 'requireUuid'],
  updatedAt: ['column', 'function'],
  emailCaseInsensitive: ['columns'],
  search: ['fullText', 'trigram', 'probes'],
  roles: ['names'],
  ledger: [],
  searchProbe: ['table', 'key', 'rows', 'queries'],
  searchQuery: ['kind', 'column', 'term', 'expect'],
  squawk: ['rules', 'pgVersion'],
  ignore: ['check', 'object', 'reason'],
} as const;

/** Written unquoted, schema optional (`public` then): `users`, `public.users`, `public.users.email`. */
const PART = '[^.\\s"]+';
const TABLE = new RegExp(`^${PART}(\\.${PART})?$`);
const COLUMN = new RegExp(`^${PART}(\\.${PART}){1,2}$`);

/** `users` → `public.users`, the form the catalog queries compare with. */
export function qualifyTable(name: string): string {
  return name.includes('.') ? name : `public.${name}`;
}

function table(r: Reader, v: unknown, where: string): string {
  const s = r.string(v, where);
  if (s === undefined || !TABLE.test(s)) r.fail(where, 'must name a table as schema.table (unquoted)', 'e.g. "public.users"');
  return qualifyTable(s);
}

function tableColumn(r: Reader, v: unknown, where: string): TableColumn {
  const s = r.string(v, where);
  if (s === undefined || !COLUMN.test(s)) r.fail(where, 'must name a column as schema.table.column (unquoted)', 'e.g. "public.users.email"');
  const cut = s.lastIndexOf('.');
  return { table: qualifyTable(s.slice(0, cut)), column: s.slice(cut + 1) };
}

/** A row of sample values: column → value; numbers and booleans are written as PostgreSQL reads their text. */
function row(r: Reader, v: unknown, where: string): Record<string, string> {
  const o = r.map(v, where);
  const out: Record<string, string> = {};
  for (const [col, val] of Object.entries(o)) {
    if (typeof val === 'string' || typeof val === 'number' || typeof val === 'boolean') out[col] = String(val);
    else r.fail(`${where}.${col}`, 'must be a string, number or boolean', 'give the value as PostgreSQL would read it, e.g. "2024-01-01" or 42; leave the column out to take its default');
  }
  return out;
}

/** A policy's value: absent or false (off), true (on, defaults), or an object of its settings (on). */
function policy(r: Reader, v: unknown, where: string, keys: readonly string[]): Json | undefined {
  if (v === undefined || v === false) return undefined;
  if (v === true) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) r.fail(where, 'must be true, false or an object of its settings', 'see docs/configuration.md#policies');
  return r.object(v, where, keys);
}

function searchProbe(r: Reader, v: unknown, where: string): SearchProbe {
  const o = r.object(v, where, CHECKS_KEYS.searchProbe);
  if (o.table === undefined || o.key === undefined) r.fail(where, 'needs table and key', 'name the table the sample rows go into and the column that identifies a hit');
  const queries = (r.array(o.queries, `${where}.queries`) ?? []).map((q, i) => {
    const at = `${where}.queries[${i}]`;
    const qo = r.object(q, at, CHECKS_KEYS.searchQuery);
    for (const k of CHECKS_KEYS.searchQuery) if (qo[k] === undefined) r.fail(`${at}.${k}`, 'is required', 'give kind, column, term and expect');
    return { kind: r.oneOf(qo.kind, `${at}.kind`, SEARCH_QUERY_KINDS, 'full-text'), column: r.string(qo.column, `${at}.column`)!, term: r.string(qo.term, `${at}.term`)!, expect: r.string(qo.expect, `${at}.expect`)! };
  });
  return {
    table: table(r, o.table, `${where}.table`),
    key: r.string(o.key, `${where}.key`)!,
    rows: (r.array(o.rows, `${where}.rows`) ?? []).map((x, i) => row(r, x, `${where}.rows[${i}]`)),
    queries,
  };
}

/**
 * Pure: the `checks` section as the rules take it. `pool` is the budget already decided (the
 * file's `pool` under DB_POOL_MAX / DB_APP_INSTANCES); absent policies are off.
 */
export function parseChecksSection(r: Reader, raw: unknown, ctx: { file: string | undefined; pool: PoolBudget }): Expectations {
  const c = r.object(raw, 'checks', CHECKS_KEYS.checks);
  const p = r.object(c.policies, 'checks.policies', CHECKS_KEYS.policies);
  const at = (name: PolicyName) => `checks.policies.${policyKey(name)}`;
  const uuid = policy(r, p[policyKey('uuidv7-keys')], at('uuidv7-keys'), CHECKS_KEYS.uuidv7Keys);
  const updated = policy(r, p[policyKey('updated-at')], at('updated-at'), CHECKS_KEYS.updatedAt);
  const email = policy(r, p[policyKey('email-case-insensitive')], at('email-case-insensitive'), CHECKS_KEYS.emailCaseInsensitive);
  const search = policy(r, p.search, at('search'), CHECKS_KEYS.search);
  const roles = policy(r, p.roles, at('roles'), CHECKS_KEYS.roles);
  const ledger = policy(r, p.ledger, at('ledger'), CHECKS_KEYS.ledger);
  const enabled: Record<PolicyName, boolean> = {
    'uuidv7-keys': uuid !== undefined,
    'updated-at': updated !== undefined,
    'email-case-insensitive': email !== undefined,
    search: search !== undefined,
    roles: roles !== undefined,
    ledger: ledger !== undefined,
  };

  let names: RoleNames | undefined;
  if (roles?.names !== undefined) {
    const n = r.object(roles.names, `${at('roles')}.names`, ROLE_KINDS);
    names = {} as RoleNames;
    for (const k of ROLE_KINDS) {
      const v = r.string(n[k], `${at('roles')}.names.${k}`);
      if (v === undefined) r.fail(`${at('roles')}.names.${k}`, 'is required when names are given', `name all five roles (${ROLE_KINDS.join(', ')}), or leave names out to derive them from the database name`);
      names[k] = v;
    }
  }

  const fullText = Object.entries(r.map(search?.fullText, `${at('search')}.fullText`)).map(([col, cfg]) => ({
    ...tableColumn(r, col, `${at('search')}.fullText key "${col}"`),
    config: r.string(cfg, `${at('search')}.fullText["${col}"]`) ?? 'simple',
  }));
  const squawk = r.object(c.squawk, 'checks.squawk', CHECKS_KEYS.squawk);
  const probeRows: Record<string, Record<string, string>> = {};
  for (const [t, v] of Object.entries(r.map(c.probeRows, 'checks.probeRows'))) probeRows[table(r, t, `checks.probeRows key "${t}"`)] = row(r, v, `checks.probeRows["${t}"]`);

  const ignoreTables = (r.strings(c.ignoreTables, 'checks.ignoreTables') ?? []).map((t, i) => table(r, t, `checks.ignoreTables[${i}]`));
  const schemas = r.strings(c.schemas, 'checks.schemas');
  if (schemas?.length === 0) r.fail('checks.schemas', 'is empty, so nothing would be checked', 'list the schemas to check, or leave the key out for every non-system schema');

  return {
    configFile: ctx.file,
    policies: POLICIES.filter((name) => enabled[name]),
    schemas,
    ignoreTables: ignoreTables.includes(SQLX_LEDGER) ? ignoreTables : [...ignoreTables, SQLX_LEDGER],
    uuidV7Functions: r.strings(uuid?.functions, `${at('uuidv7-keys')}.functions`) ?? DEFAULT_UUID_FUNCTIONS,
    requireUuidKeys: uuid !== undefined && r.bool(uuid.requireUuid, `${at('uuidv7-keys')}.requireUuid`, true),
    updatedAt: {
      column: r.string(updated?.column, `${at('updated-at')}.column`, DEFAULT_UPDATED_AT.column),
      function: r.string(updated?.function, `${at('updated-at')}.function`, DEFAULT_UPDATED_AT.function),
    },
    emailColumns: (r.array(email?.columns, `${at('email-case-insensitive')}.columns`) ?? []).map((x, i) => tableColumn(r, x, `${at('email-case-insensitive')}.columns[${i}]`)),
    search: {
      fullText,
      trigram: (r.array(search?.trigram, `${at('search')}.trigram`) ?? []).map((x, i) => tableColumn(r, x, `${at('search')}.trigram[${i}]`)),
      probes: (r.array(search?.probes, `${at('search')}.probes`) ?? []).map((x, i) => searchProbe(r, x, `${at('search')}.probes[${i}]`)),
    },
    probeRows,
    roles: names,
    pool: ctx.pool,
    squawk: {
      rules: r.strings(squawk.rules, 'checks.squawk.rules') ?? SQUAWK_RULES,
      pgVersion: r.string(squawk.pgVersion, 'checks.squawk.pgVersion', DEFAULT_SQUAWK_PG_VERSION),
    },
    ignore: (r.array(c.ignore, 'checks.ignore') ?? []).map((x, i) => {
      const o = r.object(x, `checks.ignore[${i}]`, CHECKS_KEYS.ignore);
      for (const k of CHECKS_KEYS.ignore) if (o[k] === undefined) r.fail(`checks.ignore[${i}].${k}`, 'is required', 'give check, object (as the report names it) and reason');
      return { check: r.string(o.check, `checks.ignore[${i}].check`)!, object: r.string(o.object, `checks.ignore[${i}].object`)!, reason: r.string(o.reason, `checks.ignore[${i}].reason`)! };
    }),
  };
}

/** Where in the file a table's probe row lives, as the messages that ask to fix it name it. */
export function probeRowKey(table: string): string {
  return `checks.probeRows["${table}"]`;
}
