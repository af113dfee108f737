import type { Check, CheckContext, CheckOutcome, Finding } from '../types.ts';
import { keyColumns, relationInScope } from '../lib/catalog.ts';
import { coversForeignKey, impliedTests } from '../lib/foreign-key-cover.ts';
import { derivedIdent, derivedName } from '../lib/identifiers.ts';
import { counted, passingLines } from '../lib/passing.ts';

/** A foreign key, with the index that covers it (null: none does). */
export interface ForeignKeyRow {
  /** Quoted, schema-qualified table, as fix SQL spells it. */
  tbl: string;
  relname: string;
  conname: string;
  /** Quoted referencing columns, in key order. */
  columns: string[];
  raw_columns: string[];
  referenced: string;
  covering: string | null;
}

export interface ForeignKeyFacts {
  /** Foreign keys an index covers. */
  covered: number;
  /** Every uncovered foreign key; the covered ones too when listing. */
  rows: ForeignKeyRow[];
}

/**
 * Which foreign keys have a covering index (checks/lib/foreign-key-cover.ts). Decided here, in
 * SQL, so a covered key costs the client a count, not a row; and decided set-wise (one join of
 * keys to their tables' indexes), not by a lookup per key. $3: list covered keys too.
 */
export const QUERY = `
WITH fk AS MATERIALIZED (
  SELECT con.oid, con.conrelid, con.conkey, con.conname, con.confrelid, n.nspname, c.relname,
         ${impliedTests('con')} AS implied
  FROM pg_constraint con
  JOIN pg_class c ON c.oid = con.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE con.contype = 'f' AND con.conparentid = 0 AND c.relkind IN ('r', 'p') AND ${relationInScope('$1', '$2')}
),
usable AS MATERIALIZED (
  -- The access method from the first column's operator class: no need to read each index's pg_class row.
  SELECT i.indexrelid, i.indrelid, i.indkey::int2[] AS key, i.indnkeyatts, i.indnatts, i.indisvalid, opc.opcmethod, i.indpred IS NOT NULL AS partial
  FROM pg_index i JOIN pg_opclass opc ON opc.oid = i.indclass[0]
  WHERE i.indisvalid AND i.indrelid IN (SELECT conrelid FROM fk)
),
cover AS (
  SELECT DISTINCT ON (fk.oid) fk.oid, u.indexrelid
  FROM fk JOIN usable u ON u.indrelid = fk.conrelid
  WHERE ${coversForeignKey('u', 'fk')}
  ORDER BY fk.oid, u.partial, u.indnatts, u.indexrelid
)
SELECT count(*) FILTER (WHERE cv.indexrelid IS NOT NULL)::int AS covered,
       coalesce(jsonb_agg(jsonb_build_object(
         'tbl', format('%I.%I', fk.nspname, fk.relname),
         'relname', fk.relname,
         'conname', quote_ident(fk.conname),
         'columns', ${keyColumns('fk.conrelid', 'fk.conkey')},
         'raw_columns', array(SELECT a.attname::text FROM unnest(fk.conkey) WITH ORDINALITY k(attnum, ord)
                              JOIN pg_attribute a ON a.attrelid = fk.conrelid AND a.attnum = k.attnum ORDER BY k.ord),
         'referenced', (SELECT format('%I.%I', rn.nspname, rc.relname) FROM pg_class rc
                          JOIN pg_namespace rn ON rn.oid = rc.relnamespace WHERE rc.oid = fk.confrelid),
         'covering', (SELECT quote_ident(ic.relname) FROM pg_class ic WHERE ic.oid = cv.indexrelid))
         ORDER BY format('%I.%I', fk.nspname, fk.relname), quote_ident(fk.conname))
         FILTER (WHERE cv.indexrelid IS NULL OR $3), '[]'::jsonb) AS rows
FROM fk LEFT JOIN cover cv ON cv.oid = fk.oid`;

/** Pure: the findings and passed lines for the foreign keys the catalog returned. */
export function judgeForeignKeys(facts: ForeignKeyFacts, verbose: boolean): CheckOutcome {
  const listed: string[] = [];
  const findings: Finding[] = [];
  for (const r of facts.rows) {
    const cols = r.columns.join(', ');
    if (r.covering) {
      listed.push(`${r.tbl}: ${r.conname} (${cols}) is covered by ${r.covering}`);
      continue;
    }
    const name = derivedIdent(derivedName(r.relname, r.raw_columns, 'idx'));
    findings.push({
      object: `${r.tbl}.${r.conname}`,
      message: `foreign key ${r.conname} on ${r.tbl} (${cols}) -> ${r.referenced} has no index whose leading columns are (${cols}) (a partial one counts only WHERE ${r.columns.map((c) => `${c} IS NOT NULL`).join(' AND ')})`,
      // CONCURRENTLY keeps writes flowing on a live table; it needs a `-- no-transaction` migration.
      fix: `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${name} ON ${r.tbl} (${cols});`,
      fixable: true,
    });
  }
  const groups = [{ count: facts.covered, line: (n: number) => `${counted(n, 'foreign key')} covered by an index` }];
  return { ...passingLines(verbose, listed, groups), findings };
}

export async function readForeignKeys(ctx: CheckContext): Promise<ForeignKeyFacts> {
  const ex = ctx.expectations;
  const [facts] = await ctx.sql.unsafe<ForeignKeyFacts[]>(QUERY, [ex.schemas ?? null, ex.ignoreTables, ctx.verbose] as never[]);
  return facts!;
}

export const foreignKeyIndexes: Check = {
  id: 'foreign-key-indexes',
  title: 'Foreign keys are indexed',
  rationale: 'Without an index on the referencing columns every join is slow and every delete or key update on the parent scans the child table.',
  severity: 'error',
  async run(ctx) {
    return judgeForeignKeys(await readForeignKeys(ctx), ctx.verbose);
  },
};
