-- A pending migration that violates migration-lint: both statements lock a live table.
CREATE INDEX users_slug_idx ON users (slug);
ALTER TABLE users ADD COLUMN age integer NOT NULL;
-- squawk-ignore renaming-column
ALTER TABLE users RENAME COLUMN slug TO handle;
