import { performance } from 'node:perf_hooks';
import { connect, type Sql } from '../../core/db/connect.ts';
import type { Benchmark } from '../lib/context.ts';
import { indexesUsed, planRoot } from '../lib/plan.ts';
import { dropDatabase, provision } from '../lib/servers.ts';
import { alternate } from '../lib/timing.ts';
import { formatBytes, formatRatio } from '../lib/stats.ts';
import { IMPLEMENTATION_LABEL, uuidV7Status } from '../../core/extensions/uuidv7.ts';

/**
 * UUIDv7 against random (v4) UUIDs as primary keys: the design record's "time-ordered for
 * better indexing". Two identical tables differ only in the key's DEFAULT; everything runs
 * server-side so the client is never the bottleneck. The v7 keys come from whichever
 * pg_uuidv7 the server has; on the embedded PostgreSQL 17 that is our SQL one.
 */

/** The body migration 0001 used to install where pg_uuidv7 was missing, kept to measure against. */
const PLPGSQL_V7 = `
DECLARE
  micros bigint := (extract(epoch FROM clock_timestamp()) * 1000000)::bigint;
  sub_ms int := ((micros % 1000) * 4096 / 1000)::int;
  b bytea := uuid_send(gen_random_uuid());
BEGIN
  b := overlay(b PLACING substring(int8send(micros / 1000) FROM 3) FROM 1 FOR 6);
  b := set_byte(b, 6, 112 | (sub_ms >> 8));
  b := set_byte(b, 7, sub_ms & 255);
  RETURN encode(b, 'hex')::uuid;
END`;

type Kind = 'v7' | 'v4';
const KINDS: readonly Kind[] = ['v7', 'v4'];
const GENERATOR: Record<Kind, string> = { v7: 'uuid_generate_v7()', v4: 'gen_random_uuid()' };

export function tableSql(kind: Kind): string {
  return `CREATE TABLE keyed_${kind} (
  id uuid PRIMARY KEY DEFAULT ${GENERATOR[kind]},
  n integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
)`;
}

/** One batch of a bulk load: rows first..last, keys from the column default. */
export function batchInsertSql(kind: Kind, first: number, last: number): string {
  return `INSERT INTO keyed_${kind} (n) SELECT g FROM generate_series(${first}, ${last}) AS g`;
}

/** Batch boundaries [first, last] covering 1..rows. */
export function batches(rows: number, size: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let first = 1; first <= rows; first += size) out.push([first, Math.min(rows, first + size - 1)]);
  return out;
}

/**
 * Row counts at which a bulk load records its index size and elapsed time, for the charts: a
 * tenth, a quarter, half and all of the rows, each at the end of a batch. Pure.
 */
export function checkpoints(plan: ReadonlyArray<readonly [number, number]>, rows: number): number[] {
  const ends = plan.map(([, last]) => last);
  return [...new Set([0.1, 0.25, 0.5, 1].map((f) => ends.find((e) => e >= f * rows)!))];
}

async function pkeySize(sql: Sql, kind: Kind): Promise<number> {
  const [r] = await sql<{ size: bigint }[]>`select pg_relation_size(${`keyed_${kind}_pkey`}::regclass) as size`;
  return Number(r!.size);
}

async function walLsn(sql: Sql): Promise<string> {
  const [r] = await sql<{ lsn: string }[]>`select pg_current_wal_insert_lsn()::text as lsn`;
  return r!.lsn;
}

async function walSince(sql: Sql, lsn: string): Promise<number> {
  const [r] = await sql<{ bytes: string }[]>`select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), ${lsn}::pg_lsn)::text as bytes`;
  return Number(r!.bytes);
}

