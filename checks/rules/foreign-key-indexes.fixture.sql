/* fixture
{
  "findings": ["public.orders.orders_account_id_fkey", "public.shipments.shipments_account_id_region_fkey", "public.invoices.invoices_account_id_fkey"]
}
*/
-- Violates foreign-key-indexes: an unindexed foreign key, a composite one whose only index
-- has the columns in the wrong order, and one covered only by a partial index.
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

-- Covered: the leading columns of a wider index, in order.
CREATE TABLE payments (id int PRIMARY KEY, account_id int REFERENCES accounts (id), paid_at date);
CREATE INDEX payments_account_paid_idx ON payments (account_id, paid_at);
