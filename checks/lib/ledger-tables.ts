/**
 * The tables migration tools keep their own bookkeeping in. They belong to the tool, not to the
 * application: their keys, indexes and grants are the tool's design (sqlx's ledger has a bigint
 * key, Flyway's none that is a uuid), so no table-level check judges them. Matched by name in
 * any schema, since Flyway and Liquibase can be told to keep theirs in a schema of their own.
 */
export const LEDGER_TABLES: ReadonlyArray<{ table: string; tool: string }> = [
  { table: '_sqlx_migrations', tool: 'sqlx' },
  { table: '__diesel_schema_migrations', tool: 'diesel' },
  { table: 'schema_migrations', tool: 'golang-migrate, Rails, dbmate' },
  { table: 'flyway_schema_history', tool: 'Flyway' },
  { table: 'databasechangelog', tool: 'Liquibase' },
  { table: 'databasechangeloglock', tool: 'Liquibase' },
  { table: 'knex_migrations', tool: 'knex' },
  { table: 'knex_migrations_lock', tool: 'knex' },
  { table: '_prisma_migrations', tool: 'Prisma' },
  // Rails keeps this beside schema_migrations: the environment a database was loaded for.
  { table: 'ar_internal_metadata', tool: 'Rails' },
];

/** Pure: the tool whose ledger a table of this name is, if any. */
export function ledgerToolOf(relname: string): string | undefined {
  return LEDGER_TABLES.find((l) => l.table === relname)?.tool;
}

/** A SQL condition: relation `c` is not a migration tool's ledger. The names are ours, so inlined. */
export function notLedgerTable(c = 'c'): string {
  return `${c}.relname <> ALL ('{${LEDGER_TABLES.map((l) => l.table).join(',')}}'::name[])`;
}
