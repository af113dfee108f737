/**
 * SQL fragments every catalog check shares, so "which objects are ours" is decided once.
 * Each check passes its parameters as arrays and asks one query about every subject: the
 * number of queries never depends on the number of tables. The query also decides which
 * subjects pass, and returns those as counts (rows only when listing, see passing.ts).
 */

import { notLedgerTable } from './ledger-tables.ts';

/** A namespace `n` that is not PostgreSQL's own. */
export function userSchema(n = 'n'): string {
  return `${n}.nspname NOT IN ('pg_catalog', 'information_schema') AND ${n}.nspname !~ '^pg_(toast|temp_)'`;
}

/** A schema in the configured list (`$schemas` text[] NULL means all user schemas). */
export function schemaInScope(schemasParam: string, n = 'n'): string {
  return `(${schemasParam}::text[] IS NULL OR ${n}.nspname = ANY(${schemasParam}::text[])) AND ${userSchema(n)}`;
}

/**
 * Not created by an extension (pg_trgm's own objects are not ours to judge). Asked from the
 * extension's side (pg_depend's reference index): a database has a few hundred extension
 * members but tens of thousands of dependencies on its relations.
 */
export function notExtensionMember(oidExpr: string, catalog: 'pg_class' | 'pg_proc' | 'pg_namespace'): string {
  return `NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.refclassid = 'pg_extension'::regclass AND e.deptype = 'e' AND e.classid = '${catalog}'::regclass AND e.objid = ${oidExpr})`;
}

/**
 * A relation `c` in namespace `n` that the table-level checks look at: not ignored by the
 * configuration, not an extension's, and not a migration tool's ledger (see ledger-tables.ts).
 */
export function relationInScope(schemasParam: string, ignoreParam: string, c = 'c', n = 'n'): string {
  return `${schemaInScope(schemasParam, n)}
    AND NOT (${n}.nspname || '.' || ${c}.relname = ANY(${ignoreParam}::text[]))
    AND ${notLedgerTable(c)}
    AND ${notExtensionMember(`${c}.oid`, 'pg_class')}`;
}

/** Ordinary and partitioned tables, partitions excluded (they inherit keys and indexes from the parent). */
export function isTable(c = 'c'): string {
  return `${c}.relkind IN ('r', 'p') AND NOT ${c}.relispartition`;
}

/** The columns of a key (`int2[]` of attnums) in key order, quoted where needed. */
export function keyColumns(relidExpr: string, attnumsExpr: string): string {
  return `array(SELECT quote_ident(a.attname) FROM unnest(${attnumsExpr}) WITH ORDINALITY k(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = ${relidExpr} AND a.attnum = k.attnum ORDER BY k.ord)`;
}
