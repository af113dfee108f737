import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Sql } from '../db/connect.ts';
import { createDatabase, pgAdmin, withSql } from '../../test/db.ts';

/**
 * The SQL pg_uuidv7 (extensions/pg_uuidv7) against the C extension's documented behaviour,
 * on the suite's embedded PostgreSQL 17, which has no C pg_uuidv7: the local cluster's
 * overlay gives it ours. Every expected value below is a literal worked out from
 * pg_uuidv7.c's arithmetic (unsigned 64-bit, 48 bits kept) and its README's example
 * (2023-01-02 04:26:40.637+00 ↔ 018570bb-4a7d-7000-8000-000000000000), not computed here.
 */

let database: string;
let sql: Sql;

beforeAll(async () => {
  database = await createDatabase('uuidv7');
  sql = connect(pgAdmin(database), { max: 1 });
  await sql.unsafe('CREATE EXTENSION pg_uuidv7');
  await sql.unsafe("SET TimeZone = 'UTC'");
});
afterAll(async () => {
  await sql?.end({ timeout: 5 });
});

/** Timestamps and the uuid_timestamptz_to_v7(t, true) pg_uuidv7.c gives for them. */
const ENCODED: ReadonlyArray<[string, string]> = [
  ['1970-01-01 00:00:00+00', '00000000-0000-7000-8000-000000000000'],
  ['1970-01-01 00:00:00.000999+00', '00000000-0000-7000-8000-000000000000'],
  ['1970-01-01 00:00:00.001+00', '00000000-0001-7000-8000-000000000000'],
  ['2000-01-01 00:00:00+00', '00dc6acf-ac00-7000-8000-000000000000'],
  ['2023-01-02 04:26:40.637+00', '018570bb-4a7d-7000-8000-000000000000'],
  ['2023-01-02 04:26:40.637999+00', '018570bb-4a7d-7000-8000-000000000000'],
  ['2024-02-29 12:34:56.789+00', '018df4dc-5495-7000-8000-000000000000'],
  ['2026-07-04 09:15:00.5-07', '019f2de9-6d94-7000-8000-000000000000'],
  ['2038-01-19 03:14:07.999+00', '01f3ffff-ffff-7000-8000-000000000000'],
  ['2106-02-07 06:28:16+00', '03e80000-0000-7000-8000-000000000000'],
  ['9999-12-31 23:59:59.999999+00', 'e677d21f-dbff-7000-8000-000000000000'],
  ['10889-08-02 05:31:50.655+00', 'ffffffff-ffff-7000-8000-000000000000'],
  // Past the 48 bits, and before 1970: the C version's unsigned arithmetic wraps around.
  ['10889-08-02 05:31:50.656+00', '00000000-0000-7000-8000-000000000000'],
  ['294276-12-31 23:59:59.999999+00', 'c577e6a3-8fff-7000-8000-000000000000'],
  ['1969-12-31 23:59:59.999+00', '89374bc6-a7ee-7000-8000-000000000000'],
  ['1969-12-31 23:59:59.999999+00', '89374bc6-a7ef-7000-8000-000000000000'],
  ['1900-01-01 00:00:00+00', '8734f9c8-83ef-7000-8000-000000000000'],
  ['4714-11-24 00:00:00+00 BC', 'c96f0ae0-57ef-7000-8000-000000000000'],
  ['infinity', 'c57810b2-fff7-7000-8000-000000000000'],
  ['-infinity', 'c57810b2-fff7-7000-8000-000000000000'],
];

