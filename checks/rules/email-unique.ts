import type { Check, CheckContext, CheckOutcome, Finding, ProbeSql } from '../types.ts';
import { splitTable, type Expectations } from '../expectations.ts';
import { derivedIdent, derivedName } from '../lib/identifiers.ts';
import { mergeOutcomes } from '../lib/passing.ts';
import { attempt, insertProbeRow, probeRowFix, probeRowOf, skippedProbeLines, UNIQUE_VIOLATION, type Attempt } from '../lib/probe.ts';
import { escapeRegExp } from '../lib/regexp.ts';

/** With a lower-case CHECK, the other-case address is refused before it reaches the index. */
const CHECK_VIOLATION = '23514';

export interface UniqueIndex {
  name: string;
  relname: string;
  key: string;
  partial: boolean;
  nondeterministic: boolean;
}

export interface EmailRow {
  key: string;
  raw_table: string;
  raw_column: string;
  tbl: string;
  table_exists: boolean;
  column: string | null;
  type: string | null;
  unique_indexes: UniqueIndex[] | null;
  checks: string[] | null;
}

/** One row per configured column, in configuration order, whether or not it exists. */
const QUERY = `
SELECT w.schema || '.' || w.tbl AS key, w.tbl AS raw_table, w.col AS raw_column,
       format('%I.%I', w.schema, w.tbl) AS tbl,
       c.oid IS NOT NULL AS table_exists,
       quote_ident(a.attname) AS column,
       format_type(a.atttypid, a.atttypmod) AS type,
       (SELECT jsonb_agg(jsonb_build_object(
                 'name', format('%I.%I', w.schema, ic.relname),
                 'relname', ic.relname,
                 'key', pg_get_indexdef(i.indexrelid, 1, true),
                 'partial', i.indpred IS NOT NULL,
                 'nondeterministic', coalesce((SELECT NOT co.collisdeterministic FROM pg_collation co
                                               WHERE co.oid = (string_to_array(i.indcollation::text, ' '))[1]::oid), false))
               ORDER BY ic.relname)
          FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
         WHERE i.indrelid = c.oid AND i.indisunique AND i.indisvalid AND i.indnkeyatts = 1) AS unique_indexes,
       (SELECT jsonb_agg(pg_get_constraintdef(k.oid)) FROM pg_constraint k
         WHERE k.conrelid = c.oid AND k.contype = 'c' AND a.attnum = ANY (k.conkey)) AS checks
FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS w(schema, tbl, col, ord)
LEFT JOIN pg_namespace n ON n.nspname = w.schema
LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.tbl AND c.relkind IN ('r', 'p')
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = w.col AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY w.ord`;

/**
 * How a unique index makes a column unique regardless of case, or undefined if it does not:
 * a unique lower()/upper() expression, a case-insensitive column type or collation, or a plain
 * unique index on a column a CHECK constraint keeps in lower case.
 */
export function caseInsensitiveBy(ix: UniqueIndex, column: string, type: string, checks: readonly string[]): string | undefined {
  if (ix.partial) return undefined;
  const col = `"?${escapeRegExp(column.replace(/^"|"$/g, ''))}"?`;
  if (new RegExp(`^(lower|upper)\\(\\(?${col}\\)?(::text)?\\)$`, 'i').test(ix.key)) return `unique ${ix.key.split('(')[0]!.toLowerCase()}() index ${ix.name}`;
  if (!new RegExp(`^${col}$`).test(ix.key)) return undefined;
  if (type === 'citext') return `unique index ${ix.name} on a citext column`;
  if (ix.nondeterministic) return `unique index ${ix.name} with a nondeterministic collation`;
  const lowered = checks.find((c) => new RegExp(`\\(\\(?${col}\\)?(::text)? = lower\\(\\(?${col}\\)?(::text)?\\)\\)`, 'i').test(c));
  if (lowered) return `unique index ${ix.name} and ${lowered}`;
  return undefined;
}

function swapCase(s: string): string {
  return [...s].map((ch) => (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase())).join('');
}

