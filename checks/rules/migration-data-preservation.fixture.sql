-- A pending migration that violates migration-data-preservation. Runs against a database
-- where accounts(nickname varchar(100), balance numeric(12,2), legacy_code text) exists.
DROP TABLE IF EXISTS audit_log;
ALTER TABLE accounts DROP COLUMN legacy_code;
TRUNCATE sessions;
DELETE FROM tokens;
ALTER TABLE accounts ALTER COLUMN nickname TYPE varchar(20);

-- Allowed: explicit and explained.
-- destructive: the 2019 import table was copied to cold storage (ticket OPS-12)
DROP TABLE import_2019;
DELETE FROM tokens WHERE expires_at < now();
ALTER TABLE accounts ALTER COLUMN balance TYPE numeric(14,2);

/* fixture (at the end, so the findings' line numbers are the file's own)
{
  "migration": "0001_cleanup.sql",
  "database": "CREATE TABLE accounts (nickname varchar(100), balance numeric(12,2), legacy_code text)",
  "findings": ["0001_cleanup.sql:3", "0001_cleanup.sql:4", "0001_cleanup.sql:5", "0001_cleanup.sql:6", "0001_cleanup.sql:7"]
}
*/
