import { cpSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LOGIN_ROLES, roleNames } from '../../core/config/role-names.ts';
import { readMigrationFolder } from '../../core/migrations/files.ts';
import { MIGRATIONS_DIR } from '../../core/paths.ts';
import { generatePassword } from '../../core/secrets.ts';
import { setupDatabase } from '../../core/setup.ts';
import { pgAdmin, uniqueName, withSql } from '../../test/db.ts';
import { projectExpectations, type Expectations } from '../expectations.ts';
import { runChecks } from '../suite.ts';
import type { ChecksReport } from '../types.ts';
import { writeFixes, type WriteFixesResult } from './write.ts';

/**
 * Issue 15 §2: one larger schema with several defects per rule, some of them tangled (a
 * duplicate index that is one of only two covers of a foreign key; a unique index that
 * duplicates a constraint on a column that also lacks case-insensitive uniqueness), is
 * repaired in one pass of --write-fixes and setup-db; a second pass writes nothing.
 */

const PLANTED = `-- Planted defects for the --write-fixes end-to-end test.
CREATE TABLE customers (
    id          uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    email       text NOT NULL CONSTRAINT customers_email_key UNIQUE,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
-- Same definition as customers_email_key, and still not case-insensitive.
CREATE UNIQUE INDEX customers_email_uidx ON customers (email);

CREATE TABLE products (
    id          uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    sku         text NOT NULL,
    kind        text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_kind_idx ON products (kind);
CREATE INDEX products_kind_sku_idx ON products (kind, sku);
CREATE TRIGGER products_set_updated_at BEFORE UPDATE ON products FOR EACH ROW EXECUTE FUNCTION set_updated_at();
ALTER TABLE products DISABLE TRIGGER products_set_updated_at;

CREATE TABLE orders (
    id           uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    customer_id  uuid NOT NULL REFERENCES customers (id),
    placed_by    uuid REFERENCES users (id),
    note         text,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
-- The foreign key's two covers are twins: one goes, the other must stay.
CREATE INDEX orders_customer_a_idx ON orders (customer_id);
CREATE INDEX orders_customer_b_idx ON orders (customer_id);

CREATE TABLE order_items (
    order_id    uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id  uuid NOT NULL REFERENCES products (id),
    quantity    integer NOT NULL CHECK (quantity > 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, product_id)
);
CREATE INDEX order_items_order_id_idx ON order_items (order_id);

-- Append-only, no updated_at: a trigger that sets it breaks every UPDATE.
CREATE TABLE order_events (
    id        uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    order_id  uuid NOT NULL REFERENCES orders (id),
    kind      text NOT NULL
);
CREATE TRIGGER order_events_set_updated_at BEFORE UPDATE ON order_events FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- No uniqueness at all; its addresses do not clash, so the unique index can be built.
CREATE TABLE suppliers (
    id     uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    email  text NOT NULL
);

CREATE TABLE articles (
    id     uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    title  text NOT NULL,
    body   tsvector NOT NULL DEFAULT ''::tsvector
);
`;

const ROWS = `
INSERT INTO customers (email, name) SELECT 'c' || g || '@example.test', 'customer ' || g FROM generate_series(1, 50) g;
INSERT INTO products (sku, kind) SELECT 'sku-' || g, 'kind-' || (g % 5) FROM generate_series(1, 20) g;
INSERT INTO orders (customer_id) SELECT id FROM customers;
INSERT INTO order_items (order_id, product_id, quantity) SELECT o.id, p.id, 1 FROM orders o CROSS JOIN (SELECT id FROM products LIMIT 3) p;
INSERT INTO order_events (order_id, kind) SELECT id, 'placed' FROM orders;
INSERT INTO suppliers (email) SELECT 'Supplier' || g || '@Example.test' FROM generate_series(1, 10) g;
INSERT INTO articles (title, body) SELECT 'article ' || g, to_tsvector('english', 'article number ' || g) FROM generate_series(1, 10) g;
`;

const TABLES = ['suppliers', 'customers', 'products', 'orders', 'order_items', 'order_events', 'articles', 'users'];
/** The rules whose defects are planted here. */
const RULES = ['foreign-key-indexes', 'duplicate-indexes', 'updated-at-triggers', 'email-unique', 'search', 'privileges'];

function expectations(): Partial<Expectations> {
  const p = projectExpectations({ DB_POOL_MAX: '10', DB_APP_INSTANCES: '1' });
  return {
    emailColumns: [...p.emailColumns, { table: 'public.customers', column: 'email' }, { table: 'public.suppliers', column: 'email' }],
    search: {
      fullText: [...p.search.fullText, { table: 'public.articles', column: 'body', config: 'english' }],
      trigram: [...p.search.trigram, { table: 'public.articles', column: 'title' }],
      probes: p.search.probes,
    },
    pool: { max: 10, min: 2, instances: 1 },
  };
}

const counts = (database: string) =>
  withSql(pgAdmin(database), async (sql) => Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, Number((await sql.unsafe(`SELECT count(*) AS n FROM ${t}`))[0]!.n)]))));
