import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { withConnection } from '../../core/db/connect.ts';
import { compareDatabases } from '../../core/drift/detect.ts';
import { withReference, type Reference } from '../../core/drift/reference.ts';
import { readMigrations, type Migration } from '../../core/migrations/files.ts';
import { MIGRATIONS_DIR, REPO_ROOT } from '../../core/paths.ts';
import { Unavailable, type Benchmark } from '../lib/context.ts';
import { dropDatabase, provision, type BenchDatabase, type BenchServer } from '../lib/servers.ts';
import { alternate } from '../lib/timing.ts';
import { median } from '../lib/stats.ts';

/**
 * The checks suite on schemas from a few tables to thousands. A suite that asks the catalog
 * set-wise makes the same number of round trips whatever the schema's size; one that loops
 * over tables makes a hundred times more. One that fetches a row per passing subject and
 * examines it in JavaScript makes the same round trips but grows anyway: the sizes in between
 * show the shape of that growth (results.json keeps every size for the charts).
 */

/** checks/suite.ts's runChecks, typed from the module itself but loaded at run time, so a checkout without it still runs the other benchmarks. */
type RunChecks = (typeof import('../../checks/suite.ts'))['runChecks'];

const SUITE = path.join(REPO_ROOT, 'checks', 'suite.ts');

async function loadSuite(): Promise<RunChecks> {
  if (!existsSync(SUITE)) throw new Unavailable('checks/suite.ts is not present in this checkout');
  const mod = (await import(pathToFileURL(SUITE).href)) as { runChecks?: RunChecks };
  if (typeof mod.runChecks !== 'function') throw new Unavailable('checks/suite.ts does not export runChecks');
  return mod.runChecks;
}

/**
 * One generated table the way our schema writes them: UUIDv7 key, a foreign key to users and
 * one to the previous generated table, an index on each, and the updated_at trigger.
 */
export function generatedTableSql(i: number): string[] {
  const t = `gen_${String(i).padStart(4, '0')}`;
  const parent = i > 1 ? `,\n  parent_id uuid REFERENCES gen_${String(i - 1).padStart(4, '0')} (id) ON DELETE SET NULL` : '';
  return [
    `CREATE TABLE ${t} (
  id uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE${parent},
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
)`,
    `CREATE INDEX ${t}_user_id_idx ON ${t} (user_id)`,
    ...(i > 1 ? [`CREATE INDEX ${t}_parent_id_idx ON ${t} (parent_id)`] : []),
    `CREATE TRIGGER ${t}_set_updated_at BEFORE UPDATE ON ${t} FOR EACH ROW EXECUTE FUNCTION set_updated_at()`,
  ];
}

/** Tables per generated migration: each migration is one transaction, and its locks must fit the server's lock table. */
const TABLES_PER_MIGRATION = 250;

/**
 * Our migrations plus generated ones that create `count` tables, written into a folder of their
 * own: the databases are built by these migrations, so schema-drift finds nothing, and the checks
 * compare the ledger with this folder, so migration-state finds nothing either.
 */
export function writeMigrationsWith(dir: string, count: number): Migration[] {
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(MIGRATIONS_DIR).filter((x) => x.endsWith('.sql'))) copyFileSync(path.join(MIGRATIONS_DIR, f), path.join(dir, f));
  for (let first = 1, part = 1; first <= count; first += TABLES_PER_MIGRATION, part++) {
    const statements: string[] = [];
    for (let i = first; i < Math.min(count + 1, first + TABLES_PER_MIGRATION); i++) statements.push(...generatedTableSql(i));
    writeFileSync(path.join(dir, `${9000 + part}_generated_tables_${first}.sql`), statements.join(';\n') + ';\n');
  }
  return readMigrations(dir);
}

interface Prepared {
  db: BenchDatabase;
  migrationsDir: string;
  migrations: Migration[];
  counts: { tables: number; indexes: number; triggers: number; fks: number };
}

async function prepare(server: BenchServer, stateDir: string, database: string, tables: number): Promise<Prepared> {
  await dropDatabase(server, database);
  const migrationsDir = path.join(stateDir, `checks-migrations-${tables}`);
  rmSync(migrationsDir, { recursive: true, force: true });
  const migrations = writeMigrationsWith(migrationsDir, tables);
  const db = await provision(server, database, migrations);
  const counts = await withConnection(db.admin, { applicationName: 'pgsteward bench checks' }, async (sql) => {
    await sql.unsafe('ANALYZE');
    const [n] = await sql<{ tables: number; indexes: number; triggers: number; fks: number }[]>`
      select (select count(*)::int from pg_tables where schemaname = 'public') as tables,
             (select count(*)::int from pg_indexes where schemaname = 'public') as indexes,
             (select count(*)::int from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and not t.tgisinternal) as triggers,
             (select count(*)::int from pg_constraint where contype = 'f' and connamespace = 'public'::regnamespace) as fks`;
    return n!;
  });
  return { db, migrationsDir, migrations, counts };
}

