import { beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionSettings } from '../../core/db/url.ts';
import { withSql } from '../../test/db.ts';
import { fixtureDatabase, objects, runOne } from '../test-support.ts';
import type { CheckResult } from '../types.ts';
import { judgeForeignKeys, type ForeignKeyRow } from './foreign-key-indexes.ts';

/**
 * The indexes PostgreSQL's generic plan uses for a referential lookup of `columns` on `table`,
 * the query the foreign-key triggers run (`SELECT 1 FROM ONLY child x WHERE col = $1 FOR KEY
 * SHARE OF x`), prepared and planned as they plan it once values vary. `force`: with seq scans
 * disabled, so any index the planner can prove usable shows.
 */
async function lookupIndexes(connection: ConnectionSettings, table: string, columns: string[], force: boolean): Promise<string[]> {
  return withSql(connection, (sql) =>
    sql.begin(async (tx) => {
      await tx.unsafe('SET LOCAL plan_cache_mode = force_generic_plan');
      if (force) await tx.unsafe('SET LOCAL enable_seqscan = off');
      const where = columns.map((c, i) => `${c} OPERATOR(pg_catalog.=) $${i + 1}`).join(' AND ');
      await tx.unsafe(`PREPARE lookup (${columns.map(() => 'int').join(', ')}) AS SELECT 1 FROM ONLY ${table} x WHERE ${where} FOR KEY SHARE OF x`);
      const [row] = await tx.unsafe<{ 'QUERY PLAN': unknown }[]>(`EXPLAIN (FORMAT JSON) EXECUTE lookup (${columns.map(() => '1').join(', ')})`);
      await tx.unsafe('DEALLOCATE lookup');
      const names: string[] = [];
      const walk = (node: Record<string, unknown>) => {
        if (typeof node['Index Name'] === 'string') names.push(`${node['Node Type']}: ${node['Index Name']}`);
        for (const child of (node['Plans'] as Record<string, unknown>[] | undefined) ?? []) walk(child);
      };
      walk((row!['QUERY PLAN'] as Array<{ Plan: Record<string, unknown> }>)[0]!.Plan);
      return names;
    }),
  );
}

describe('foreign-key-indexes', () => {
  let r: CheckResult;
  let connection: ConnectionSettings;
  beforeAll(async () => {
    ({ connection } = await fixtureDatabase(new URL('./foreign-key-indexes.fixture.sql', import.meta.url)));
    r = await runOne('foreign-key-indexes', { connection });
  });

  it('fails and names each uncovered foreign key', () => {
    expect(r.status).toBe('failed');
    expect(objects(r).sort()).toEqual([
      'public.invoices.invoices_account_id_fkey',
      'public.orders.orders_account_id_fkey',
      'public.shipments.shipments_account_id_region_fkey',
      'public.vouchers.vouchers_account_id_fkey',
    ]);
  });

  it('counts a partial index WHERE the key columns are NOT NULL, leading columns or composite, quoted or not', () => {
    expect(r.passed).toEqual(
      expect.arrayContaining([
        'public.refunds: refunds_account_id_fkey (account_id) is covered by refunds_account_idx',
        'public.transfers: transfers_account_id_region_fkey (account_id, region) is covered by transfers_account_region_idx',
        'public."Notes": "Notes_Account Id_fkey" ("Account Id") is covered by notes_account_idx',
      ]),
    );
  });

  it('agrees with the planner: a partial index is cover exactly when the generic plan of the lookup can use it', async () => {
    const partial = [
      { table: 'public.refunds', columns: ['account_id'], index: 'refunds_account_idx', covers: true },
      { table: 'public.transfers', columns: ['account_id', 'region'], index: 'transfers_account_region_idx', covers: true },
      { table: 'public."Notes"', columns: ['"Account Id"'], index: 'notes_account_idx', covers: true },
      { table: 'public.invoices', columns: ['account_id'], index: 'invoices_open_account_idx', covers: false },
      { table: 'public.vouchers', columns: ['account_id'], index: 'vouchers_live_account_idx', covers: false },
    ];
    for (const p of partial) {
      const used = (await lookupIndexes(connection, p.table, p.columns, true)).some((n) => n.endsWith(`: ${p.index}`));
      expect(used, `${p.index} in the generic plan of the lookup on ${p.table}`).toBe(p.covers);
      expect(r.passed.some((l) => l.endsWith(`is covered by ${p.index}`)), `${p.index} counted as cover`).toBe(p.covers);
    }
  });

  it('is the index PostgreSQL picks by itself for the lookup on a table where most rows have no key', async () => {
    await withSql(connection, (sql) =>
      sql.unsafe(`INSERT INTO accounts SELECT g, g % 7 FROM generate_series(1, 200) g;
        INSERT INTO refunds SELECT g, CASE WHEN g % 10 = 0 THEN g % 200 + 1 END FROM generate_series(1, 20000) g;
        ANALYZE accounts, refunds`),
    );
    const natural = await lookupIndexes(connection, 'public.refunds', ['account_id'], false);
    expect(natural).toEqual([expect.stringMatching(/^(Index|Index Only|Bitmap Index) Scan: refunds_account_idx$/)]);
  });

  it('gives the CREATE INDEX that fixes it, columns in foreign-key order', () => {
    const f = r.findings.find((x) => x.object === 'public.shipments.shipments_account_id_region_fkey')!;
    expect(f.fix).toBe('CREATE INDEX CONCURRENTLY IF NOT EXISTS shipments_account_id_region_idx ON public.shipments (account_id, region);');
    expect(f.fixable).toBe(true);
    expect(r.findings.find((x) => x.object === 'public.orders.orders_account_id_fkey')!.fix).toContain('CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_account_id_idx ON public.orders (account_id);');
  });

  it('accepts an index whose leading columns are the foreign key', () => {
    expect(r.passed).toContain('public.payments: payments_account_id_fkey (account_id) is covered by payments_account_paid_idx');
  });
});

describe('judgeForeignKeys', () => {
  const row = (extra: Partial<ForeignKeyRow>): ForeignKeyRow => ({
    tbl: 'public."Order Lines"',
    relname: 'Order Lines',
    conname: '"Order Lines_order_id_fkey"',
    columns: ['order_id'],
    raw_columns: ['order_id'],
    referenced: 'public.orders',
    covering: null,
    ...extra,
  });

  it('counts covered keys in one line unless listing, and always names the uncovered ones', () => {
    const facts = { covered: 1200, rows: [row({})] };
    const counted = judgeForeignKeys(facts, false);
    expect(counted.passed).toEqual(['1,200 foreign keys covered by an index']);
    expect(counted.passedCount).toBe(1200);
    expect(counted.findings.map((f) => f.fix)).toEqual(['CREATE INDEX CONCURRENTLY IF NOT EXISTS "Order Lines_order_id_idx" ON public."Order Lines" (order_id);']);
  });

  it('lists each covered key when asked', () => {
    const listed = judgeForeignKeys({ covered: 1, rows: [row({ covering: 'order_lines_order_id_idx' })] }, true);
    expect(listed.passed).toEqual(['public."Order Lines": "Order Lines_order_id_fkey" (order_id) is covered by order_lines_order_id_idx']);
    expect(listed.findings).toEqual([]);
  });
});