const findingsOf = (r: ChecksReport, id: string) => r.results.find((x) => x.id === id)!.findings.map((f) => f.object);
const keys = (r: ChecksReport) => r.results.flatMap((x) => (x.error ? [`${x.id} could not run: ${x.error}`] : x.findings.map((f) => `${x.id} ${f.object}`)));

describe('--write-fixes on a schema with several tangled defects per rule', () => {
  const database = uniqueName('fxe2e');
  const roles = roleNames(database);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-e2e-fixes-'));
  const passwords = Object.fromEntries(LOGIN_ROLES.map((r) => [r, generatePassword()]));
  const setup = () => setupDatabase({ admin: pgAdmin(), database, pool: { max: 10, min: 2, instances: 1 }, passwords, migrations: readMigrationFolder(dir).migrations });
  const check = () => runChecks({ connection: pgAdmin(database), migrationsDir: dir, expectations: expectations(), target: { kind: 'local' } });
  let before: ChecksReport;
  let rowsBefore: Record<string, number>;
  let written: WriteFixesResult;
  let after: ChecksReport;

  beforeAll(async () => {
    cpSync(MIGRATIONS_DIR, dir, { recursive: true, filter: (f) => !f.endsWith('.ts') });
    writeFileSync(path.join(dir, '0005_planted_defects.sql'), PLANTED);
    await setup();
    await withSql(pgAdmin(database), async (sql) => {
      await sql.unsafe(ROWS);
      // Privileges drift, by hand: what setup-db converges back.
      await sql.unsafe(`GRANT TRUNCATE ON orders TO ${roles.app}; GRANT INSERT ON customers TO ${roles.readonly}; GRANT CREATE ON SCHEMA public TO PUBLIC`);
    });
    rowsBefore = await counts(database);
    before = await check();
    written = await writeFixes({ report: before, connection: pgAdmin(database), dir, dryRun: false });
  }, 120_000);

  it('finds several defects per rule', () => {
    const per = Object.fromEntries(RULES.map((id) => [id, findingsOf(before, id).length]));
    for (const id of RULES) expect(per[id], `${id}: ${JSON.stringify(per)}`).toBeGreaterThanOrEqual(2);
    expect(findingsOf(before, 'foreign-key-indexes').sort()).toEqual(['public.order_events.order_events_order_id_fkey', 'public.order_items.order_items_product_id_fkey', 'public.orders.orders_placed_by_fkey']);
    // order_items_order_id_idx leads the primary key (order_id, product_id), which covers that foreign key too.
    expect(findingsOf(before, 'duplicate-indexes').sort()).toEqual(['public.customers_email_uidx', 'public.order_items_order_id_idx', 'public.orders_customer_b_idx', 'public.products_kind_idx']);
  });

  it('writes files that keep one of the twin covers, build before they drop, and pass our lint and data-preservation checks', async () => {
    const names = written.plan.files.map((f) => f.name);
    expect(readdirSync(dir).filter((f) => f.includes('pgsteward_')).sort()).toEqual([...names].sort());
    expect(names.every((n) => /^\d{4}_pgsteward_[a-z0-9_]+\.sql$/.test(n))).toBe(true);
    expect(names[0]).toBe('0006_pgsteward_fixes.sql');
    expect(names.filter((n) => n.includes('_drop_')).map((n) => n.slice(5))).toEqual([
      'pgsteward_drop_customers_email_uidx.sql',
      'pgsteward_drop_order_items_order_id_idx.sql',
      'pgsteward_drop_orders_customer_b_idx.sql',
      'pgsteward_drop_products_kind_idx.sql',
    ]);
    const lastBuild = Math.max(...names.map((n, k) => (n.includes('_create_') ? k : -1)));
    expect(lastBuild).toBeLessThan(names.findIndex((n) => n.includes('_drop_')));
    expect(written.plan.notWritten.filter((n) => !/^setup-db converges/.test(n.reason))).toEqual([]);
    const lint = await runChecks({ connection: pgAdmin(database), migrationsDir: dir, expectations: expectations(), only: ['migration-lint', 'migration-data-preservation'] });
    expect(keys(lint)).toEqual([]);
  });

  it('after setup-db: none of the planted rules reports anything, no error anywhere, nothing new, the same rows', async () => {
    const setupReport = await setup();
    expect(setupReport.migrations.applied.map((a) => a.file)).toEqual(written.plan.files.map((f) => f.name));
    after = await check();
    for (const id of RULES) expect(findingsOf(after, id), id).toEqual([]);
    const known = new Set(keys(before));
    expect(keys(after).filter((k) => !known.has(k))).toEqual([]);
    expect(after.ok, keys(after).join('\n')).toBe(true);
    expect(await counts(database)).toEqual(rowsBefore);
  }, 120_000);

  it('a second --write-fixes writes nothing', async () => {
    const again = await writeFixes({ report: after, connection: pgAdmin(database), dir, dryRun: false });
    expect(again.plan.files).toEqual([]);
    expect(readMigrationFolder(dir).migrations).toHaveLength(5 + written.plan.files.length);
  });
});
