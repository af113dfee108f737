import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { connect, ident, type Sql } from '../../core/db/connect.ts';
import { REPO_ROOT } from '../../core/paths.ts';
import { Unavailable, type Benchmark } from '../lib/context.ts';
import { dropDatabase, provision, type BenchServer } from '../lib/servers.ts';
import { alternate } from '../lib/timing.ts';
import { median } from '../lib/stats.ts';

/**
 * The checks suite on a small schema and on one a hundred times larger. A suite that asks
 * the catalog set-wise makes the same number of round trips whatever the schema's size; one
 * that loops over tables makes a hundred times more.
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
  const sql = connect(db.admin, { max: 1, applicationName: 'pgsteward bench checks' });
  try {
    await generateTables(sql, db.roles.owner, tables);
    await sql.unsafe('ANALYZE');
    const [n] = await sql<{ tables: number; indexes: number; triggers: number; fks: number }[]>`
      select (select count(*)::int from pg_tables where schemaname = 'public') as tables,
             (select count(*)::int from pg_indexes where schemaname = 'public') as indexes,
             (select count(*)::int from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and not t.tgisinternal) as triggers,
             (select count(*)::int from pg_constraint where contype = 'f' and connamespace = 'public'::regnamespace) as fks`;
    return { db, counts: n! };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export const checksBenchmark: Benchmark = {
  id: 'checks',
  title: 'Checks suite scaling: few vs many tables',
  question: 'The checks suite on 10 and on 1,000 generated tables (foreign keys, indexes, triggers). Targets: time ratio ≤ 3, and the same number of SQL round trips.',
  async run(ctx, rec) {
    const runChecks = await loadSuite();
    const { fewTables, manyTables } = ctx.scale.checks;
    const server = await ctx.pg17();
    rec.server(server.version, server.binDir);
    ctx.log(`generating ${fewTables} and ${manyTables} tables`);
    const few = await prepare(server, 'bench_checks_few', fewTables);
    const many = await prepare(server, 'bench_checks_many', manyTables);
    try {
      for (const [label, p] of [['few', few], ['many', many]] as const) {
        const c = p.counts;
        rec.param(`${label}: generated tables`, label === 'few' ? fewTables : manyTables);
        rec.param(`${label}: tables / indexes / triggers / foreign keys in public`, `${c.tables} / ${c.indexes} / ${c.triggers} / ${c.fks}`);
      }
      const queries = { few: [] as number[], many: [] as number[] };
      const summaries = { few: '', many: '' };
      const perCheck = { few: new Map<string, number[]>(), many: new Map<string, number[]>() };
      const keep = (side: 'few' | 'many', r: Awaited<ReturnType<RunChecks>>) => {
        queries[side].push(r.queries);
        summaries[side] = `${r.summary.passed} passed, ${r.summary.failed} failed, ${r.summary.warnings} warnings`;
        for (const c of r.results) perCheck[side].set(c.id, [...(perCheck[side].get(c.id) ?? []), c.durationMs]);
      };
      ctx.log('running the checks suite');
      const t = await alternate(
        ctx.scale.reps,
        {
          few: async () => keep('few', await runChecks({ connection: few.db.admin, roles: few.db.roles })),
          many: async () => keep('many', await runChecks({ connection: many.db.admin, roles: many.db.roles })),
        },
        { warmup: 1 },
      );
      // Warm-up runs counted their queries too; keep only the timed runs'.
      queries.few = queries.few.slice(-ctx.scale.reps);
      queries.many = queries.many.slice(-ctx.scale.reps);
      rec.param(`few: outcome`, summaries.few).param(`many: outcome`, summaries.many);
      rec.measure('time_few', `runChecks on ${fewTables} generated tables`, 'ms', t.few);
      rec.measure('time_many', `runChecks on ${manyTables} generated tables`, 'ms', t.many);
      rec.measure('queries_few', `SQL round trips, ${fewTables} tables`, 'queries', queries.few);
      rec.measure('queries_many', `SQL round trips, ${manyTables} tables`, 'queries', queries.many);
      rec.ratio('queries', `SQL round trips ${manyTables}/${fewTables} tables`, 'queries_many', 'queries_few', { target: { op: '<=', value: 1 }, headline: true });
      const time = rec.ratio('time', `time ${manyTables}/${fewTables} tables`, 'time_many', 'time_few', { target: { op: '<=', value: 3 }, headline: true });
      const q = rec.get('queries_few').median === rec.get('queries_many').median;
      rec.note(
        `${manyTables / fewTables}× the tables cost ${time.value?.toFixed(2)}× the time (target ≤ 3: ${time.verdict}) and ${q ? 'exactly the same number of' : 'a different number of'} SQL round trips (${rec.get('queries_few').median} vs ${rec.get('queries_many').median}). ` +
          'The round-trip target is written as a ratio ≤ 1: equal counts give 1.00.',
      );
      // Where the extra time goes: each check's median time on both schemas, largest growth first.
      const growth = [...perCheck.many.entries()]
        .map(([id, ms]) => ({ id, many: median(ms), few: median(perCheck.few.get(id) ?? [0]) }))
        .sort((a, b) => b.many - b.few - (a.many - a.few));
      rec.param(
        `per check, ms (${fewTables} → ${manyTables} tables, medians)`,
        growth.map((g) => `${g.id} ${g.few.toFixed(0)} → ${g.many.toFixed(0)}`).join('; '),
      );
      if (time.verdict === 'refuted' && growth[0]) {
        rec.note(`Most of the growth is in ${growth.slice(0, 2).map((g) => `${g.id} (${g.few.toFixed(0)} → ${g.many.toFixed(0)} ms)`).join(' and ')}: the round trips stay the same, but each returns rows for every table and the client examines them all, so that work grows with the schema.`);
      }
      if (new Set([...queries.few]).size > 1 || new Set([...queries.many]).size > 1) rec.note('the query count varied between runs of the same database.');
    } finally {
      await dropDatabase(server, 'bench_checks_few');
      await dropDatabase(server, 'bench_checks_many');
    }
  },
};