export const uuidBenchmark: Benchmark = {
  id: 'uuid',
  title: 'UUIDv7 vs random UUIDs as primary keys',
  question:
    'Design record: UUIDv7 keys are "time-ordered for better indexing than random UUIDs". Targets: primary-key index size v7/v4 ≤ 0.8; uuid_generate_v7() throughput ≥ 0.6 × gen_random_uuid(); insert time with keys from the column DEFAULT v7/v4 ≤ 0.8.',
  async run(ctx, rec) {
    const s = ctx.scale.uuid;
    const server = await ctx.pg17();
    rec.server(server.version, server.binDir);
    const database = 'bench_uuid';
    await dropDatabase(server, database);
    const db = await provision(server, database);
    const sql = connect(db.admin, { max: Math.max(2, s.appWorkers), applicationName: 'pgsteward bench uuid' });
    try {
      const status = await uuidV7Status(sql);
      if (!status) throw new Error('the provisioned database has no pg_uuidv7');
      rec.param('uuid_generate_v7() implementation', `${IMPLEMENTATION_LABEL[status.implementation]} pg_uuidv7 ${status.version}`);
      rec.param('rows per table', s.rows).param('batch size', s.batch).param('random-key lookups', s.lookups);
      rec.param('keys generated per throughput run', s.generated);
      rec.param('app-like rows per table', s.appRows).param('app-like sessions × rows per statement', `${s.appWorkers} × ${s.appBatch}`);
      for (const kind of KINDS) await sql.unsafe(tableSql(kind));

      // 1. Key generation alone; the PL/pgSQL look-alike migration 0001 used to install runs alongside, for comparison.
      ctx.log(`key generation: ${s.generated.toLocaleString('en-US')} keys per run`);
      await sql.unsafe(`CREATE SCHEMA bench_alt; CREATE FUNCTION bench_alt.plpgsql_v7() RETURNS uuid LANGUAGE plpgsql VOLATILE PARALLEL SAFE AS $$${PLPGSQL_V7}$$`).simple();
      const gen = await alternate(
        ctx.scale.reps,
        {
          v7: () => sql.unsafe(`SELECT count(uuid_generate_v7()) FROM generate_series(1, ${s.generated})`),
          v4: () => sql.unsafe(`SELECT count(gen_random_uuid()) FROM generate_series(1, ${s.generated})`),
          plpgsql: () => sql.unsafe(`SELECT count(bench_alt.plpgsql_v7()) FROM generate_series(1, ${s.generated})`),
        },
        { warmup: 1 },
      );
      rec.measure('generate_v7', `generate ${s.generated.toLocaleString('en-US')} keys with uuid_generate_v7()`, 'ms', gen.v7);
      rec.measure('generate_v4', `generate ${s.generated.toLocaleString('en-US')} keys with gen_random_uuid()`, 'ms', gen.v4);
      rec.measure('rate_v7', 'uuid_generate_v7() throughput', 'rows/s', gen.v7.map((ms) => (s.generated * 1000) / ms));
      rec.measure('rate_v4', 'gen_random_uuid() throughput', 'rows/s', gen.v4.map((ms) => (s.generated * 1000) / ms));
      rec.ratio('throughput', 'throughput of uuid_generate_v7() relative to gen_random_uuid()', 'rate_v7', 'rate_v4', { target: { op: '>=', value: 0.6 } });

      rec.measure('rate_plpgsql', 'PL/pgSQL look-alike (the former migration 0001) throughput', 'rows/s', gen.plpgsql.map((ms) => (s.generated * 1000) / ms));
      rec.ratio('throughput_plpgsql', 'throughput of the former PL/pgSQL look-alike relative to gen_random_uuid()', 'rate_plpgsql', 'rate_v4');

      const plan = batches(s.rows, s.batch);
      const sizes: Record<Kind, number[]> = { v7: [], v4: [] };
      const wal: Record<Kind, number[]> = { v7: [], v4: [] };
      let lsn = '';
      const fresh = {
        before: async (kind: Kind) => {
          await sql.unsafe(`TRUNCATE keyed_${kind}`);
          await sql.unsafe('CHECKPOINT');
          lsn = await walLsn(sql);
        },
        after: async (kind: Kind, rep: number) => {
          if (rep < 0) return;
          wal[kind].push(await walSince(sql, lsn));
          sizes[kind].push(await pkeySize(sql, kind));
        },
      };

      // 2. Bulk load with keys generated beforehand: the index's share of the cost, without the generator's.
      ctx.log('bulk insert with pre-generated keys');
      for (const kind of KINDS) {
        await sql.unsafe(`CREATE UNLOGGED TABLE keys_${kind} (n integer PRIMARY KEY, id uuid NOT NULL)`);
        await sql.unsafe(`INSERT INTO keys_${kind} SELECT g, ${GENERATOR[kind]} FROM generate_series(1, ${s.rows}) AS g`);
      }
      const pre = await alternate(
        ctx.scale.reps,
        Object.fromEntries(
          KINDS.map((kind) => [
            kind,
            async () => {
              for (const [a, b] of plan) await sql.unsafe(`INSERT INTO keyed_${kind} (id, n) SELECT id, n FROM keys_${kind} WHERE n BETWEEN ${a} AND ${b} ORDER BY n`);
            },
          ]),
        ) as Record<Kind, () => Promise<void>>,
        fresh,
      );
      rec.measure('pregen_insert_v7', `insert ${s.rows.toLocaleString('en-US')} pre-generated v7 keys in batches of ${s.batch.toLocaleString('en-US')}`, 'ms', pre.v7);
      rec.measure('pregen_insert_v4', `insert ${s.rows.toLocaleString('en-US')} pre-generated v4 keys in batches of ${s.batch.toLocaleString('en-US')}`, 'ms', pre.v4);
      rec.ratio('pregen_insert', 'insert time v7/v4, keys generated beforehand (index cost only)', 'pregen_insert_v7', 'pregen_insert_v4');
      for (const kind of KINDS) await sql.unsafe(`DROP TABLE keys_${kind}`);
      sizes.v7 = [];
      sizes.v4 = [];
      wal.v7 = [];
      wal.v4 = [];

      // 3. Bulk load the way the schema does it: keys from the column DEFAULT.
      ctx.log(`bulk insert: ${s.rows.toLocaleString('en-US')} rows per table in batches of ${s.batch.toLocaleString('en-US')}`);
      // Along the way, at a few row counts, the index size and the time so far (the size query's own time left out).
      const marks = checkpoints(plan, s.rows);
      const curve: Record<Kind, Map<number, { ms: number[]; bytes: number[] }>> = { v7: new Map(), v4: new Map() };
      const bulk = await alternate(
        ctx.scale.reps,
        Object.fromEntries(
          KINDS.map((kind) => [
            kind,
            async () => {
              const t0 = performance.now();
              let paused = 0;
              for (const [a, b] of plan) {
                await sql.unsafe(batchInsertSql(kind, a, b));
                if (!marks.includes(b)) continue;
                const p0 = performance.now();
                const bytes = await pkeySize(sql, kind);
                const point = curve[kind].get(b) ?? { ms: [], bytes: [] };
                point.ms.push(p0 - t0 - paused);
                point.bytes.push(bytes);
                curve[kind].set(b, point);
                paused += performance.now() - p0;
              }
            },
          ]),
        ) as Record<Kind, () => Promise<void>>,
        fresh,
      );
      for (const kind of KINDS) {
        for (const n of marks) {
          const point = curve[kind].get(n)!;
          rec.measure(`insert_${kind}_at_${n}`, `${kind} bulk insert: time to ${n.toLocaleString('en-US')} rows`, 'ms', point.ms);
          rec.measure(`pkey_${kind}_at_${n}`, `${kind} bulk insert: primary-key index size at ${n.toLocaleString('en-US')} rows`, 'bytes', point.bytes);
        }
      }
      rec.measure('insert_v7', `insert ${s.rows.toLocaleString('en-US')} rows, key DEFAULT uuid_generate_v7()`, 'ms', bulk.v7);
      rec.measure('insert_v4', `insert ${s.rows.toLocaleString('en-US')} rows, key DEFAULT gen_random_uuid()`, 'ms', bulk.v4);
      rec.measure('wal_v7', 'WAL written by one v7 bulk insert', 'bytes', wal.v7);
      rec.measure('wal_v4', 'WAL written by one v4 bulk insert', 'bytes', wal.v4);
      rec.measure('pkey_v7', 'v7 primary-key index size after batched inserts', 'bytes', sizes.v7);
      rec.measure('pkey_v4', 'v4 primary-key index size after batched inserts', 'bytes', sizes.v4);
      rec.ratio('insert', 'insert time v7/v4 (keys from the column DEFAULT)', 'insert_v7', 'insert_v4', { target: { op: '<=', value: 0.8 } });
      rec.ratio('wal', 'WAL volume v7/v4', 'wal_v7', 'wal_v4');

      // The former look-alike put sub-millisecond time where pg_uuidv7 puts random bits: one load shows what that does to the index.
      await sql.unsafe(tableSql('v7').replace('keyed_v7', 'bench_alt.keyed').replace('uuid_generate_v7()', 'bench_alt.plpgsql_v7()'));
      for (const [a, b] of plan) await sql.unsafe(`INSERT INTO bench_alt.keyed (n) SELECT g FROM generate_series(${a}, ${b}) AS g`);
      const [altSize] = await sql<{ size: bigint }[]>`select pg_relation_size('bench_alt.keyed_pkey'::regclass) as size`;
      rec.measure('pkey_alt', 'former PL/pgSQL look-alike: primary-key index size after batched inserts', 'bytes', [Number(altSize!.size)]);
      rec.ratio('pkey_alt', 'index size after batched inserts, former look-alike (sub-millisecond time in rand_a) / v4', 'pkey_alt', 'pkey_v4');
      await sql.unsafe('DROP SCHEMA bench_alt CASCADE');

      // 4. Point lookups of random existing keys, one index probe each, all in one statement.
      ctx.log(`lookups: ${s.lookups.toLocaleString('en-US')} random keys`);
      await sql.unsafe('VACUUM ANALYZE keyed_v7, keyed_v4');
      const keys: Record<Kind, string[]> = { v7: [], v4: [] };
      for (const kind of KINDS) {
        keys[kind] = (await sql.unsafe<{ id: string }[]>(`SELECT id::text AS id FROM keyed_${kind} ORDER BY random() LIMIT ${s.lookups}`)).map((r) => r.id);
      }
      const lookupSql = (kind: Kind) => `SELECT count(*) AS found, sum(t.n) AS total FROM unnest($1::uuid[]) AS k(id) JOIN keyed_${kind} AS t ON t.id = k.id`;
      const lookupConn = await sql.reserve();
      try {
        // Force one index probe per key: a hash join would read the whole table instead.
        await lookupConn.unsafe('SET enable_hashjoin = off');
        await lookupConn.unsafe('SET enable_mergejoin = off');
        await lookupConn.unsafe('SET enable_seqscan = off');
        for (const kind of KINDS) {
          const [explained] = await lookupConn.unsafe(`EXPLAIN (FORMAT JSON) ${lookupSql(kind)}`, [keys[kind]]);
          const used = indexesUsed(planRoot(explained!['QUERY PLAN']));
          if (!used.includes(`keyed_${kind}_pkey`)) rec.note(`lookup plan for ${kind} did not use its primary key (${used.join(', ') || 'no index'}).`);
        }
        const misses = new Set<Kind>();
        const look = await alternate(
          ctx.scale.queryReps,
          Object.fromEntries(
            KINDS.map((kind) => [
              kind,
              async () => {
                const [r] = await lookupConn.unsafe(lookupSql(kind), [keys[kind]]);
                if (Number(r!.found) !== keys[kind].length) misses.add(kind);
              },
            ]),
          ) as Record<Kind, () => Promise<void>>,
          { warmup: 1 },
        );
        if (misses.size) rec.note(`some lookups did not find every key (${[...misses].join(', ')}): the numbers are suspect.`);
        rec.measure('lookup_v7', `look up ${s.lookups.toLocaleString('en-US')} random v7 keys`, 'ms', look.v7);
        rec.measure('lookup_v4', `look up ${s.lookups.toLocaleString('en-US')} random v4 keys`, 'ms', look.v4);
      } finally {
        await lookupConn.unsafe('RESET ALL').catch(() => {});
        lookupConn.release();
      }
      rec.ratio('lookup', `lookup time for ${s.lookups.toLocaleString('en-US')} random keys v7/v4`, 'lookup_v7', 'lookup_v4');

      // 5. The same rows with the index built in one sorted pass, as pg_restore or REINDEX builds it.
      for (const kind of KINDS) await sql.unsafe(`REINDEX INDEX keyed_${kind}_pkey`);
      rec.measure('pkey_sorted_v7', 'v7 primary-key index size when built after loading (REINDEX, pg_restore)', 'bytes', [await pkeySize(sql, 'v7')]);
      rec.measure('pkey_sorted_v4', 'v4 primary-key index size when built after loading (REINDEX, pg_restore)', 'bytes', [await pkeySize(sql, 'v4')]);
      rec.ratio('pkey_sorted', 'index size v7/v4 when the index is built after loading', 'pkey_sorted_v7', 'pkey_sorted_v4');

      // 6. App-like: several sessions, each committing small inserts, interleaved with one another.
      ctx.log(`app-like inserts: ${s.appRows.toLocaleString('en-US')} rows per table from ${s.appWorkers} sessions`);
      sizes.v7 = [];
      sizes.v4 = [];
      wal.v7 = [];
      wal.v4 = [];
      const appLoad = (kind: Kind) => async () => {
        let next = 1;
        await Promise.all(
          Array.from({ length: s.appWorkers }, async () => {
            while (next <= s.appRows) {
              const first = next;
              next += s.appBatch;
              await sql.unsafe(batchInsertSql(kind, first, Math.min(s.appRows, first + s.appBatch - 1)));
            }
          }),
        );
      };
      const app = await alternate(ctx.scale.reps, { v7: appLoad('v7'), v4: appLoad('v4') }, fresh);
      rec.measure('app_insert_v7', `app-like insert of ${s.appRows.toLocaleString('en-US')} v7 rows`, 'ms', app.v7);
      rec.measure('app_insert_v4', `app-like insert of ${s.appRows.toLocaleString('en-US')} v4 rows`, 'ms', app.v4);
      rec.measure('app_pkey_v7', 'v7 primary-key index size after app-like inserts', 'bytes', sizes.v7);
      rec.measure('app_pkey_v4', 'v4 primary-key index size after app-like inserts', 'bytes', sizes.v4);
      rec.ratio('app_insert', 'app-like insert time v7/v4', 'app_insert_v7', 'app_insert_v4');
      rec.ratio('app_pkey', 'index size v7/v4 after app-like interleaved inserts', 'app_pkey_v7', 'app_pkey_v4', { target: { op: '<=', value: 0.8 } });

      const headline = rec.ratio('pkey', 'primary-key index size v7/v4 after batched inserts', 'pkey_v7', 'pkey_v4', { target: { op: '<=', value: 0.8 }, headline: true });
      const sorted = rec.result.ratios.find((r) => r.key === 'pkey_sorted')!;
      const appSize = rec.result.ratios.find((r) => r.key === 'app_pkey')!;
      const alt = rec.result.ratios.find((r) => r.key === 'pkey_alt')!;
      rec.note(
        `Index size: pg_uuidv7 keys sort by millisecond only; the 74 bits after the timestamp are random, in the C extension and in ours alike. ` +
          `Built row by row from a few keys per millisecond, a v7 index grows at its right edge, where B-tree splits leave pages 90% full, while random v4 keys split pages all over the index, which settle about 70% full: ` +
          `after app-like interleaved inserts v7/v4 = ${formatRatio(appSize.value)} (target ≤ 0.8: ${appSize.verdict}). ` +
          `A batched bulk insert makes hundreds of keys per millisecond; they reach the rightmost pages in random order, which then split in the middle: v7/v4 = ${formatRatio(headline.value)} (target ≤ 0.8: ${headline.verdict}). ` +
          `The former PL/pgSQL look-alike filled those 12 bits with sub-millisecond time instead (RFC 9562 method 3, as PostgreSQL 18's uuidv7() does), which keeps a bulk load in order: ${formatRatio(alt.value)}. ` +
          `Built in one sorted pass (REINDEX, pg_restore, CREATE INDEX after a load) both are packed alike: ${formatRatio(sorted.value)}; here ${formatBytes(rec.get('pkey_v7').median)} vs ${formatBytes(rec.get('pkey_v4').median)} before the rebuild.`,
      );
      const gen7 = rec.result.ratios.find((r) => r.key === 'throughput')!;
      const ins = rec.result.ratios.find((r) => r.key === 'insert')!;
      const pregen = rec.result.ratios.find((r) => r.key === 'pregen_insert')!;
      rec.note(
        `Insert time: with keys generated beforehand only the index differs, and v7/v4 = ${formatRatio(pregen.value)}. With keys from the column DEFAULT the generator's cost is added: ` +
          `uuid_generate_v7() runs at ${formatRatio(gen7.value)} of gen_random_uuid()'s throughput (target ≥ 0.6: ${gen7.verdict}), so the DEFAULT-keyed insert comes to ${formatRatio(ins.value)} (target ≤ 0.8: ${ins.verdict}). ` +
          'Both generators spend most of their time in pg_strong_random(); the SQL one adds reading the clock and one text-to-uuid conversion, since PostgreSQL 17 has no bytea-to-uuid cast. ' +
          'At this size both indexes fit in shared_buffers; random keys hurt far more once the index outgrows memory. The WAL ratio is the first sign of that cost: random keys dirty pages all over the index, so more full-page images follow each checkpoint.',
      );
    } finally {
      await sql.end({ timeout: 5 });
      await dropDatabase(server, database);
    }
  },
};
