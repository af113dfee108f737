import type { Check } from '../types.ts';
import { relationInScope } from '../lib/catalog.ts';
import { findRedundantIndexes, verdictFix, verdictMessage, type IndexInfo } from '../lib/redundant-indexes.ts';

/** Every index of every table in scope, described column by column; the comparison happens in findRedundantIndexes. */
export const INDEX_QUERY = `
SELECT i.indexrelid::oid::text AS oid,
       format('%I.%I', n.nspname, c.relname) AS table,
       format('%I.%I', n.nspname, ic.relname) AS name,
       am.amname AS am,
       array(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts) k) AS keys,
       array(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(i.indnkeyatts + 1, i.indnatts) k) AS include,
       (string_to_array(i.indclass::text, ' '))[1:i.indnkeyatts] AS classes,
       (string_to_array(i.indcollation::text, ' '))[1:i.indnkeyatts] AS collations,
       (string_to_array(i.indoption::text, ' '))[1:i.indnkeyatts] AS options,
       pg_get_expr(i.indpred, i.indrelid, true) AS predicate,
       i.indisunique AS unique, i.indisprimary AS primary, i.indisexclusion AS exclusion,
       coalesce((to_jsonb(i) ->> 'indnullsnotdistinct')::boolean, false) AS nulls_not_distinct,
       (SELECT quote_ident(k.conname) FROM pg_constraint k
         WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x')) AS constraint,
       i.indisvalid AS valid
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_am am ON am.oid = ic.relam
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm') AND NOT c.relispartition AND ${relationInScope('$1', '$2')}
ORDER BY 2, 3`;

type Row = Omit<IndexInfo, 'oid' | 'nullsNotDistinct'> & { oid: string; nulls_not_distinct: boolean };

export const duplicateIndexes: Check = {
  id: 'duplicate-indexes',
  title: 'No duplicate or redundant indexes',
  rationale: 'An index that another index already provides costs every write and the buffer cache, and buys nothing.',
  severity: 'warning',
  async run(ctx) {
    const ex = ctx.expectations;
    const rows = await ctx.sql.unsafe<Row[]>(INDEX_QUERY, [ex.schemas ?? null, ex.ignoreTables] as never[]);
    const indexes: IndexInfo[] = rows.map((r) => ({ ...r, oid: Number(r.oid), nullsNotDistinct: r.nulls_not_distinct }));
    const verdicts = findRedundantIndexes(indexes);
    const dropped = new Set(verdicts.map((v) => v.drop.name));
    return {
      passed: indexes.filter((i) => i.valid && !dropped.has(i.name)).map((i) => `${i.name} on ${i.table}`),
      findings: verdicts.map((v) => ({ object: v.drop.name, message: verdictMessage(v), fix: verdictFix(v) })),
    };
  },
};
