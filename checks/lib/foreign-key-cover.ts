/**
 * When an index covers a foreign key, as SQL over two row sources, so that the
 * foreign-key-indexes check and the --write-fixes planner (which must never drop a key's last
 * cover) decide it alike. `key` needs `conrelid`, `conkey` and `implied` (see impliedTests);
 * `index` needs `indexrelid`, `indrelid`, `key` (indkey as int2[]), `indnkeyatts`, `indisvalid`, `opcmethod`
 * (of the first column's operator class) and `partial`.
 *
 * An index covers when its leading key columns are the FK's columns in order, it is valid,
 * its access method can look rows up by equality on them, and it is either not partial or
 * partial on a predicate the lookup implies: `col IS NOT NULL` on key columns, ANDed. The
 * planner proves that from `col = $1` (a strict operator), and the referential lookups are
 * exactly that, so it uses such an index for them (see the plan test). The predicate is
 * matched as PostgreSQL deparses it, conjunct by conjunct, against the key's own quoted
 * columns, so anything else (another column, an OR, a constant, `NOT (col IS NULL)`, which the
 * planner would prove too) is not cover: a false finding is possible, false cover is not.
 */
export function coversForeignKey(index: string, key: string): string {
  return `${index}.indisvalid
    AND ${index}.indrelid = ${key}.conrelid
    AND ${index}.indnkeyatts >= cardinality(${key}.conkey)
    -- int2vector subscripts start at 0; a slice is renumbered from 1, like conkey.
    AND ${index}.key[0:cardinality(${key}.conkey) - 1] = ${key}.conkey
    AND (${index}.opcmethod = (SELECT oid FROM pg_am WHERE amname = 'btree')
         OR (${index}.opcmethod = (SELECT oid FROM pg_am WHERE amname = 'hash') AND cardinality(${key}.conkey) = 1))
    -- Deparsed only for the few partial indexes that lead with a key's columns (it opens the table).
    -- (a IS NOT NULL), ((a IS NOT NULL) AND (b IS NOT NULL)), nested ANDs as written: cut at AND,
    -- each piece without its parentheses must be one of the key's tests. With no other operator
    -- or column in the text, an AND of those tests is all it can be.
    AND (NOT ${index}.partial OR (
      SELECT bool_and(btrim(piece, '()') = ANY (${key}.implied))
      FROM pg_index pi CROSS JOIN LATERAL unnest(string_to_array(pg_get_expr(pi.indpred, pi.indrelid), ' AND ')) piece
      WHERE pi.indexrelid = ${index}.indexrelid))`;
}

/** The `implied` column for a pg_constraint row `con`: `"col" IS NOT NULL` for each key column. */
export function impliedTests(con: string): string {
  return `array(SELECT quote_ident(a.attname) || ' IS NOT NULL' FROM unnest(${con}.conkey) k(attnum)
               JOIN pg_attribute a ON a.attrelid = ${con}.conrelid AND a.attnum = k.attnum)`;
}
