import type { Sql } from '../../core/db/connect.ts';
import { coversForeignKey, impliedTests } from '../lib/foreign-key-cover.ts';
import type { CatalogFacts } from './plan.ts';

/**
 * What the planner must know beyond the findings, to keep what a drop would break: which
 * indexes a constraint owns, and every index that covers each foreign key (the test
 * foreign-key-indexes uses, checks/lib/foreign-key-cover.ts). All of them, not one cover per
 * key: a drop is safe only while another cover stays.
 */
export const FACTS_QUERY = `
WITH ix AS (
  SELECT i.indexrelid, i.indrelid, i.indkey::int2[] AS key, i.indnkeyatts, i.indisvalid, opc.opcmethod,
         i.indpred IS NOT NULL AS partial, format('%I.%I', n.nspname, c.relname) AS name
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_opclass opc ON opc.oid = i.indclass[0]
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
),
fk AS (
  SELECT con.conrelid, con.conkey, ${impliedTests('con')} AS implied, format('%I.%I.%I', n.nspname, c.relname, con.conname) AS name
  FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE con.contype = 'f' AND con.conparentid = 0
)
SELECT
  coalesce((SELECT jsonb_agg(jsonb_build_object('name', ix.name, 'valid', ix.indisvalid,
              'constraint', (SELECT quote_ident(k.conname) FROM pg_constraint k WHERE k.conindid = ix.indexrelid AND k.conrelid = ix.indrelid AND k.contype IN ('p', 'u', 'x') LIMIT 1))
            ORDER BY ix.name) FROM ix), '[]'::jsonb) AS indexes,
  coalesce((SELECT jsonb_agg(jsonb_build_object(
              'name', fk.name,
              'covers', array(SELECT ix.name FROM ix WHERE ${coversForeignKey('ix', 'fk')} ORDER BY ix.name))
            ORDER BY fk.name) FROM fk), '[]'::jsonb) AS "foreignKeys"`;

export async function readCatalogFacts(sql: Pick<Sql, 'unsafe'>): Promise<CatalogFacts> {
  const [row] = await sql.unsafe<CatalogFacts[]>(FACTS_QUERY);
  return row!;
}