const databaseFor = (tables: number) => `bench_checks_${tables}`;

/** Runs `fn` with a drift reference built for every size (scratch databases on the bench server), and how long each took to build. */
async function withReferences<T>(server: BenchServer, sizes: readonly number[], prepared: Map<number, Prepared>, fn: (refs: Map<number, { ref: Reference; buildMs: number }>) => Promise<T>): Promise<T> {
  const refs = new Map<number, { ref: Reference; buildMs: number }>();
  const next = async (i: number): Promise<T> => {
    if (i === sizes.length) return fn(refs);
    const n = sizes[i]!;
    const t0 = performance.now();
    return withReference({ kind: 'local', admin: server.admin, database: databaseFor(n), major: server.major, migrations: prepared.get(n)!.migrations }, async (ref) => {
      refs.set(n, { ref, buildMs: performance.now() - t0 });
      return next(i + 1);
    });
  };
  return next(0);
}

const DRIFT = 'schema-drift';

export const checksBenchmark: Benchmark = {
  id: 'checks',
  title: 'Checks suite scaling: time and round trips against schema size, schema drift included',
  question:
    'The checks suite on schemas of growing size (generated tables with foreign keys, indexes and triggers, built by migrations). Targets: 1,000 tables cost at most 2× the time of 10 (the suite without schema-drift, whose reference build is the migrations\' own cost); schema drift\'s comparison (both catalogs read and compared, building the reference excluded) on 1,000 tables costs at most 3× that on 10; and every size makes the same number of SQL round trips, check by check, schema-drift included.',
  async run(ctx, rec) {
    const runChecks = await loadSuite();
    const { fewTables, manyTables, tables: sizes } = ctx.scale.checks;
    const server = await ctx.pg17();
    rec.server(server.version, server.binDir);
    ctx.log(`migrating databases with ${sizes.join(', ')} generated tables`);
    const prepared = new Map<number, Prepared>();
    try {
      for (const n of sizes) prepared.set(n, await prepare(server, ctx.stateDir, databaseFor(n), n));
      rec.param('schema sizes (generated tables)', sizes.map((n) => n.toLocaleString('en-US')).join(', '));
      for (const n of sizes) {
        const c = prepared.get(n)!.counts;
        rec.param(`${n} tables: tables / indexes / triggers / foreign keys in public`, `${c.tables} / ${c.indexes} / ${c.triggers} / ${c.fks}`);
      }
      const optsFor = (n: number) => {
        const p = prepared.get(n)!;
        return { connection: p.db.admin, roles: p.db.roles, migrationsDir: p.migrationsDir, target: { kind: 'local' as const, admin: server.admin } };
      };
      const queries = new Map<number, number[]>(sizes.map((n) => [n, []]));
      const perCheck = new Map<number, Map<string, { ms: number[]; queries: number[] }>>(sizes.map((n) => [n, new Map()]));
      const outcomes = new Map<number, string>();
      const keep = (n: number, r: Awaited<ReturnType<RunChecks>>) => {
        queries.get(n)!.push(r.queries);
        outcomes.set(n, `${r.summary.passed} passed, ${r.summary.failed} failed, ${r.summary.warnings} warnings`);
        for (const c of r.results) {
          const m = perCheck.get(n)!;
          const e = m.get(c.id) ?? { ms: [], queries: [] };
          e.ms.push(c.durationMs);
          e.queries.push(c.queries);
          m.set(c.id, e);
        }
      };
      // The suite as a whole, timed: schema-drift builds its reference (the migrations' own
      // cost, linear in the schema) on every run, so the suite's time target is without it.
      ctx.log(`running the checks suite (without ${DRIFT}, timed)`);
      const steps = Object.fromEntries(sizes.map((n) => [String(n), async () => keep(n, await runChecks({ ...optsFor(n), skip: [DRIFT] }))]));
      const t = await alternate(ctx.scale.reps, steps, { warmup: 1 });
      // schema-drift as the suite runs it, once per size: its round trips and its whole cost, reference build included.
      ctx.log(`running ${DRIFT} through the suite, once per size`);
      const driftRun = new Map<number, { queries: number; ms: number; status: string; findings: number }>();
      for (const n of sizes) {
        const r = (await runChecks({ ...optsFor(n), only: [DRIFT] })).results[0]!;
        if (r.status === 'error') throw new Error(`${DRIFT} could not run on ${n} tables: ${r.error}`);
        driftRun.set(n, { queries: r.queries, ms: r.durationMs, status: r.status, findings: r.findings.length });
      }
      for (const n of sizes) {
        // Warm-up runs counted their queries too; keep only the timed runs'.
        const q = queries.get(n)!.slice(-ctx.scale.reps);
        queries.set(n, q);
        for (const e of perCheck.get(n)!.values()) (e.ms = e.ms.slice(-ctx.scale.reps)), (e.queries = e.queries.slice(-ctx.scale.reps));
        const d = driftRun.get(n)!;
        perCheck.get(n)!.set(DRIFT, { ms: [d.ms], queries: [d.queries] });
        rec.param(`${n} tables: outcome`, `${outcomes.get(n)!}; ${DRIFT} ${d.status} (${d.findings} findings) in ${(d.ms / 1000).toFixed(1)} s with its reference build`);
        rec.measure(`time_${n}`, `runChecks on ${n} generated tables (without ${DRIFT})`, 'ms', t[String(n)]!);
        rec.measure(`queries_${n}`, `SQL round trips, ${n} tables (without ${DRIFT})`, 'queries', q);
      }

      // Drift's comparison, timed apart from building the reference (the issue's target): each
      // size's reference is built once, then both catalogs are read and compared, alternating.
      ctx.log('building drift references, then timing the comparison');
      const driftObjects = new Map<number, number>();
      await withReferences(server, sizes, prepared, async (refs) => {
        for (const n of sizes) rec.param(`${n} tables: drift reference built in (ms, once, not timed below)`, Math.round(refs.get(n)!.buildMs));
        const driftQueries = new Map<number, number[]>(sizes.map((n) => [n, []]));
        const driftOutcome = new Map<number, string>();
        const compare = Object.fromEntries(
          sizes.map((n) => [
            String(n),
            async () => {
              const p = prepared.get(n)!;
              const { ref } = refs.get(n)!;
              const r = await compareDatabases({ connection: p.db.admin, roles: p.db.roles }, { connection: ref.connection, roles: ref.roles });
              driftQueries.get(n)!.push(r.queries.live + r.queries.reference);
              driftOutcome.set(n, `${r.findings.length} findings, ${r.live.objects.size} objects per side`);
              driftObjects.set(n, r.live.objects.size);
            },
          ]),
        );
        const dt = await alternate(ctx.scale.queryReps, compare, { warmup: 1 });
        for (const n of sizes) {
          rec.param(`${n} tables: drift comparison outcome`, driftOutcome.get(n)!);
          rec.measure(`drift_time_${n}`, `drift comparison, ${n} generated tables`, 'ms', dt[String(n)]!);
          rec.measure(`drift_queries_${n}`, `drift comparison SQL round trips (both sides), ${n} tables`, 'queries', driftQueries.get(n)!.slice(-ctx.scale.queryReps));
        }
      });

      const largest = sizes[sizes.length - 1]!;
      const smallest = sizes[0]!;
      for (const n of sizes.filter((x) => x !== smallest && x !== manyTables)) rec.ratio(`time_${n}`, `time ${n}/${smallest} tables`, `time_${n}`, `time_${smallest}`);
      for (const n of sizes.filter((x) => x !== smallest && x !== manyTables)) rec.ratio(`drift_time_${n}`, `drift comparison time ${n}/${smallest} tables`, `drift_time_${n}`, `drift_time_${smallest}`);
      rec.ratio('drift_queries', `drift comparison SQL round trips ${largest}/${smallest} tables`, `drift_queries_${largest}`, `drift_queries_${smallest}`, { target: { op: '<=', value: 1 } });
      rec.ratio('queries', `SQL round trips ${largest}/${smallest} tables`, `queries_${largest}`, `queries_${smallest}`, { target: { op: '<=', value: 1 }, headline: true });
      const driftTime = rec.ratio('drift_time', `drift comparison time ${manyTables}/${fewTables} tables`, `drift_time_${manyTables}`, `drift_time_${fewTables}`, { target: { op: '<=', value: 3 }, headline: true });
      const time = rec.ratio('time', `time ${manyTables}/${fewTables} tables`, `time_${manyTables}`, `time_${fewTables}`, { target: { op: '<=', value: 2 }, headline: true });

      // Round trips per check must not depend on the size: compare every size with the smallest.
      const tripsOf = (n: number) => [...perCheck.get(n)!.entries()].map(([id, e]) => `${id} ${median(e.queries)}`).join('; ');
      const sameTrips = sizes.every((n) => tripsOf(n) === tripsOf(smallest));
      rec.param('per check, SQL round trips (every size)', sameTrips ? tripsOf(smallest) : sizes.map((n) => `${n}: ${tripsOf(n)}`).join(' | '));
      const ids = [...perCheck.get(largest)!.keys()].filter((id) => id !== DRIFT);
      const msOf = (n: number, id: string) => median(perCheck.get(n)!.get(id)?.ms ?? [0]);
      const growth = ids.map((id) => ({ id, ms: sizes.map((n) => msOf(n, id)) })).sort((a, b) => b.ms.at(-1)! - b.ms[0]! - (a.ms.at(-1)! - a.ms[0]!));
      rec.param(`per check, ms (medians at ${sizes.join(' / ')} tables)`, growth.map((g) => `${g.id} ${g.ms.map((x) => x.toFixed(0)).join(' / ')}`).join('; '));
      rec.param(`${DRIFT} through the suite, ms with its reference build (one run at ${sizes.join(' / ')} tables)`, sizes.map((n) => driftRun.get(n)!.ms.toFixed(0)).join(' / '));

      const q = sizes.every((n) => rec.get(`queries_${n}`).median === rec.get(`queries_${smallest}`).median);
      rec.note(
        `${manyTables / fewTables}× the tables cost ${time.value?.toFixed(2)}× the suite's time without ${DRIFT} (target ≤ 2: ${time.verdict}); ` +
          `${q ? 'every size made exactly the same number of' : 'the sizes made different numbers of'} SQL round trips (${sizes.map((n) => rec.get(`queries_${n}`).median).join(', ')})` +
          `${sameTrips ? `, check by check, ${DRIFT} included` : ''}. The round-trip target is written as a ratio ≤ 1: equal counts give 1.00.`,
      );
      rec.note(
        `Schema drift: ${manyTables / fewTables}× the tables cost ${driftTime.value?.toFixed(2)}× the comparison time (target ≤ 3: ${driftTime.verdict}), with ` +
          `${sizes.every((n) => rec.get(`drift_queries_${n}`).median === rec.get(`drift_queries_${smallest}`).median) ? 'the same' : 'different'} SQL round trips at every size (${rec.get(`drift_queries_${smallest}`).median}, both sides together). ` +
          'Each side is read in one read-only transaction, its queries pipelined on one connection, the two sides at once. Building the reference is outside the timed part: it is the migrations\' own cost (the parameters give it per size).',
      );
      rec.note(
        'Each catalog check decides in SQL which subjects pass and returns those as counts (rows only with --verbose), so what still grows with the schema is the server reading its catalog, not the client reading rows.',
      );
      if (driftTime.verdict === 'refuted' && driftObjects.size) {
        const [few, many] = [driftObjects.get(fewTables)!, driftObjects.get(manyTables)!];
        rec.note(
          `Unlike the catalog checks, the drift comparison cannot count passing subjects in SQL: every object's definition comes back from both sides and is normalized and compared client-side, ${few.toLocaleString('en-US')} objects per side at ${fewTables} tables, ${many.toLocaleString('en-US')} at ${manyTables} (${(many / few).toFixed(0)}×). ` +
            `Its time grows ${driftTime.value?.toFixed(1)}× for that: the catalog reads themselves (columns, constraints, indexes) are linear in the objects above a fixed cost of about 17 short queries per side. Meeting ≤ 3 would need a digest per object kind computed on the server over role-neutral rows, fetching rows only for kinds whose digests differ (see docs/benchmarks.md).`,
        );
      }
      if (time.verdict === 'refuted' && growth[0]) {
        rec.note(`Most of the growth is in ${growth.slice(0, 2).map((g) => `${g.id} (${g.ms.map((x) => x.toFixed(0)).join(' → ')} ms)`).join(' and ')}.`);
      }
      if (sizes.some((n) => new Set(queries.get(n)!).size > 1)) rec.note('the query count varied between runs of the same database.');
    } finally {
      for (const n of sizes) await dropDatabase(server, databaseFor(n));
    }
  },
};