/** UUIDs and the UTC time pg_uuidv7.c decodes from them (the top 48 bits, whatever the version). */
const DECODED: ReadonlyArray<[string, string]> = [
  ['00000000-0000-0000-0000-000000000000', '1970-01-01 00:00:00'],
  ['00000000-0000-7000-8000-000000000000', '1970-01-01 00:00:00'],
  ['00000000-0001-7fff-bfff-ffffffffffff', '1970-01-01 00:00:00.001'],
  ['00000000-03e8-7abc-9def-0123456789ab', '1970-01-01 00:00:01'],
  ['00000001-0000-7000-8000-000000000000', '1970-01-01 00:01:05.536'],
  ['018570bb-4a7d-7c7e-8df4-6d47afd8c8fc', '2023-01-02 04:26:40.637'],
  ['018570bb-4a7d-7000-8000-000000000000', '2023-01-02 04:26:40.637'],
  ['0190d6c1-35e0-7a3f-8b2d-4c5e6f708192', '2024-07-21 19:25:04.864'],
  ['01a233bc-8824-715a-b284-cb46d054b497', '2026-12-01 22:32:03.364'],
  ['00dc6acf-ac00-7000-8000-000000000000', '2000-01-01 00:00:00'],
  ['550e8400-e29b-41d4-a716-446655440000', '4933-07-23 01:02:33.627'],
  ['6ba7b810-9dad-11d1-80b4-00c04fd430c8', '5720-12-08 01:30:07.149'],
  ['7fffffff-ffff-7fff-bfff-ffffffffffff', '6429-10-17 02:45:55.327'],
  ['80000000-0000-7000-8000-000000000000', '6429-10-17 02:45:55.328'],
  ['c0ffee00-dead-7eef-8bad-f00dcafe0001', '8694-07-10 12:10:27.885'],
  ['e6bb1c5a-3f10-7000-8000-000000000000', '10009-02-27 00:02:29.264'],
  ['fffffffe-ffff-7000-8000-000000000000', '10889-08-02 05:30:45.119'],
  ['ffffffff-fffe-7000-8000-000000000000', '10889-08-02 05:31:50.654'],
  ['ffffffff-ffff-7000-8000-000000000000', '10889-08-02 05:31:50.655'],
  ['ffffffff-ffff-ffff-ffff-ffffffffffff', '10889-08-02 05:31:50.655'],
];

