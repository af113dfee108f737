import { performance } from 'node:perf_hooks';
import { LOGIN_ROLES, roleNames, type LoginRole } from '../../core/config/role-names.ts';
import { compareDatabases } from '../../core/drift/detect.ts';
import { withReference, type Reference } from '../../core/drift/reference.ts';
import { parseMigrations, readMigrations, type Migration } from '../../core/migrations/files.ts';
import { MIGRATIONS_DIR } from '../../core/paths.ts';
import { generatePassword } from '../../core/secrets.ts';
import { setupDatabase } from '../../core/setup.ts';
import type { Benchmark } from '../lib/context.ts';
import { dropDatabase, type BenchServer } from '../lib/servers.ts';
import { alternate } from '../lib/timing.ts';
import { generatedTableSql } from './checks-scaling.ts';

/**
 * Schema drift on a small schema and on one a hundred times larger: both sides' catalogs
 * read (one query per object kind, both sides at once) and compared. Building the reference
 * is outside the timed part, as the issue's target says; it is measured once for scale.
 */

/** Our migrations plus one that creates `count` generated tables, so the reference has them too. */
function migrationsWith(count: number): Migration[] {
  const statements = Array.from({ length: count }, (_, i) => generatedTableSql(i + 1)).flat();
  const generated = parseMigrations([{ name: `9000_generated_${count}_tables.sql`, bytes: Buffer.from(statements.join(';\n') + ';\n') }]);
  return [...readMigrations(MIGRATIONS_DIR), ...generated];
}

async function provisionWith(server: BenchServer, database: string, migrations: readonly Migration[]) {
  await dropDatabase(server, database);
  const passwords = Object.fromEntries(LOGIN_ROLES.map((r) => [r, generatePassword()])) as Record<LoginRole, string>;
  await setupDatabase({ admin: server.admin, database, pool: { max: 10, min: 2, instances: 1 }, passwords, migrations });
  return { connection: { ...server.admin, database }, roles: roleNames(database) };
}

/** Runs `fn` with a reference built from `migrations` on the bench server, and how long building it took. */
async function withTimedReference<T>(server: BenchServer, migrations: readonly Migration[], fn: (ref: Reference, buildMs: number) => Promise<T>): Promise<T> {
  const t0 = performance.now();
  return withReference({ kind: 'local', admin: server.admin, database: 'bench_drift', major: server.major, migrations }, (ref) => fn(ref, performance.now() - t0));
}

export const schemaDriftBenchmark: Benchmark = {
  id: 'drift',
  title: 'Schema drift scaling: few vs many tables',
  question: 'Drift comparison (both catalogs read and compared; building the reference excluded) on 10 and on 1,000 generated tables. Targets: time ratio ≤ 3, and the same number of SQL round trips.',
  async run(ctx, rec) {
    const { fewTables, manyTables } = ctx.scale.checks;
    const server = await ctx.pg17();
    rec.server(server.version, server.binDir);
    const few = migrationsWith(fewTables);
    const many = migrationsWith(manyTables);
    ctx.log(`migrating databases with ${fewTables} and ${manyTables} generated tables`);
    const liveFew = await provisionWith(server, 'bench_drift_few', few);
    const liveMany = await provisionWith(server, 'bench_drift_many', many);
    try {
      ctx.log('building both references');
      await withTimedReference(server, few, (refFew, buildFew) =>
        withTimedReference(server, many, async (refMany, buildMany) => {
          rec.param(`few: reference built in (ms, once, not timed below)`, Math.round(buildFew));
          rec.param(`many: reference built in (ms, once, not timed below)`, Math.round(buildMany));
          const queries = { few: [] as number[], many: [] as number[] };
          const outcome = { few: '', many: '' };
          const keep = (side: 'few' | 'many', r: Awaited<ReturnType<typeof compareDatabases>>) => {
            queries[side].push(r.queries.live + r.queries.reference);
            outcome[side] = `${r.findings.length} findings, ${r.live.objects.size} objects per side`;
          };
          ctx.log('comparing');
          const t = await alternate(
            ctx.scale.queryReps,
            {
              few: async () => keep('few', await compareDatabases(liveFew, { connection: refFew.connection, roles: refFew.roles })),
              many: async () => keep('many', await compareDatabases(liveMany, { connection: refMany.connection, roles: refMany.roles })),
            },
            { warmup: 1 },
          );
          queries.few = queries.few.slice(-ctx.scale.queryReps);
          queries.many = queries.many.slice(-ctx.scale.queryReps);
          rec.param('few: generated tables', fewTables).param('many: generated tables', manyTables);
          rec.param('few: outcome', outcome.few).param('many: outcome', outcome.many);
          rec.measure('time_few', `drift comparison, ${fewTables} generated tables`, 'ms', t.few);
          rec.measure('time_many', `drift comparison, ${manyTables} generated tables`, 'ms', t.many);
          rec.measure('queries_few', `SQL round trips (both sides), ${fewTables} tables`, 'queries', queries.few);
          rec.measure('queries_many', `SQL round trips (both sides), ${manyTables} tables`, 'queries', queries.many);
          rec.ratio('queries', `SQL round trips ${manyTables}/${fewTables} tables`, 'queries_many', 'queries_few', { target: { op: '<=', value: 1 }, headline: true });
          const time = rec.ratio('time', `drift comparison time ${manyTables}/${fewTables} tables`, 'time_many', 'time_few', { target: { op: '<=', value: 3 }, headline: true });
          rec.note(
            `${manyTables / fewTables}× the tables cost ${time.value?.toFixed(2)}× the comparison time (target ≤ 3: ${time.verdict}) with ${rec.get('queries_few').median === rec.get('queries_many').median ? 'exactly the same number of' : 'a different number of'} SQL round trips (${rec.get('queries_few').median} vs ${rec.get('queries_many').median}, both sides together). ` +
              'Each side is read in one read-only transaction, its queries pipelined on one connection, the two sides at once.',
          );
        }),
      );
    } finally {
      await dropDatabase(server, 'bench_drift_few');
      await dropDatabase(server, 'bench_drift_many');
    }
  },
};
