import { describe, expect, it } from 'vitest';
import { LEDGER_TABLES, ledgerToolOf, notLedgerTable } from './ledger-tables.ts';

describe('migration tools’ ledger tables', () => {
  it('knows the ledgers of sqlx, diesel, golang-migrate and Rails, Flyway, Liquibase, knex and Prisma', () => {
    for (const t of ['_sqlx_migrations', '__diesel_schema_migrations', 'schema_migrations', 'flyway_schema_history', 'databasechangelog', 'databasechangeloglock', 'knex_migrations', 'knex_migrations_lock', '_prisma_migrations']) expect(ledgerToolOf(t), t).toBeDefined();
    expect(ledgerToolOf('migrations')).toBeUndefined();
    expect(ledgerToolOf('users')).toBeUndefined();
  });

  it('is one SQL condition over the names, plain identifiers only (inlined into every catalog query)', () => {
    for (const { table } of LEDGER_TABLES) expect(table).toMatch(/^[a-z_]+$/);
    expect(notLedgerTable('c')).toBe(`c.relname <> ALL ('{${LEDGER_TABLES.map((l) => l.table).join(',')}}'::name[])`);
  });
});
