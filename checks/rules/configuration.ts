import { CONFIG_FILE_NAME } from '../../core/config/ops-config.ts';
import { SQLX_LEDGER, probeRowKey } from '../../core/config/checks-config.ts';
import type { Check, CheckContext, CheckOutcome, Finding, Severity } from '../types.ts';
import { splitTable, type Expectations } from '../expectations.ts';
import { counted, passingLines } from '../lib/passing.ts';

/**
 * A configuration that names a table or column the database does not have is the
 * configuration's mistake, not the schema's: this check says so, once, with the key to fix,
 * and the checks that read those names (email-unique, search, the probes) leave it to it.
 */

/** One name the configuration gives: what it is configured as, and where in the file. */
export interface ConfiguredName {
  /** `schema` for a schema, else `schema.table`. */
  schema: string;
  table: string | undefined;
  column: string | undefined;
  /** `trigram-searchable`, `an e-mail column`, `a probe row's column`, … */
  as: string;
  /** The key path in the file, e.g. `checks.policies.search.trigram`. */
  key: string;
  /** A name nothing depends on (a table to ignore) is a warning when missing; every other is an error. */
  severity: Severity;
}

/** Pure: every table, column and schema the configuration names, for the policies it enables. */
export function configuredNames(ex: Expectations): ConfiguredName[] {
  const out: ConfiguredName[] = [];
  const on = new Set(ex.policies);
  const add = (table: string, column: string | undefined, as: string, key: string, severity: Severity = 'error') => {
    const { schema, table: t } = splitTable(table);
    out.push({ schema, table: t, column, as, key, severity });
  };
  for (const s of ex.schemas ?? []) out.push({ schema: s, table: undefined, column: undefined, as: 'a schema to check', key: 'checks.schemas', severity: 'error' });
  // sqlx's ledger is left out by default on every database, whether or not it has one yet.
  for (const t of ex.ignoreTables.filter((x) => x !== SQLX_LEDGER)) add(t, undefined, 'a table to ignore', 'checks.ignoreTables', 'warning');
  if (on.has('email-case-insensitive')) for (const e of ex.emailColumns) add(e.table, e.column, 'an e-mail column', 'checks.policies.emailCaseInsensitive.columns');
  if (on.has('search')) {
    for (const f of ex.search.fullText) add(f.table, f.column, 'full-text-searchable', 'checks.policies.search.fullText');
    for (const f of ex.search.trigram) add(f.table, f.column, 'trigram-searchable', 'checks.policies.search.trigram');
    ex.search.probes.forEach((p, i) => {
      const key = `checks.policies.search.probes[${i}]`;
      add(p.table, p.key, "a search probe's key", `${key}.key`);
      for (const c of new Set(p.queries.map((q) => q.column))) add(p.table, c, "a search probe's query column", `${key}.queries`);
      for (const c of new Set(p.rows.flatMap((r) => Object.keys(r)))) add(p.table, c, "a search probe's sample column", `${key}.rows`);
    });
  }
  for (const [table, row] of Object.entries(ex.probeRows)) {
    add(table, undefined, 'a table with a probe row', probeRowKey(table));
    for (const c of Object.keys(row)) add(table, c, "a probe row's column", probeRowKey(table));
  }
  return out;
}

export interface NameRow {
  i: number;
  schema_exists: boolean;
  table_exists: boolean;
  column_exists: boolean;
}

/** One row per name, in order: does its schema, its table, its column exist. */
const QUERY = `
SELECT w.i::int AS i,
       n.oid IS NOT NULL AS schema_exists,
       c.oid IS NOT NULL AS table_exists,
       a.attnum IS NOT NULL AS column_exists
FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS w(schema, tbl, col, i)
LEFT JOIN pg_namespace n ON n.nspname = w.schema
LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.tbl AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = w.col AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY w.i`;

const label = (n: ConfiguredName) => [n.schema, n.table, n.column].filter(Boolean).join('.');

/** Pure: a finding per name the database lacks, one passing line (or one per name, listing) for the rest. */
export function judgeConfiguration(names: readonly ConfiguredName[], rows: readonly NameRow[], ex: Pick<Expectations, 'configFile'>, verbose: boolean): CheckOutcome {
  const file = ex.configFile ?? CONFIG_FILE_NAME;
  const findings: Finding[] = [];
  const listed: string[] = [];
  let present = 0;
  // A missing table is said once per key, not again for each of its configured columns.
  const saidMissing = new Set<string>();
  for (const row of rows) {
    const n = names[row.i - 1]!;
    const missing = !row.schema_exists ? 'schema' : n.table !== undefined && !row.table_exists ? 'table' : n.column !== undefined && !row.column_exists ? 'column' : undefined;
    const where = `${n.schema}.${n.table ?? ''}|${n.key}`;
    if (missing !== undefined && missing !== 'column' && saidMissing.has(where)) continue;
    if (missing !== undefined && missing !== 'column') saidMissing.add(where);
    if (!missing) {
      present++;
      listed.push(`${label(n)}: exists, configured as ${n.as} (${n.key})`);
      continue;
    }
    findings.push({
      object: label(n),
      message: `\`${label(n)}\` is configured as ${n.as} but has no such ${missing}; fix the config or the schema`,
      fix: `correct ${n.key} in ${file}, or create the ${missing} in a migration`,
      severity: n.severity,
    });
  }
  if (names.length === 0) return { passed: ['the configuration names no table or column'], passedCount: 1, findings };
  return { ...passingLines(verbose, listed, [{ count: present, line: (k) => `${counted(k, 'configured name')} exist${k === 1 ? 's' : ''} in the database` }]), findings };
}

export async function readConfiguredNames(ctx: CheckContext, names: readonly ConfiguredName[]): Promise<NameRow[]> {
  return ctx.sql.unsafe<NameRow[]>(QUERY, [names.map((n) => n.schema), names.map((n) => n.table ?? null), names.map((n) => n.column ?? null)] as never[]);
}

export const configuration: Check = {
  id: 'configuration',
  title: 'The configuration names what the database has',
  rationale: 'A check told about a table or column that does not exist would report a broken schema that is only a stale or mistyped configuration.',
  severity: 'error',
  async run(ctx) {
    const names = configuredNames(ctx.expectations);
    if (names.length === 0) return judgeConfiguration(names, [], ctx.expectations, ctx.verbose);
    return judgeConfiguration(names, await readConfiguredNames(ctx, names), ctx.expectations, ctx.verbose);
  },
};
