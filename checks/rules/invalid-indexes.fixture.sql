-- Violates invalid-indexes: a unique index built concurrently over duplicate values fails
-- and leaves an invalid index behind, exactly as it happens in production.
CREATE TABLE signups (email text);
INSERT INTO signups VALUES ('a@example.test'), ('a@example.test');
-- fixture: expect error
CREATE UNIQUE INDEX CONCURRENTLY signups_email_key ON signups (email);
