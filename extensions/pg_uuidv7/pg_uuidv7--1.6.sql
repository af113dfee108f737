-- pg_uuidv7 1.6 in SQL: the API of the C extension (github.com/fboulnois/pg_uuidv7), with the
-- same names, argument types, defaults, volatility, strictness and results.
--
-- Layout of a version 7 UUID (RFC 9562): bytes 0-5 hold the Unix time in milliseconds,
-- big-endian; byte 6 starts with the version nibble 0111; byte 8 starts with the variant
-- bits 10; the other 74 bits are random (from pg_strong_random, through gen_random_uuid()).
--
-- Each body names every function, operator and type with its schema: SQL-standard bodies
-- are bound when the extension is created, PL/pgSQL when it runs, and neither the caller's
-- search_path nor objects in the schema the extension lives in may change what they call.
-- No function sets search_path, since that would keep the planner from inlining it: the
-- bodies of uuid_generate_v7() and of the _to_timestamp functions are single expressions of
-- strict built-ins, so a query runs them inline, without a function call.

\echo Use "CREATE EXTENSION pg_uuidv7" to load this file. \quit

-- A fresh version 7 UUID: the current time (clock_timestamp(), as the C version reads
-- CLOCK_REALTIME), then bytes 6-15 of gen_random_uuid() with the version nibble turned from
-- 0100 into 0111 (bits 52 and 53); gen_random_uuid() already sets the variant bits. The
-- milliseconds come from the timestamp's raw microseconds since 2000-01-01, exactly: cheaper
-- than numeric arithmetic, and float8 would be inexact.
CREATE FUNCTION uuid_generate_v7() RETURNS uuid
LANGUAGE sql VOLATILE STRICT PARALLEL SAFE
RETURN pg_catalog.encode(
  pg_catalog.set_bit(pg_catalog.set_bit(
    pg_catalog.substring(pg_catalog.int8send(
      (('x' OPERATOR(pg_catalog.||) pg_catalog.encode(pg_catalog.timestamptz_send(pg_catalog.clock_timestamp()), 'hex'))::pg_catalog.bit(64)::pg_catalog.int8
        OPERATOR(pg_catalog./) 1000) OPERATOR(pg_catalog.+) 946684800000), 3)
    OPERATOR(pg_catalog.||) pg_catalog.substring(pg_catalog.uuid_send(pg_catalog.gen_random_uuid()), 7),
  52, 1), 53, 1),
  'hex')::pg_catalog.uuid;

-- The embedded Unix milliseconds as a timestamptz. The bits are read as one unsigned 48-bit
-- number, whatever the version, as the C version does; every such number is a valid
-- timestamp (the largest is 10889-08-02 05:31:50.655 UTC). The interval is parsed from
-- text so that it is exact over that whole range (float8 arithmetic is not).
CREATE FUNCTION uuid_v7_to_timestamptz(uuid) RETURNS timestamptz
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN '1970-01-01 00:00:00+00'::pg_catalog.timestamptz OPERATOR(pg_catalog.+) (
  ('x' OPERATOR(pg_catalog.||) pg_catalog.encode(pg_catalog.substring(pg_catalog.uuid_send($1), 1, 6), 'hex'))::pg_catalog.bit(48)::pg_catalog.int8::pg_catalog.text
  OPERATOR(pg_catalog.||) ' ms')::pg_catalog.interval;

-- The same instant as a timestamp without time zone, in UTC, whatever the TimeZone setting.
CREATE FUNCTION uuid_v7_to_timestamp(uuid) RETURNS timestamp
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN '1970-01-01 00:00:00'::pg_catalog.timestamp OPERATOR(pg_catalog.+) (
  ('x' OPERATOR(pg_catalog.||) pg_catalog.encode(pg_catalog.substring(pg_catalog.uuid_send($1), 1, 6), 'hex'))::pg_catalog.bit(48)::pg_catalog.int8::pg_catalog.text
  OPERATOR(pg_catalog.||) ' ms')::pg_catalog.interval;

-- A version 7 UUID for a given instant; with zero = true the 74 random bits are zero, so the
-- result is the smallest UUID of that millisecond (for range queries on keys).
--
-- The arithmetic is the C version's, on the timestamp's raw 64-bit value (microseconds since
-- 2000-01-01), unsigned: ((raw + 946684800000000) mod 2^64) div 1000, of which the low 48
-- bits are kept. From 1970-01-01 to 10889-08-02 that is the Unix millisecond, rounded down.
-- Outside that range the C version wraps around silently (1969-12-31 23:59:59.999 UTC gives
-- a UUID of the year 6750; 'infinity' and '-infinity' give the same UUID) and so does this
-- one, so that every server returns the same UUID for the same input.
--
-- STABLE, as in the C version, although the random bits make it volatile in fact. Its
-- randomness keeps it from being inlined either way; PL/pgSQL runs it twice as fast as a
-- non-inlined SQL function. The body names everything with its schema because PL/pgSQL
-- resolves names when it runs, under the caller's search_path.
CREATE FUNCTION uuid_timestamptz_to_v7(timestamptz, zero bool = false) RETURNS uuid
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
AS $body$
DECLARE
  raw pg_catalog.int8 := ('x' OPERATOR(pg_catalog.||) pg_catalog.encode(pg_catalog.timestamptz_send($1), 'hex'))::pg_catalog.bit(64)::pg_catalog.int8;
  unix_ms pg_catalog.bytea := pg_catalog.substring(pg_catalog.int8send(pg_catalog.mod(pg_catalog.div(pg_catalog.mod(
      raw::pg_catalog.numeric OPERATOR(pg_catalog.+) 18447690758509551616,  -- 946684800000000 + 2^64
      18446744073709551616), 1000), 281474976710656)::pg_catalog.int8), 3);
BEGIN
  IF zero THEN
    RETURN pg_catalog.encode(unix_ms OPERATOR(pg_catalog.||) pg_catalog.decode('70008000000000000000', 'hex'), 'hex')::pg_catalog.uuid;
  END IF;
  RETURN pg_catalog.encode(unix_ms OPERATOR(pg_catalog.||)
    pg_catalog.set_bit(pg_catalog.set_bit(pg_catalog.substring(pg_catalog.uuid_send(pg_catalog.gen_random_uuid()), 7), 4, 1), 5, 1),
    'hex')::pg_catalog.uuid;
END
$body$;

-- The same for a timestamp without time zone, read as UTC: timezone('UTC', ...) keeps its
-- raw value, which is what the C version converts.
CREATE FUNCTION uuid_timestamp_to_v7(timestamp, zero bool = false) RETURNS uuid
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN uuid_timestamptz_to_v7(pg_catalog.timezone('UTC', $1), zero);
