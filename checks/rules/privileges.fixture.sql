-- Violates privileges. Roles are cluster-wide, so they are named after the database (__DB__).
CREATE ROLE __DB___owner NOLOGIN;
CREATE ROLE __DB___migrator LOGIN;
CREATE ROLE __DB___app LOGIN CREATEDB;            -- a power, and no CONNECTION LIMIT
CREATE ROLE __DB___readonly LOGIN;
CREATE ROLE __DB___backup LOGIN;

GRANT CREATE ON SCHEMA public TO PUBLIC;          -- every role can create tables

CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL);
ALTER TABLE accounts OWNER TO __DB___owner;
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON accounts TO __DB___app;   -- TRUNCATE is not DML
GRANT SELECT, INSERT ON accounts TO __DB___readonly;                          -- a read-only role that writes
GRANT SELECT ON accounts TO __DB___backup;

CREATE TABLE app_scratch (id int PRIMARY KEY);
ALTER TABLE app_scratch OWNER TO __DB___app;       -- the app owns something
