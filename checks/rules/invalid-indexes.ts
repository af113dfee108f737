import type { Check } from '../types.ts';
import { relationInScope } from '../lib/catalog.ts';

interface Row {
  table: string;
  name: string;
  definition: string;
}

const QUERY = `
SELECT format('%I.%I', n.nspname, c.relname) AS table, format('%I.%I', n.nspname, ic.relname) AS name,
       pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT i.indisvalid AND ${relationInScope('$1', '$2')}
ORDER BY 2`;

export const invalidIndexes: Check = {
  id: 'invalid-indexes',
  title: 'No invalid indexes',
  rationale: 'A failed CREATE INDEX CONCURRENTLY leaves an index that slows every write but is never used, and a unique one enforces nothing.',
  severity: 'error',
  async run(ctx) {
    const ex = ctx.expectations;
    const rows = await ctx.sql.unsafe<Row[]>(QUERY, [ex.schemas ?? null, ex.ignoreTables] as never[]);
    return {
      passed: rows.length === 0 ? ['every index is valid'] : [],
      findings: rows.map((r) => ({
        object: r.name,
        message: `index ${r.name} on ${r.table} is invalid (a CREATE INDEX CONCURRENTLY or REINDEX failed part way): ${r.definition}`,
        fix: `REINDEX INDEX CONCURRENTLY ${r.name};`,
      })),
    };
  },
};
