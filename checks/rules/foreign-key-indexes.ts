import type { Check, Finding } from '../types.ts';
import { indexKey, keyColumns, qualifiedName, relationInScope } from '../lib/catalog.ts';
import { derivedIdent, derivedName } from '../lib/names.ts';

interface Row {
  tbl: string;
  relname: string;
  conname: string;
  columns: string[];
  raw_columns: string[];
  referenced: string;
  covering: string | null;
}

/**
 * An index covers a foreign key when its leading key columns are the FK's columns in order,
 * it is valid and not partial, and its access method can look rows up by equality on them.
 */
const QUERY = `
SELECT ${qualifiedName()} AS tbl, c.relname, quote_ident(con.conname) AS conname,
       ${keyColumns('con.conrelid', 'con.conkey')} AS columns,
       array(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS raw_columns,
       format('%I.%I', rn.nspname, rc.relname) AS referenced,
       (SELECT quote_ident(ic.relname)
          FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
         WHERE i.indrelid = con.conrelid AND i.indisvalid AND i.indpred IS NULL
           AND i.indnkeyatts >= cardinality(con.conkey)
           AND (am.amname = 'btree' OR (am.amname = 'hash' AND cardinality(con.conkey) = 1))
           AND (${indexKey()})[1:cardinality(con.conkey)] = con.conkey
         ORDER BY i.indnatts, ic.relname LIMIT 1) AS covering
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class rc ON rc.oid = con.confrelid
JOIN pg_namespace rn ON rn.oid = rc.relnamespace
WHERE con.contype = 'f' AND con.conparentid = 0 AND ${relationInScope('$1', '$2')}
ORDER BY 1, 3`;

export const foreignKeyIndexes: Check = {
  id: 'foreign-key-indexes',
  title: 'Foreign keys are indexed',
  rationale: 'Without an index on the referencing columns every join is slow and every delete or key update on the parent scans the child table.',
  severity: 'error',
  async run(ctx) {
    const ex = ctx.expectations;
    const rows = await ctx.sql.unsafe<Row[]>(QUERY, [ex.schemas ?? null, ex.ignoreTables] as never[]);
    const passed: string[] = [];
    const findings: Finding[] = [];
    for (const r of rows) {
      const cols = r.columns.join(', ');
      if (r.covering) {
        passed.push(`${r.tbl}: ${r.conname} (${cols}) is covered by ${r.covering}`);
        continue;
      }
      const name = derivedIdent(derivedName(r.relname, r.raw_columns, 'idx'));
      findings.push({
        object: `${r.tbl}.${r.conname}`,
        message: `foreign key ${r.conname} on ${r.tbl} (${cols}) -> ${r.referenced} has no index whose leading columns are (${cols})`,
        // CONCURRENTLY keeps writes flowing on a live table; it needs a `-- no-transaction` migration.
        fix: `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${name} ON ${r.tbl} (${cols});`,
      });
    }
    return { passed, findings };
  },
};
