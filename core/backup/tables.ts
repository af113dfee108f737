import { ident, literal, type Sql } from '../db/connect.ts';
import type { RowCountMismatch } from './manifest.ts';

/** User tables whose rows pg_dump writes: ordinary and partitioned, not system or extension-owned ones. */
export const LIST_TABLES_SQL = `
select n.nspname as schema, c.relname as name
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p')
  and n.nspname <> 'information_schema' and n.nspname !~ '^pg_'
  and not exists (
    select 1 from pg_depend d
    where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
order by 1, 2`;

export interface TableName {
  schema: string;
  name: string;
}

export const qualified = (t: TableName) => `${t.schema}.${t.name}`;

/** One round trip for every table's count. Pure. */
export function countRowsSql(tables: readonly TableName[]): string {
  return tables
    .map((t) => `select ${literal(qualified(t))} as t, count(*)::bigint as n from ${ident(t.schema)}.${ident(t.name)}`)
    .join('\nunion all\n');
}

export async function listTables(sql: Pick<Sql, 'unsafe'>): Promise<TableName[]> {
  return (await sql.unsafe<TableName[]>(LIST_TABLES_SQL)).map((r) => ({ schema: r.schema, name: r.name }));
}

export async function countRows(sql: Pick<Sql, 'unsafe'>, tables: readonly TableName[]): Promise<Record<string, number>> {
  if (tables.length === 0) return {};
  const rows = await sql.unsafe<{ t: string; n: bigint }[]>(countRowsSql(tables));
  return Object.fromEntries(rows.map((r) => [r.t, Number(r.n)]));
}

/** The newest successfully applied sqlx migration, as text; null without a ledger. */
export async function lastMigration(sql: Pick<Sql, 'unsafe'>): Promise<string | null> {
  const [t] = await sql.unsafe<{ t: string | null }[]>(`select to_regclass('public._sqlx_migrations')::text as t`);
  if (!t?.t) return null;
  const [r] = await sql.unsafe<{ v: bigint | null }[]>(`select max(version) as v from public._sqlx_migrations where success`);
  return r?.v == null ? null : String(r.v);
}

/** Tables whose counts differ, including tables only one side has. Pure. */
export function compareRowCounts(expected: Record<string, number>, actual: Record<string, number>): RowCountMismatch[] {
  const out: RowCountMismatch[] = [];
  for (const t of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
    const e = expected[t] ?? null;
    const a = actual[t] ?? null;
    if (e !== a) out.push({ table: t, expected: e, actual: a });
  }
  return out.sort((x, y) => x.table.localeCompare(y.table));
}
