import type { Check, CheckContext, CheckOutcome } from '../types.ts';
import { relationInScope } from '../lib/catalog.ts';

export interface InvalidIndexRow {
  table: string;
  name: string;
  definition: string;
  unique: boolean;
}

/** Only the invalid ones come back: a healthy schema returns no row at all. */
const QUERY = `
SELECT format('%I.%I', n.nspname, c.relname) AS table, format('%I.%I', n.nspname, ic.relname) AS name,
       pg_get_indexdef(i.indexrelid) AS definition, i.indisunique AS unique
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT i.indisvalid AND ${relationInScope('$1', '$2')}
ORDER BY 2`;

/** Pure: one finding per invalid index. */
export function judgeInvalidIndexes(rows: readonly InvalidIndexRow[]): CheckOutcome {
  return {
    passed: rows.length === 0 ? ['every index is valid'] : [],
    findings: rows.map((r) => ({
      object: r.name,
      message: `index ${r.name} on ${r.table} is invalid (a CREATE INDEX CONCURRENTLY or REINDEX failed part way): ${r.definition}${
        r.unique ? '; if the build failed on duplicate values, remove them first or the rebuild fails the same way' : ''
      }`,
      fix: `REINDEX INDEX CONCURRENTLY ${r.name};`,
      // A unique index over duplicates cannot be rebuilt until a person decides which rows go.
      fixable: !r.unique,
    })),
  };
}

export async function readInvalidIndexes(ctx: CheckContext): Promise<InvalidIndexRow[]> {
  const ex = ctx.expectations;
  return ctx.sql.unsafe<InvalidIndexRow[]>(QUERY, [ex.schemas ?? null, ex.ignoreTables] as never[]);
}

export const invalidIndexes: Check = {
  id: 'invalid-indexes',
  title: 'No invalid indexes',
  rationale: 'A failed CREATE INDEX CONCURRENTLY leaves an index that slows every write but is never used, and a unique one enforces nothing.',
  severity: 'error',
  async run(ctx) {
    return judgeInvalidIndexes(await readInvalidIndexes(ctx));
  },
};
