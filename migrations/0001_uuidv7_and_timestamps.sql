-- UUIDv7 primary keys and the shared updated_at trigger function.
--
-- uuid_generate_v7() has one contract on every server: RFC 9562 version 7, variant 10,
-- 48-bit Unix milliseconds first, then 12 bits of sub-millisecond time, so keys sort by
-- creation time. Where pg_uuidv7 is installed (setup creates it as the administrator when
-- the server offers it) its own function is used. PostgreSQL 18+ wraps the built-in
-- uuidv7(). Elsewhere (the embedded PG17 binaries, Amazon RDS) a portable PL/pgSQL
-- version is installed.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

DO $do$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_uuidv7')
     AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_uuidv7') THEN
    BEGIN
      CREATE EXTENSION pg_uuidv7;
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE NOTICE 'pg_uuidv7 needs a superuser here; installing the portable uuid_generate_v7()';
    END;
  END IF;

  IF to_regprocedure('uuid_generate_v7()') IS NULL THEN
    IF current_setting('server_version_num')::int >= 180000 THEN
      EXECUTE $f$
        CREATE FUNCTION uuid_generate_v7() RETURNS uuid
        LANGUAGE sql VOLATILE PARALLEL SAFE
        AS 'SELECT uuidv7()'
      $f$;
    ELSE
      EXECUTE $f$
        CREATE FUNCTION uuid_generate_v7() RETURNS uuid
        LANGUAGE plpgsql VOLATILE PARALLEL SAFE
        AS $body$
        DECLARE
          micros bigint := (extract(epoch FROM clock_timestamp()) * 1000000)::bigint;
          sub_ms int := ((micros % 1000) * 4096 / 1000)::int;
          b bytea := uuid_send(gen_random_uuid());
        BEGIN
          -- bytes 0-5: Unix time in milliseconds, big-endian
          b := overlay(b PLACING substring(int8send(micros / 1000) FROM 3) FROM 1 FOR 6);
          -- byte 6: version 7 and the top 4 bits of the sub-millisecond fraction; byte 7: the rest
          b := set_byte(b, 6, 112 | (sub_ms >> 8));
          b := set_byte(b, 7, sub_ms & 255);
          -- byte 8 keeps gen_random_uuid()'s RFC variant bits (10xxxxxx)
          RETURN encode(b, 'hex')::uuid;
        END
        $body$
      $f$;
    END IF;
  END IF;
END
$do$;

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
