-- UUIDv7 primary keys and the shared updated_at trigger function.
--
-- uuid_generate_v7() comes from the pg_uuidv7 extension on every server: the C extension
-- where it is installed (the Docker dev image), pgsteward's SQL implementation of the same
-- API elsewhere (extensions/pg_uuidv7: the local cluster's share/extension, or pg_tle on
-- Amazon RDS). Setup creates it as the administrator before any migration runs, so this
-- statement only confirms it; PostgreSQL 18's built-in uuidv7() is not used, so that every
-- server has the same functions.
--
-- This migration used to install a look-alike function in a version-dependent DO block. It
-- was rewritten while nothing had been deployed, so no database has the old checksum.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE EXTENSION IF NOT EXISTS pg_uuidv7;

-- created_at is set by DEFAULT now(); updated_at by this trigger on every UPDATE, so no
-- code path can forget it. Its search_path is pinned: names in the body never resolve through
-- the caller's path, where anyone who can create an earlier object could steer them
-- (CVE-2018-1058).
CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;
