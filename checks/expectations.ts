import { parsePoolBudget, type PoolBudget } from '../core/config/target-settings.ts';
import type { RoleNames } from '../core/config/role-names.ts';
import type { Ignore } from './lib/ignores.ts';
import { POLICIES, type PolicyName } from './types.ts';

/**
 * What is specific to this project. Every check finds its subjects in the catalog; this file
 * only says which of them carry project promises (searchable columns, e-mail uniqueness, the
 * pool budget) and which sample rows the rolled-back probes may insert. Tables are written
 * schema-qualified and unquoted, as `format('%I.%I')` prints them: `public.users`.
 */

export interface TableColumn {
  table: string;
  column: string;
}

export interface FullTextColumn extends TableColumn {
  /** Text search configuration queries use, e.g. `english`. */
  config: string;
}

export interface SearchQuery {
  /** full-text: `column @@ websearch_to_tsquery(config, term)`; ilike: `column ILIKE '%term%'`; similarity: `term <% column`. */
  kind: 'full-text' | 'ilike' | 'similarity';
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
  /** The policies to evaluate (see POLICIES in types.ts); this project enables all of them. */
  policies: PolicyName[];
  /** Schemas to check; undefined means every schema that is not a system schema. */
  schemas: string[] | undefined;
  /** Tables no table-level check looks at: sqlx's ledger has a bigint key by sqlx's design, not ours. */
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
   * real rows. Columns not named take their defaults.
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

/**
 * squawk rules we enforce on pending migrations. Each one guards a live database: a long
 * lock, a table rewrite, a statement that fails on a non-empty table, or a rename that breaks
 * the running application. Drops and truncates are left to the data-preservation check,
 * which honours `-- destructive: <reason>`. The timeout rules stay off: the migration runner
 * owns its session settings, not each file.
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

const PHRASES = [
  'The quick brown fox jumps over the lazy dog',
  'Sphinx of black quartz, judge my vow',
];

/** This project's expectations; the pool budget comes from DB_POOL_MAX / DB_APP_INSTANCES. */
export function projectExpectations(env: NodeJS.ProcessEnv = process.env): Expectations {
  return {
    policies: [...POLICIES],
    schemas: undefined,
    ignoreTables: ['public._sqlx_migrations'],
    uuidV7Functions: ['uuid_generate_v7', 'uuidv7'],
    requireUuidKeys: true,
    updatedAt: { column: 'updated_at', function: 'set_updated_at' },
    emailColumns: [{ table: 'public.users', column: 'email' }],
    search: {
      fullText: [{ table: 'public.phrases', column: 'search', config: 'english' }],
      trigram: [{ table: 'public.phrases', column: 'text' }],
      probes: [
        {
          table: 'public.phrases',
          rows: PHRASES.map((text) => ({ text })),
          key: 'text',
          queries: [
            { kind: 'full-text', column: 'search', term: 'jumping foxes', expect: PHRASES[0]! },
            { kind: 'ilike', column: 'text', term: 'BLACK QUAR', expect: PHRASES[1]! },
            // Misspelled on purpose: the trigram fallback must still find it.
            { kind: 'similarity', column: 'text', term: 'quartz judje', expect: PHRASES[1]! },
          ],
        },
      ],
    },
    probeRows: {
      'public.users': { email: 'pgsteward-probe@example.test', slug: 'pgsteward-probe' },
      'public.roles': { name: 'pgsteward-probe' },
      'public.phrases': { text: 'pgsteward probe phrase' },
    },
    roles: undefined,
    pool: parsePoolBudget(env),
    squawk: { rules: SQUAWK_RULES, pgVersion: '17.0' },
    ignore: [],
  };
}

/** The project's expectations with whole sections replaced (tests, and other databases). */
export function resolveExpectations(overrides: Partial<Expectations> = {}, env: NodeJS.ProcessEnv = process.env): Expectations {
  return { ...projectExpectations(env), ...overrides };
}

/** Splits `schema.table` as written in this file. */
export function splitTable(name: string): { schema: string; table: string } {
  const dot = name.indexOf('.');
  return dot < 0 ? { schema: 'public', table: name } : { schema: name.slice(0, dot), table: name.slice(dot + 1) };
}
