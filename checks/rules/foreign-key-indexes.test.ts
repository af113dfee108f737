import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureDatabase, objects, runOne } from '../test-support.ts';
import type { CheckResult } from '../types.ts';
import { judgeForeignKeys, type ForeignKeyRow } from './foreign-key-indexes.ts';

describe('foreign-key-indexes', () => {
  let r: CheckResult;
  beforeAll(async () => {
    const { connection } = await fixtureDatabase(new URL('./foreign-key-indexes.fixture.sql', import.meta.url));
    r = await runOne('foreign-key-indexes', { connection });
  });

  it('fails and names each uncovered foreign key', () => {
    expect(r.status).toBe('failed');
    expect(objects(r).sort()).toEqual([
      'public.invoices.invoices_account_id_fkey',
      'public.orders.orders_account_id_fkey',
      'public.shipments.shipments_account_id_region_fkey',
    ]);
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
