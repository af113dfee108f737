import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureDatabase, objects, runOne } from '../test-support.ts';
import type { CheckResult } from '../types.ts';

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
    expect(r.findings.find((x) => x.object === 'public.orders.orders_account_id_fkey')!.fix).toContain('CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_account_id_idx ON public.orders (account_id);');
  });

  it('accepts an index whose leading columns are the foreign key', () => {
    expect(r.passed).toContain('public.payments: payments_account_id_fkey (account_id) is covered by payments_account_paid_idx');
  });
});
