import type { Sql } from '../../core/db/connect.ts';
import type { CatalogFacts } from './plan.ts';

/**
 * What the planner must know beyond the findings, to keep what a drop would break: which
 * indexes a constraint owns, and every index that covers each foreign key (the same test as
 * foreign-key-indexes: valid, not partial, leading columns the key's, btree or single-column
 * hash). All of it, not one cover per key: a drop is safe only while another cover stays.
 */
export const FACTS_QUERY = `
WITH ix AS (
  SELECT i.indexrelid, i.indrelid, i.indkey::int2[] AS key, i.indnkeyatts, i.indisvalid, i.indpred IS NULL AS whole,
         (SELECT amname FROM pg_am WHERE oid = c.relam) AS am, format('%I.%I', n.nspname, c.relname) AS name
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
)
SELECT
  coalesce((SELECT jsonb_agg(jsonb_build_object('name', ix.name, 'valid', ix.indisvalid,
              'constraint', (SELECT quote_ident(k.conname) FROM pg_constraint k WHERE k.conindid = ix.indexrelid AND k.conrelid = ix.indrelid AND k.contype IN ('p', 'u', 'x') LIMIT 1))
            ORDER BY ix.name) FROM ix), '[]'::jsonb) AS indexes,
  coalesce((SELECT jsonb_agg(jsonb_build_object(
              'name', format('%I.%I.%I', n.nspname, c.relname, con.conname),
              'covers', array(SELECT ix.name FROM ix
                               WHERE ix.indrelid = con.conrelid AND ix.indisvalid AND ix.whole
                                 AND ix.indnkeyatts >= cardinality(con.conkey)
                                 -- int2vector subscripts start at 0; a slice is renumbered from 1, like conkey.
                                 AND ix.key[0:cardinality(con.conkey) - 1] = con.conkey
                                 AND (ix.am = 'btree' OR (ix.am = 'hash' AND cardinality(con.conkey) = 1))
                               ORDER BY ix.name))
            ORDER BY format('%I.%I.%I', n.nspname, c.relname, con.conname))
     FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE con.contype = 'f' AND con.conparentid = 0), '[]'::jsonb) AS "foreignKeys"`;

export async function readCatalogFacts(sql: Pick<Sql, 'unsafe'>): Promise<CatalogFacts> {
  const [row] = await sql.unsafe<CatalogFacts[]>(FACTS_QUERY);
  return row!;
}
