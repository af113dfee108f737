/* fixture
{
  "findings": [
    "public.orders.orders_account_id_fkey", "public.shipments.shipments_account_id_region_fkey",
    "public.invoices.invoices_account_id_fkey", "public.vouchers.vouchers_account_id_fkey"
  ]
}
*/
-- Violates foreign-key-indexes: an unindexed foreign key, a composite one whose only index
-- has the columns in the wrong order, and two covered only by partial indexes whose
-- predicates the lookup does not imply (another column; NOT NULL on the key plus another column).
CREATE TABLE accounts (id int PRIMARY KEY, region int NOT NULL, UNIQUE (id, region));
CREATE TABLE orders (id int PRIMARY KEY, account_id int NOT NULL REFERENCES accounts (id));

CREATE TABLE shipments (
    id int PRIMARY KEY,
    account_id int NOT NULL,
    region int NOT NULL,
    FOREIGN KEY (account_id, region) REFERENCES accounts (id, region)
);
CREATE INDEX shipments_region_account_idx ON shipments (region, account_id);

CREATE TABLE invoices (id int PRIMARY KEY, account_id int REFERENCES accounts (id));
CREATE INDEX invoices_open_account_idx ON invoices (account_id) WHERE id > 100;

CREATE TABLE vouchers (id int PRIMARY KEY, account_id int REFERENCES accounts (id), void boolean NOT NULL DEFAULT false);
CREATE INDEX vouchers_live_account_idx ON vouchers (account_id) WHERE account_id IS NOT NULL AND NOT void;

-- Covered: the leading columns of a wider index, in order.
CREATE TABLE payments (id int PRIMARY KEY, account_id int REFERENCES accounts (id), paid_at date);
CREATE INDEX payments_account_paid_idx ON payments (account_id, paid_at);

-- Covered: partial indexes on the rows that have a key, which every lookup of a key value implies.
CREATE TABLE refunds (id int PRIMARY KEY, account_id int REFERENCES accounts (id));
CREATE INDEX refunds_account_idx ON refunds (account_id) WHERE account_id IS NOT NULL;

CREATE TABLE transfers (id int PRIMARY KEY, account_id int, region int, FOREIGN KEY (account_id, region) REFERENCES accounts (id, region));
-- Written with a nested AND, which PostgreSQL keeps nested: ((region …) AND ((account_id …) AND (region …))).
CREATE INDEX transfers_account_region_idx ON transfers (account_id, region, id) WHERE region IS NOT NULL AND (account_id IS NOT NULL AND region IS NOT NULL);

CREATE TABLE "Notes" (id int PRIMARY KEY, "Account Id" int REFERENCES accounts (id));
CREATE INDEX notes_account_idx ON "Notes" ("Account Id") WHERE "Account Id" IS NOT NULL;
