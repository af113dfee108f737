-- Violates migration-state against the project's migrations/: 0001 applied from a different
-- file (checksum drift), 0002 half-applied (success = false), 0099 applied but unknown here,
-- and 0003/0004 pending.
CREATE TABLE _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
    success BOOLEAN NOT NULL,
    checksum BYTEA NOT NULL,
    execution_time BIGINT NOT NULL
);
INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES
    (1, 'uuidv7 and timestamps', true, '\x00', 1),
    (2, 'auth users', false, '\x00', 1),
    (99, 'from another branch', true, '\x00', 1);
