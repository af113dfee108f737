import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ident, withConnection, type Sql } from '../../core/db/connect.ts';
import { REPO_ROOT } from '../../core/paths.ts';
import { Unavailable, type Benchmark } from '../lib/context.ts';
import { dropDatabase, provision, type BenchServer } from '../lib/servers.ts';
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

/** Adds `count` generated tables, created as the owner role exactly as a migration would create them. */
async function generateTables(sql: Sql, owner: string, count: number): Promise<void> {
  const conn = await sql.reserve();
  try {
    await conn.unsafe(`SET ROLE ${ident(owner)}`);
    // A few hundred statements per transaction keeps the load quick without one giant lock set.
    for (let first = 1; first <= count; first += 100) {
      const statements = [];
      for (let i = first; i < Math.min(count + 1, first + 100); i++) statements.push(...generatedTableSql(i));
      await conn.unsafe(`BEGIN;\n${statements.join(';\n')};\nCOMMIT`);
    }
  } finally {
    await conn.unsafe('RESET ROLE').catch(() => {});
    conn.release();
  }
}

async function prepare(server: BenchServer, database: string, tables: number) {
  await dropDatabase(server, database);
  const db = await provision(server, database);
  const counts = await withConnection(db.admin, { applicationName: 'pgsteward bench checks' }, async (sql) => {
    await generateTables(sql, db.roles.owner, tables);
    await sql.unsafe('ANALYZE');
    const [n] = await sql<{ tables: number; indexes: number; triggers: number; fks: number }[]>`
      select (select count(*)::int from pg_tables where schemaname = 'public') as tables,
             (select count(*)::int from pg_indexes where schemaname = 'public') as indexes,
             (select count(*)::int from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and not t.tgisinternal) as triggers,
             (select count(*)::int from pg_constraint where contype = 'f' and connamespace = 'public'::regnamespace) as fks`;
    return n!;
  });
  return { db, counts };
}

const databaseFor = (tables: number) => `bench_checks_${tables}`;

export const checksBenchmark: Benchmark = {
  id: 'checks',
  title: 'Checks suite scaling: time and round trips against schema size',
  question:
    'The checks suite on schemas of growing size (generated tables with foreign keys, indexes and triggers). Targets: 1,000 tables cost at most 2× the time of 10, and every size makes the same number of SQL round trips, check by check.',
  async run(ctx, rec) {
    const runChecks = await loadSuite();
    const { fewTables, manyTables, tables: sizes } = ctx.scale.checks;
    const server = await ctx.pg17();
    rec.server(server.version, server.binDir);
    ctx.log(`generating ${sizes.join(', ')} tables`);
    const prepared = new Map<number, Awaited<ReturnType<typeof prepare>>>();
    try {
      for (const n of sizes) prepared.set(n, await prepare(server, databaseFor(n), n));
      rec.param('schema sizes (generated tables)', sizes.map((n) => n.toLocaleString('en-US')).join(', '));
      for (const n of sizes) {
        const c = prepared.get(n)!.counts;
        rec.param(`${n} tables: tables / indexes / triggers / foreign keys in public`, `${c.tables} / ${c.indexes} / ${c.triggers} / ${c.fks}`);
      }
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
      ctx.log('running the checks suite');
      const steps = Object.fromEntries(
        sizes.map((n) => [String(n), async () => keep(n, await runChecks({ connection: prepared.get(n)!.db.admin, roles: prepared.get(n)!.db.roles }))]),
      );
      const t = await alternate(ctx.scale.reps, steps, { warmup: 1 });
      for (const n of sizes) {
        // Warm-up runs counted their queries too; keep only the timed runs'.
        const q = queries.get(n)!.slice(-ctx.scale.reps);
        queries.set(n, q);
        for (const e of perCheck.get(n)!.values()) (e.ms = e.ms.slice(-ctx.scale.reps)), (e.queries = e.queries.slice(-ctx.scale.reps));
        rec.param(`${n} tables: outcome`, outcomes.get(n)!);
        rec.measure(`time_${n}`, `runChecks on ${n} generated tables`, 'ms', t[String(n)]!);
        rec.measure(`queries_${n}`, `SQL round trips, ${n} tables`, 'queries', q);
      }
      const largest = sizes[sizes.length - 1]!;
      const smallest = sizes[0]!;
      for (const n of sizes.filter((x) => x !== smallest && x !== manyTables)) rec.ratio(`time_${n}`, `time ${n}/${smallest} tables`, `time_${n}`, `time_${smallest}`);
      rec.ratio('queries', `SQL round trips ${largest}/${smallest} tables`, `queries_${largest}`, `queries_${smallest}`, { target: { op: '<=', value: 1 }, headline: true });
      const time = rec.ratio('time', `time ${manyTables}/${fewTables} tables`, `time_${manyTables}`, `time_${fewTables}`, { target: { op: '<=', value: 2 }, headline: true });

      // Round trips per check must not depend on the size: compare every size with the smallest.
      const tripsOf = (n: number) => [...perCheck.get(n)!.entries()].map(([id, e]) => `${id} ${median(e.queries)}`).join('; ');
      const sameTrips = sizes.every((n) => tripsOf(n) === tripsOf(smallest));
      rec.param('per check, SQL round trips (every size)', sameTrips ? tripsOf(smallest) : sizes.map((n) => `${n}: ${tripsOf(n)}`).join(' | '));
      const ids = [...perCheck.get(largest)!.keys()];
      const msOf = (n: number, id: string) => median(perCheck.get(n)!.get(id)?.ms ?? [0]);
      const growth = ids.map((id) => ({ id, ms: sizes.map((n) => msOf(n, id)) })).sort((a, b) => b.ms.at(-1)! - b.ms[0]! - (a.ms.at(-1)! - a.ms[0]!));
      rec.param(`per check, ms (medians at ${sizes.join(' / ')} tables)`, growth.map((g) => `${g.id} ${g.ms.map((x) => x.toFixed(0)).join(' / ')}`).join('; '));

      const q = sizes.every((n) => rec.get(`queries_${n}`).median === rec.get(`queries_${smallest}`).median);
      rec.note(
        `${manyTables / fewTables}× the tables cost ${time.value?.toFixed(2)}× the time (target ≤ 2: ${time.verdict}); ` +
          `${q ? 'every size made exactly the same number of' : 'the sizes made different numbers of'} SQL round trips (${sizes.map((n) => rec.get(`queries_${n}`).median).join(', ')})` +
          `${sameTrips ? ', check by check' : ''}. The round-trip target is written as a ratio ≤ 1: equal counts give 1.00.`,
      );
      rec.note(
        'Each catalog check decides in SQL which subjects pass and returns those as counts (rows only with --verbose), so what still grows with the schema is the server reading its catalog, not the client reading rows.',
      );
      if (time.verdict === 'refuted' && growth[0]) {
        rec.note(`Most of the growth is in ${growth.slice(0, 2).map((g) => `${g.id} (${g.ms.map((x) => x.toFixed(0)).join(' → ')} ms)`).join(' and ')}.`);
      }
      if (sizes.some((n) => new Set(queries.get(n)!).size > 1)) rec.note('the query count varied between runs of the same database.');
    } finally {
      for (const n of sizes) await dropDatabase(server, databaseFor(n));
    }
  },
};