const lowerIndex = (r: EmailRow) =>
  `CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ${derivedIdent(derivedName(r.raw_table, [r.raw_column, 'lower'], 'key'))} ON ${r.tbl} (lower(${r.column}));`;

/** How an existing column is made unique regardless of case; undefined when it is not. */
function guardOf(r: EmailRow): { ix: UniqueIndex; by: string } | undefined {
  if (!r.table_exists || !r.column) return undefined;
  return (r.unique_indexes ?? []).map((ix) => ({ ix, by: caseInsensitiveBy(ix, r.column!, r.type ?? '', r.checks ?? []) })).find((h) => h.by) as
    | { ix: UniqueIndex; by: string }
    | undefined;
}

/** Existing columns that are not unique regardless of case: their values are counted for clashes before a fix is offered. */
export function unguardedColumns(rows: readonly EmailRow[]): EmailRow[] {
  return rows.filter((r) => r.table_exists && r.column && !guardOf(r));
}

/** A guarded column and what the probe needs to test it. */
export interface EmailGuard {
  row: EmailRow;
  index: UniqueIndex;
  viaCheck: boolean;
  /** The configured probe row; without one the column is judged by the catalog alone. */
  sample: Record<string, string> | undefined;
}

/**
 * Pure: the configured columns as the catalog describes them, in configuration order. A
 * fix is mechanical only when no two values already clash (`clashes`, by column key).
 */
export function judgeEmailColumns(rows: readonly EmailRow[], clashes: ReadonlyMap<string, number>, probeRows: Expectations['probeRows']): CheckOutcome & { guarded: EmailGuard[] } {
  const passed: string[] = [];
  const findings: Finding[] = [];
  const guarded: EmailGuard[] = [];
  for (const r of rows) {
    // A configured column the database lacks is the configuration check's finding, not a schema defect.
    if (!r.table_exists || !r.column) continue;
    const hit = guardOf(r);
    if (hit) {
      passed.push(`${r.tbl}.${r.column}: ${hit.by}`);
      guarded.push({ row: r, index: hit.ix, viaCheck: hit.by.includes('CHECK'), sample: probeRowOf({ probeRows }, r.key)?.[r.raw_column] ? probeRows[r.key] : undefined });
      continue;
    }
    const n = clashes.get(r.key + '.' + r.raw_column) ?? 0;
    const indexes = r.unique_indexes ?? [];
    const found = `(${indexes.length ? `unique indexes: ${indexes.map((x) => x.key).join(', ')}` : 'no unique index'})`;
    const clashNote =
      n > 0 ? `${n} address${n === 1 ? '' : 'es'} already clash regardless of case, so the index cannot be built until those accounts are merged; see them` : 'first find clashes';
    findings.push({
      object: `${r.tbl}.${r.column}`,
      message: `${r.tbl}.${r.column} is not unique regardless of case ${found}; ${clashNote} with SELECT lower(${r.column}), count(*) FROM ${r.tbl} GROUP BY 1 HAVING count(*) > 1`,
      fix: lowerIndex(r),
      ...(n === 0 ? { fixable: true } : {}),
    });
  }
  return { passed, findings, guarded };
}

