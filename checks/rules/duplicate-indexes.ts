import type { Check, CheckContext, CheckOutcome } from '../types.ts';
import { relationInScope } from '../lib/catalog.ts';
import { counted, passingLines } from '../lib/passing.ts';
import { findRedundantIndexes, verdictFix, verdictMessage, type IndexInfo } from '../lib/redundant-indexes.ts';

/**
 * Every index of every table in scope is counted; only the candidates are described column by
 * column (or all of them, $3, when listing). A candidate shares its table and first key column
 * with another valid index: two indexes that differ there can be neither duplicates nor a
 * prefix of one another, so the exact comparison (findRedundantIndexes) needs only these. On
 * a schema whose indexes are all distinct, no index is described at all.
 */
export const INDEX_QUERY = `
WITH ix AS MATERIALIZED (
  SELECT i.indexrelid, i.indrelid, i.indkey[0] AS first_key, i.indisvalid AND NOT i.indisexclusion AS comparable, i.indisvalid
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'm') AND NOT c.relispartition AND ${relationInScope('$1', '$2')}
),
shared AS (
  SELECT indrelid, first_key FROM ix WHERE comparable GROUP BY 1, 2 HAVING count(*) > 1
),
candidates AS (
  SELECT i.*, ic.relname AS index_name, ic.relam, n.nspname, c.relname AS table_name
  FROM ix
  JOIN pg_index i ON i.indexrelid = ix.indexrelid
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_class c ON c.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE $3 OR (ix.comparable AND (ix.indrelid, ix.first_key) IN (SELECT indrelid, first_key FROM shared))
)
SELECT (SELECT count(*)::int FROM ix WHERE ix.indisvalid) AS valid,
       coalesce((SELECT jsonb_agg(jsonb_build_object(
         'oid', i.indexrelid::oid::bigint,
         'table', format('%I.%I', i.nspname, i.table_name),
         'name', format('%I.%I', i.nspname, i.index_name),
         'am', (SELECT amname FROM pg_am WHERE oid = i.relam),
         'keys', array(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts) k),
         'include', array(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(i.indnkeyatts + 1, i.indnatts) k),
         'classes', (string_to_array(i.indclass::text, ' '))[1:i.indnkeyatts],
         'collations', (string_to_array(i.indcollation::text, ' '))[1:i.indnkeyatts],
         'options', (string_to_array(i.indoption::text, ' '))[1:i.indnkeyatts],
         'predicate', pg_get_expr(i.indpred, i.indrelid, true),
         'unique', i.indisunique, 'primary', i.indisprimary, 'exclusion', i.indisexclusion,
         'nullsNotDistinct', coalesce((to_jsonb(i) ->> 'indnullsnotdistinct')::boolean, false),
         'constraint', (SELECT quote_ident(k.conname) FROM pg_constraint k
                         WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x')),
         'valid', i.indisvalid)
         ORDER BY format('%I.%I', i.nspname, i.table_name), format('%I.%I', i.nspname, i.index_name))
       FROM candidates i), '[]'::jsonb) AS indexes`;

export interface IndexFacts {
  /** Valid indexes in scope. */
  valid: number;
  /** The candidates (every index when listing). */
  indexes: IndexInfo[];
}

/** Pure: the verdicts on the candidates, and every other valid index counted as passing. */
export function judgeIndexes(facts: IndexFacts, verbose: boolean): CheckOutcome {
  const verdicts = findRedundantIndexes(facts.indexes);
  const dropped = new Set(verdicts.map((v) => v.drop.name));
  const listed = facts.indexes.filter((i) => i.valid && !dropped.has(i.name)).map((i) => `${i.name} on ${i.table}`);
  const groups = [{ count: facts.valid - dropped.size, line: (n: number) => `${counted(n, 'index', 'indexes')}: none duplicates another or leads a wider one` }];
  return {
    ...passingLines(verbose, listed, groups),
    // Dropping a plain index loses no data, and CONCURRENTLY blocks no writes. A constraint is
    // another matter: foreign keys and the application's error handling may depend on it.
    findings: verdicts.map((v) => ({ object: v.drop.name, message: verdictMessage(v), fix: verdictFix(v), fixable: !v.drop.constraint })),
  };
}

export async function readIndexes(ctx: CheckContext): Promise<IndexFacts> {
  const ex = ctx.expectations;
  const [facts] = await ctx.sql.unsafe<IndexFacts[]>(INDEX_QUERY, [ex.schemas ?? null, ex.ignoreTables, ctx.verbose] as never[]);
  return { valid: facts!.valid, indexes: facts!.indexes.map((i) => ({ ...i, oid: Number(i.oid) })) };
}

export const duplicateIndexes: Check = {
  id: 'duplicate-indexes',
  title: 'No duplicate or redundant indexes',
  rationale: 'An index that another index already provides costs every write and the buffer cache, and buys nothing.',
  severity: 'warning',
  async run(ctx) {
    return judgeIndexes(await readIndexes(ctx), ctx.verbose);
  },
};
