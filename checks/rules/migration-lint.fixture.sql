-- A pending migration that violates migration-lint: both statements lock a live table.
CREATE INDEX users_slug_idx ON users (slug);
ALTER TABLE users ADD COLUMN age integer NOT NULL;
-- squawk-ignore renaming-column
ALTER TABLE users RENAME COLUMN slug TO handle;

/* fixture (at the end, so the findings' line numbers are the file's own)
{
  "migration": "0001_unsafe.sql",
  "findings": ["0001_unsafe.sql:2", "0001_unsafe.sql:3"]
}
*/