/** How many lower-cased values occur more than once, per unguarded column, in one statement (a scan of each such table). */
export async function countClashes(ctx: CheckContext, unguarded: readonly EmailRow[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (unguarded.length === 0) return out;
  // Names come quoted from the catalog (format('%I.%I'), quote_ident).
  const parts = unguarded.map((r, i) => `SELECT ${i} AS i, (SELECT count(*)::int FROM (SELECT 1 FROM ${r.tbl} GROUP BY lower(${r.column}::text) HAVING count(*) > 1) d) AS n`);
  const rows = await ctx.sql.unsafe<{ i: number; n: number }[]>(parts.join('\nUNION ALL\n'));
  for (const r of rows) out.set(unguarded[r.i]!.key + '.' + unguarded[r.i]!.raw_column, r.n);
  return out;
}

export type EmailProbeResults = Array<{
  guard: EmailGuard;
  variant: Record<string, string>;
  got: Attempt<Attempt<unknown>>;
}>;

/** Behaviour: the same address in other letter case must be refused by that very index. */
export async function probeEmail(tx: ProbeSql, guarded: readonly EmailGuard[]): Promise<EmailProbeResults> {
  const results: EmailProbeResults = [];
  for (const guard of guarded) {
    const { row: r, sample } = guard;
    if (!sample) continue;
    const variant = Object.fromEntries(Object.entries(sample).map(([k, v]) => [k, k === r.raw_column ? swapCase(v) : `${v}2`]));
    const first = insertProbeRow(r.tbl, sample, '1 AS ok');
    const second = insertProbeRow(r.tbl, variant, '1 AS ok');
    const got = await attempt(tx, async (sp) => {
      await sp.unsafe(first.text, first.params);
      return attempt(sp, (sp2) => sp2.unsafe(second.text, second.params));
    });
    results.push({ guard, variant, got });
  }
  return results;
}

/** Pure: what the probe proved. */
export function judgeEmailProbes(results: EmailProbeResults, ex: Pick<Expectations, 'configFile'>): CheckOutcome {
  const passed: string[] = [];
  const findings: Finding[] = [];
  for (const { guard, variant, got } of results) {
    const { row: r, index, viaCheck, sample } = guard;
    const clash = got.ok ? got.value : undefined;
    if (!got.ok) {
      findings.push({ object: r.tbl, message: `probe insert into ${r.tbl} failed: ${got.message}`, fix: probeRowFix(ex, r.key), severity: 'warning' });
    } else if (clash && !clash.ok && ((clash.code === UNIQUE_VIOLATION && clash.constraint === index.relname) || (viaCheck && clash.code === CHECK_VIOLATION))) {
      passed.push(`${r.tbl}.${r.column}: ${variant[r.raw_column]} was refused after ${sample![r.raw_column]} (${viaCheck ? 'CHECK and ' : ''}${index.name})`);
    } else if (clash && clash.ok) {
      findings.push({ object: `${r.tbl}.${r.column}`, message: `a probe inserted both ${sample![r.raw_column]} and ${variant[r.raw_column]} into ${r.tbl}`, fix: lowerIndex(r) });
    } else {
      findings.push({
        object: r.tbl,
        message: `probe was inconclusive: the second insert into ${r.tbl} failed for another reason: ${clash && !clash.ok ? clash.message : 'unknown'}`,
        fix: probeRowFix(ex, r.key, ' so that its other columns are unique'),
        severity: 'warning',
      });
    }
  }
  return { passed, findings };
}

export async function readEmailColumns(ctx: CheckContext): Promise<EmailRow[]> {
  const want = ctx.expectations.emailColumns.map((e) => ({ ...splitTable(e.table), column: e.column }));
  return ctx.sql.unsafe<EmailRow[]>(QUERY, [want.map((w) => w.schema), want.map((w) => w.table), want.map((w) => w.column)] as never[]);
}

export const emailUnique: Check = {
  id: 'email-unique',
  title: 'E-mail addresses are unique regardless of case',
  rationale: 'Alice@Example.com and alice@example.com are one mailbox; two accounts for it break login, password reset and GDPR requests.',
  severity: 'error',
  policy: 'email-case-insensitive',
  async run(ctx) {
    if (ctx.expectations.emailColumns.length === 0) return { passed: ['no e-mail columns configured'], findings: [] };
    const rows = await readEmailColumns(ctx);
    const catalog = judgeEmailColumns(rows, await countClashes(ctx, unguardedColumns(rows)), ctx.expectations.probeRows);
    const { guarded } = catalog;
    const skipped = skippedProbeLines(ctx.verbose, guarded.filter((g) => !g.sample).map((g) => g.row.key), 'case');
    if (!guarded.some((g) => g.sample)) return mergeOutcomes(catalog, skipped);
    return mergeOutcomes(catalog, skipped, judgeEmailProbes(await ctx.probe((tx) => probeEmail(tx, guarded)), ctx.expectations));
  },
};
