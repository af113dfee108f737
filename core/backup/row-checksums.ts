import { ident, literal, type Sql } from '../db/connect.ts';
import { LIST_TABLES_SQL, qualified, type TableName } from './tables.ts';

/**
 * A fingerprint of every table's rows, computed by the server: per table, the row count and
 * the md5 of all rows' text forms joined in primary-key order. Two databases with equal
 * fingerprints hold the same data, whichever server version, physical row order or session
 * settings each has; it is how a restore is proven row for row, not just count for count.
 */

export interface KeyedTable extends TableName {
  /** Primary-key columns in key order; empty when the table has none (then whole rows order it). */
  key: string[];
}

export interface RowChecksum {
  rows: number;
  md5: string;
}

/** Every user table (the set pg_dump writes) with its primary-key columns, in one catalog read. */
export const KEYED_TABLES_SQL = `
with t as (${LIST_TABLES_SQL})
select t.schema, t.name,
  coalesce((
    select array_agg(a.attname::text order by k.ord)
    from pg_index i
    cross join lateral unnest(i.indkey) with ordinality as k(attnum, ord)
    join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
    where i.indrelid = format('%I.%I', t.schema, t.name)::regclass and i.indisprimary
  ), '{}') as key
from t
order by 1, 2`;

/**
 * The query for one table's checksum. Pure. Rows are ordered by the primary key (unique, so
 * the order is total), else by their whole text; NULL keys cannot occur in a primary key.
 */
export function rowChecksumSql(t: KeyedTable): string {
  // `(r.*)` is the whole row even when the table has a column named r, which plain `r` would mean.
  const order = t.key.length ? t.key.map((c) => `r.${ident(c)}`).join(', ') : '(r.*)::text';
  return `select ${literal(qualified(t))} as t, count(*)::bigint as n, md5(coalesce(string_agg((r.*)::text, E'\\n' order by ${order}), '')) as h from ${ident(t.schema)}.${ident(t.name)} r`;
}

/**
 * Settings that change how values print (time zone for timestamptz, date style, float and
 * interval output): pinned, so equal data gives equal text on any server or session.
 */
export const STABLE_OUTPUT_SETTINGS = [
  `set local timezone = 'UTC'`,
  `set local datestyle = 'ISO, YMD'`,
  `set local intervalstyle = 'postgres'`,
  `set local extra_float_digits = 1`,
  `set local bytea_output = 'hex'`,
];

/** Every table's row checksum, read in one repeatable-read snapshot with stable output settings. */
export async function tableRowChecksums(sql: Sql): Promise<Record<string, RowChecksum>> {
  return sql.begin('isolation level repeatable read read only', async (tx) => {
    for (const s of STABLE_OUTPUT_SETTINGS) await tx.unsafe(s);
    const tables = await tx.unsafe<{ schema: string; name: string; key: string[] }[]>(KEYED_TABLES_SQL);
    const out: Record<string, RowChecksum> = {};
    for (const t of tables) {
      const [r] = await tx.unsafe<{ t: string; n: bigint; h: string }[]>(rowChecksumSql({ schema: t.schema, name: t.name, key: t.key }));
      out[r!.t] = { rows: Number(r!.n), md5: r!.h };
    }
    return out;
  });
}

/** Tables whose checksums differ, including tables only one side has, sorted. Pure. */
export function checksumDifferences(a: Record<string, RowChecksum>, b: Record<string, RowChecksum>): string[] {
  const same = (x: RowChecksum | undefined, y: RowChecksum | undefined) => Boolean(x && y && x.rows === y.rows && x.md5 === y.md5);
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((t) => !same(a[t], b[t])).sort();
}

export interface LedgerRow {
  version: string;
  description: string;
  installedOn: string;
  success: boolean;
  checksum: string;
  executionTime: string;
}

/** The sqlx migration ledger, every column as text (installed_on in UTC), in version order. */
export const LEDGER_SQL = `
select version::text as "version", description, to_char(installed_on at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "installedOn",
  success, encode(checksum, 'hex') as checksum, execution_time::text as "executionTime"
from public._sqlx_migrations order by version`;

/** The ledger's rows; empty when the database has none. */
export async function ledgerRows(sql: Pick<Sql, 'unsafe'>): Promise<LedgerRow[]> {
  const [t] = await sql.unsafe<{ t: string | null }[]>(`select to_regclass('public._sqlx_migrations')::text as t`);
  if (!t?.t) return [];
  return [...(await sql.unsafe<LedgerRow[]>(LEDGER_SQL))];
}
