/* fixture
{
  "findings": ["public.touch()", "public.grant_admin(target uuid)", "public.count_accounts()", "app.purge(IN days integer)"],
  "remaining": []
}
*/
-- Violates function-search-path: functions that resolve names through their caller's
-- search_path, one of them SECURITY DEFINER, and one SECURITY DEFINER function pinned to a
-- path that leaves the caller's temporary tables in front.
CREATE EXTENSION IF NOT EXISTS pg_trgm;   -- its functions sit in public, but are the extension's: not judged
CREATE TABLE accounts (id uuid PRIMARY KEY, is_admin boolean NOT NULL DEFAULT false, updated_at timestamptz);

-- An ordinary trigger function: a warning.
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END $$;

-- SECURITY DEFINER, unpinned: an error.
CREATE FUNCTION grant_admin(target uuid) RETURNS void LANGUAGE sql SECURITY DEFINER
AS $$ UPDATE accounts SET is_admin = true WHERE id = target $$;

-- SECURITY DEFINER, pinned, but pg_temp is not last: a caller's temporary "accounts" comes first.
CREATE FUNCTION count_accounts() RETURNS bigint LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$ SELECT count(*) FROM accounts $$;

-- A procedure in another schema: a warning.
CREATE SCHEMA app;
CREATE PROCEDURE app.purge(days integer) LANGUAGE sql
AS $$ DELETE FROM public.accounts WHERE updated_at < now() - make_interval(days => days) $$;

-- Not findings: a pinned search_path (an empty one too), pg_temp last for SECURITY DEFINER,
-- and a SQL-standard body, whose names were bound when it was created.
CREATE FUNCTION touch_pinned() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END $$;
CREATE FUNCTION account_total() RETURNS bigint LANGUAGE sql SET search_path = '' AS $$ SELECT count(*) FROM public.accounts $$;
CREATE FUNCTION is_admin(who uuid) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
AS $$ SELECT is_admin FROM accounts WHERE id = who $$;
CREATE FUNCTION admin_count() RETURNS bigint LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT count(*) FROM accounts WHERE is_admin;
END;