describe('pg_uuidv7 in SQL: the API of pg_uuidv7 1.6', () => {
  it('has the five functions with the C extension’s signatures, defaults, volatility, strictness and parallel safety', async () => {
    const rows = await sql<{ fn: string; rettype: string; volatile: string; strict: boolean; parallel: string }[]>`
      select p.proname || '(' || pg_get_function_arguments(p.oid) || ')' as fn, p.prorettype::regtype::text as rettype,
             p.provolatile as volatile, p.proisstrict as strict, p.proparallel as parallel
      from pg_depend d join pg_proc p on p.oid = d.objid
      where d.refobjid = (select oid from pg_extension where extname = 'pg_uuidv7') and d.classid = 'pg_proc'::regclass and d.deptype = 'e'
      order by 1`;
    expect(rows.map((r) => ({ ...r }))).toEqual([
      { fn: 'uuid_generate_v7()', rettype: 'uuid', volatile: 'v', strict: true, parallel: 's' },
      { fn: 'uuid_timestamp_to_v7(timestamp without time zone, zero boolean DEFAULT false)', rettype: 'uuid', volatile: 's', strict: true, parallel: 's' },
      { fn: 'uuid_timestamptz_to_v7(timestamp with time zone, zero boolean DEFAULT false)', rettype: 'uuid', volatile: 's', strict: true, parallel: 's' },
      { fn: 'uuid_v7_to_timestamp(uuid)', rettype: 'timestamp without time zone', volatile: 's', strict: true, parallel: 's' },
      { fn: 'uuid_v7_to_timestamptz(uuid)', rettype: 'timestamp with time zone', volatile: 's', strict: true, parallel: 's' },
    ]);
    const [ext] = await sql`select extversion from pg_extension where extname = 'pg_uuidv7'`;
    expect(ext!.extversion).toBe('1.6');
  });

  it('inlines uuid_generate_v7() and both decoders into the calling query (no function call left in the plan)', async () => {
    await sql.unsafe('CREATE TEMP TABLE ids AS SELECT uuid_generate_v7() AS id');
    const plan = (await sql.unsafe('EXPLAIN (VERBOSE, COSTS OFF) SELECT uuid_generate_v7(), uuid_v7_to_timestamptz(id), uuid_v7_to_timestamp(id) FROM ids'))
      .map((r) => r['QUERY PLAN'] as string)
      .join('\n');
    expect(plan).toMatch(/gen_random_uuid\(\)/);
    expect(plan).not.toMatch(/uuid_generate_v7\(|uuid_v7_to_timestamptz\(|uuid_v7_to_timestamp\(/);
  });

  it('sets version 7 and variant 10 on 100,000 generated values, with 74 bits that vary', async () => {
    const [r] = await sql<{ n: number; distinct: number; version: number; variant: number; rand_a: number; variants: number; tails: number }[]>`
      select count(*)::int as n, count(distinct u)::int as distinct,
             count(*) filter (where get_byte(uuid_send(u), 6) >> 4 = 7)::int as version,
             count(*) filter (where get_byte(uuid_send(u), 8) >> 6 = 2)::int as variant,
             count(distinct substr(u::text, 16, 3))::int as rand_a,
             count(distinct substr(u::text, 20, 1))::int as variants,
             count(distinct substr(u::text, 25))::int as tails
      from (select uuid_generate_v7() as u from generate_series(1, 100000)) s`;
    expect(r).toEqual({ n: 100000, distinct: 100000, version: 100000, variant: 100000, rand_a: 4096, variants: 4, tails: 100000 });
  });

  it('is monotonic by millisecond and carries the server clock’s millisecond', async () => {
    const [r] = await sql<{ backwards: number; misordered: number; before: number; after: number }[]>`
      with g as (
        select i, u, (('x' || left(replace(u::text, '-', ''), 12))::bit(48)::bigint) as ms,
               floor(extract(epoch from t0) * 1000)::bigint as lo, floor(extract(epoch from clock_timestamp()) * 1000)::bigint as hi
        from (select clock_timestamp() as t0) c, lateral (select i, uuid_generate_v7() as u from generate_series(1, 50000) as i) s
      ), l as (select *, lag(ms) over (order by i) as prev_ms, lag(u) over (order by i) as prev_u from g)
      select count(*) filter (where ms < prev_ms)::int as backwards,
             count(*) filter (where ms > prev_ms and u <= prev_u)::int as misordered,
             count(*) filter (where ms < lo)::int as before, count(*) filter (where ms > hi)::int as after
      from l`;
    expect(r).toEqual({ backwards: 0, misordered: 0, before: 0, after: 0 });
    const [span] = await sql`select count(distinct left(u::text, 13))::int as ms from (select uuid_generate_v7() as u from generate_series(1, 200000)) s`;
    expect(span!.ms).toBeGreaterThan(1); // the run crossed milliseconds, so the check above compared some
  });

  it('gives the C extension’s UUID for 20 fixed timestamps (zero = true), through both encoders', async () => {
    const ts = ENCODED.map(([t]) => t);
    const rows = await sql<{ t: string; tz: string; plain: string; named: string }[]>`
      select t, uuid_timestamptz_to_v7(t::timestamptz, true)::text as tz,
             uuid_timestamp_to_v7((t::timestamptz at time zone 'UTC'), true)::text as plain,
             uuid_timestamptz_to_v7(t::timestamptz, zero => true)::text as named
      from unnest(${ts}::text[]) with ordinality as x(t, i) order by i`;
    expect(rows.map((r) => [r.t, r.tz])).toEqual(ENCODED);
    expect(rows.map((r) => [r.t, r.plain])).toEqual(ENCODED);
    expect(rows.map((r) => [r.t, r.named])).toEqual(ENCODED);
  });

  it('decodes 20 fixed UUIDs to the C extension’s times, as timestamptz and as timestamp', async () => {
    const us = DECODED.map(([u]) => u);
    const rows = await sql<{ u: string; tz: string; plain: string }[]>`
      select u, uuid_v7_to_timestamptz(u::uuid)::text as tz, uuid_v7_to_timestamp(u::uuid)::text as plain
      from unnest(${us}::text[]) with ordinality as x(u, i) order by i`;
    expect(rows.map((r) => [r.u, r.tz])).toEqual(DECODED.map(([u, t]) => [u, `${t}+00`]));
    expect(rows.map((r) => [r.u, r.plain])).toEqual(DECODED);
  });

  it('round-trips every millisecond from 1970 to the 48-bit end (10889-08-02), and wraps like the C version outside it', async () => {
    const [r] = await sql<{ n: number; bad: number }[]>`
      with t as (
        select t from generate_series(timestamptz '1970-01-01 00:00:00.000123+00', timestamptz '10889-08-01 00:00:00+00',
                                      interval '3 years 5 months 7 days 11 hours 13 minutes 17.654321 seconds') as t
        union all select unnest(array['1970-01-01 00:00:00+00', '1970-01-01 00:00:00.000999+00', '2038-01-19 03:14:07.999999+00',
                                      '2106-02-07 06:28:15.9995+00', '4253-05-31 22:20:37.927+00', '10889-08-02 05:31:50.655999+00']::timestamptz[])
      )
      select count(*)::int as n,
             count(*) filter (where uuid_v7_to_timestamptz(uuid_timestamptz_to_v7(t, true)) is distinct from date_trunc('milliseconds', t)
                                 or uuid_v7_to_timestamptz(uuid_timestamptz_to_v7(t)) is distinct from date_trunc('milliseconds', t)
                                 or uuid_v7_to_timestamp(uuid_timestamp_to_v7(t at time zone 'UTC')) is distinct from date_trunc('milliseconds', t at time zone 'UTC'))::int as bad
      from t`;
    expect(r!.n).toBeGreaterThan(2500);
    expect(r!.bad).toBe(0);
    // Outside the range there is no round trip: the C version (and this one) wraps silently.
    const out = await sql<{ back: string }[]>`
      select uuid_v7_to_timestamptz(uuid_timestamptz_to_v7(t::timestamptz, true))::text as back
      from unnest(array['1969-12-31 23:59:59.999+00', '10889-08-02 05:31:50.656+00', 'infinity', '-infinity']) with ordinality as x(t, i) order by i`;
    expect(out.map((o) => o.back)).toEqual(['6750-11-25 08:31:56.91+00', '1970-01-01 00:00:00+00', '8850-03-29 19:01:53.783+00', '8850-03-29 19:01:53.783+00']);
  });

  it('zero = true gives the same UUID every time; zero = false keeps the millisecond and randomises the rest', async () => {
    const [r] = await sql`
      with x as (select timestamptz '2023-01-02 04:26:40.637+00' as t),
           r as (select uuid_timestamptz_to_v7(t) as u from x, generate_series(1, 1000))
      select (select uuid_timestamptz_to_v7(t, true) = uuid_timestamptz_to_v7(t, true) from x) as same_zero,
             (select uuid_timestamp_to_v7(t at time zone 'UTC', true) = uuid_timestamp_to_v7(t at time zone 'UTC', true) from x) as same_zero_plain,
             (select count(distinct u)::int from r) as random_distinct,
             (select count(*)::int from r where left(u::text, 13) = '018570bb-4a7d'
                and get_byte(uuid_send(u), 6) >> 4 = 7 and get_byte(uuid_send(u), 8) >> 6 = 2) as well_formed`;
    expect({ ...r }).toEqual({ same_zero: true, same_zero_plain: true, random_distinct: 1000, well_formed: 1000 });
  });

  it('is STRICT: NULL in, NULL out, for every argument', async () => {
    const [r] = await sql`
      select uuid_v7_to_timestamptz(null) is null as a, uuid_v7_to_timestamp(null) is null as b,
             uuid_timestamptz_to_v7(null) is null as c, uuid_timestamptz_to_v7(now(), null) is null as d,
             uuid_timestamp_to_v7(null) is null as e, uuid_timestamp_to_v7(localtimestamp, null) is null as f,
             uuid_timestamptz_to_v7(null, true) is null as g, uuid_timestamp_to_v7(null, true) is null as h`;
    expect(Object.values(r!)).toEqual([true, true, true, true, true, true, true, true]);
  });

  it('timestamp functions read and return UTC whatever TimeZone is; timestamptz functions follow the instant', async () => {
    const seen: Record<string, unknown>[] = [];
    for (const zone of ['UTC', 'America/New_York', 'Asia/Kolkata']) {
      await sql.unsafe(`SET TimeZone = '${zone}'`);
      // The local literal is a parameter cast when the statement runs: a literal in the text would be read once, when it is prepared.
      const [r] = await sql`
        select uuid_timestamp_to_v7(timestamp '2023-01-02 04:26:40.637', true)::text as plain,
               uuid_timestamptz_to_v7(timestamptz '2023-01-02 04:26:40.637+00', true)::text as instant,
               uuid_timestamptz_to_v7(${'2023-01-02 04:26:40.637'}::text::timestamptz, true)::text as local_literal,
               uuid_v7_to_timestamp('018570bb-4a7d-7c7e-8df4-6d47afd8c8fc')::text as decoded_plain,
               uuid_v7_to_timestamptz('018570bb-4a7d-7c7e-8df4-6d47afd8c8fc') = timestamptz '2023-01-02 04:26:40.637+00' as decoded_instant,
               uuid_v7_to_timestamptz('018570bb-4a7d-7c7e-8df4-6d47afd8c8fc')::text as decoded_text`;
      seen.push({ zone, ...r });
    }
    await sql.unsafe("SET TimeZone = 'UTC'");
    expect(seen).toEqual([
      { zone: 'UTC', plain: '018570bb-4a7d-7000-8000-000000000000', instant: '018570bb-4a7d-7000-8000-000000000000', local_literal: '018570bb-4a7d-7000-8000-000000000000', decoded_plain: '2023-01-02 04:26:40.637', decoded_instant: true, decoded_text: '2023-01-02 04:26:40.637+00' },
      { zone: 'America/New_York', plain: '018570bb-4a7d-7000-8000-000000000000', instant: '018570bb-4a7d-7000-8000-000000000000', local_literal: '018571cd-f2fd-7000-8000-000000000000', decoded_plain: '2023-01-02 04:26:40.637', decoded_instant: true, decoded_text: '2023-01-01 23:26:40.637-05' },
      { zone: 'Asia/Kolkata', plain: '018570bb-4a7d-7000-8000-000000000000', instant: '018570bb-4a7d-7000-8000-000000000000', local_literal: '01856f8d-2abd-7000-8000-000000000000', decoded_plain: '2023-01-02 04:26:40.637', decoded_instant: true, decoded_text: '2023-01-02 09:56:40.637+05:30' },
    ]);
  });

  it('ignores the caller’s search_path: look-alike functions and operators in an earlier schema change nothing', async () => {
    await sql.unsafe(`CREATE SCHEMA decoy;
      CREATE FUNCTION decoy.gen_random_uuid() RETURNS uuid LANGUAGE sql AS $$ SELECT '00000000-0000-4000-8000-000000000000'::uuid $$;
      CREATE FUNCTION decoy.uuid_send(uuid) RETURNS bytea LANGUAGE sql AS $$ SELECT '\\x00000000000000000000000000000000'::bytea $$;
      CREATE FUNCTION decoy.encode(bytea, text) RETURNS text LANGUAGE sql AS $$ SELECT '00000000000000000000000000000000' $$;
      CREATE FUNCTION decoy.cat(bytea, bytea) RETURNS bytea LANGUAGE sql AS $$ SELECT $2 || $1 $$;
      CREATE OPERATOR decoy.|| (LEFTARG = bytea, RIGHTARG = bytea, FUNCTION = decoy.cat);`).simple();
    await sql.unsafe('SET search_path = decoy, public, pg_catalog');
    try {
      const [r] = await sql`
        select (select count(distinct u)::int from (select uuid_generate_v7() as u from generate_series(1, 100)) s) as distinct_ids,
               left(uuid_generate_v7()::text, 8) = left(uuid_timestamptz_to_v7(now(), true)::text, 8) as time_first,
               uuid_timestamptz_to_v7(timestamptz '2023-01-02 04:26:40.637+00', true)::text as zero,
               uuid_v7_to_timestamptz('018570bb-4a7d-7c7e-8df4-6d47afd8c8fc') = timestamptz '2023-01-02 04:26:40.637+00' as decoded`;
      expect({ ...r }).toEqual({ distinct_ids: 100, time_first: true, zero: '018570bb-4a7d-7000-8000-000000000000', decoded: true });
    } finally {
      await sql.unsafe('RESET search_path');
      await sql.unsafe('DROP SCHEMA decoy CASCADE');
    }
  });

  it('is relocatable: moved to another schema, every function still works', async () => {
    await withSql(pgAdmin(database), async (s) => {
      await s.unsafe('CREATE SCHEMA moved');
      await s.unsafe('ALTER EXTENSION pg_uuidv7 SET SCHEMA moved');
      try {
        const [r] = await s`select moved.uuid_timestamp_to_v7(timestamp '2023-01-02 04:26:40.637', true)::text as u,
                                   moved.uuid_v7_to_timestamp(moved.uuid_timestamptz_to_v7(timestamptz '2023-01-02 04:26:40.637+00'))::text as t,
                                   moved.uuid_v7_to_timestamptz(moved.uuid_generate_v7()) <= clock_timestamp() as now`;
        expect({ ...r }).toEqual({ u: '018570bb-4a7d-7000-8000-000000000000', t: '2023-01-02 04:26:40.637', now: true });
      } finally {
        await s.unsafe('ALTER EXTENSION pg_uuidv7 SET SCHEMA public');
        await s.unsafe('DROP SCHEMA moved');
      }
    });
  });

  it('is trusted: a role with CREATE on the database can create it, one without cannot', async () => {
    const db = await createDatabase('uuidv7trust');
    await withSql(pgAdmin(db), async (s) => {
      await s.unsafe(`CREATE ROLE ${db}_maker LOGIN PASSWORD 'Maker-Passw0rd-x'; CREATE ROLE ${db}_other LOGIN PASSWORD 'Other-Passw0rd-x';
        GRANT CREATE ON DATABASE ${db} TO ${db}_maker; GRANT CREATE ON SCHEMA public TO ${db}_maker;`).simple();
    });
    const as = (user: string, password: string) => ({ ...pgAdmin(db), user, password });
    await expect(withSql(as(`${db}_other`, 'Other-Passw0rd-x'), (s) => s.unsafe('CREATE EXTENSION pg_uuidv7'))).rejects.toThrow(/permission denied/);
    const owner = await withSql(as(`${db}_maker`, 'Maker-Passw0rd-x'), async (s) => {
      await s.unsafe('CREATE EXTENSION pg_uuidv7');
      const [r] = await s`select r.rolname as owner, uuid_timestamptz_to_v7(timestamptz '2023-01-02 04:26:40.637+00', true)::text as u
                          from pg_extension e join pg_roles r on r.oid = e.extowner where e.extname = 'pg_uuidv7'`;
      return { ...r };
    });
    expect(owner).toEqual({ owner: `${db}_maker`, u: '018570bb-4a7d-7000-8000-000000000000' });
  });
});
