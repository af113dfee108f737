import { performance } from 'node:perf_hooks';
import { ident, type Sql } from '../../core/db/connect.ts';
import { LOGIN_ROLES, type LoginRole } from '../../core/config/role-names.ts';
import { readMigrations } from '../../core/migrations/files.ts';
import { migrate } from '../../core/migrations/runner.ts';
import { MIGRATIONS_DIR } from '../../core/paths.ts';
import { findClientTool } from '../../core/pgtools/discover.ts';
import { generatePassword } from '../../core/secrets.ts';
import { setupDatabase, type SetupReport } from '../../core/setup.ts';
import { connect } from '../../core/db/connect.ts';
import { MAINTENANCE_DATABASE } from '../../core/config/target-settings.ts';
import path from 'node:path';
import { Unavailable, type Benchmark } from '../lib/context.ts';
import { runClient, withConnection, type BenchServer } from '../lib/servers.ts';
import { alternate } from '../lib/timing.ts';

/**
 * What our setup-db costs over the bare minimum: the same migration files fed to psql in one
 * session. Ours adds the least-privilege roles, the database, privileges, sqlx's ledger,
 * advisory lock and checksums, one transaction per file, and the grants. And what a re-run
 * with nothing to do costs against the connections it needs, each opened for one SELECT 1.
 */

/** The connections a clean setup opens, in order: the maintenance database (roles, CREATE DATABASE), then the database. */
const SETUP_CONNECTIONS = 2;
/** A converged re-run needs only the database's own session: nothing on the maintenance database differs. */
const RERUN_CONNECTIONS = 1;
/** Statements that would change something; a converged re-run sends none. */
const DDL = /^\s*(CREATE|ALTER|DROP|GRANT|REVOKE|REASSIGN|COMMENT|SET\s+ROLE|DO\b|TRUNCATE|INSERT|UPDATE|DELETE)/i;

/** psql arguments that run every file in one session and stop at the first error. */
export function psqlArgs(files: readonly string[]): string[] {
  return ['-X', '-q', '-v', 'ON_ERROR_STOP=1', ...files.flatMap((f) => ['-f', f])];
}

async function tables(server: BenchServer, database: string): Promise<string[]> {
  return withConnection({ ...server.admin, database }, async (sql) =>
    (await sql<{ t: string }[]>`select tablename as t from pg_tables where schemaname = 'public' and tablename <> '_sqlx_migrations' order by 1`).map((r) => r.t),
  );
}

export const migrationBenchmark: Benchmark = {
  id: 'migrations',
  title: 'Migration overhead: setup-db vs psql -f',
  question: 'What a clean setup-db (roles, database, privileges, every migration with the sqlx ledger, grants) costs against feeding the same files to psql in one session.',
  async run(ctx, rec) {
    const server = await ctx.pg17();
    rec.server(server.version, server.binDir);
    let psql;
    try {
      psql = findClientTool('psql', 0, server.version);
    } catch (e) {
      throw new Unavailable(`no psql client here (${(e as Error).message})`);
    }
    const migrations = readMigrations(MIGRATIONS_DIR);
    const files = migrations.map((m) => path.join(MIGRATIONS_DIR, m.file));
    rec.param('migrations', migrations.length).param('psql', `${psql.version} (${psql.path})`);
    if (psql.major < server.major) rec.note(`psql ${psql.version} is the newest client here; it runs plain SQL files against PostgreSQL ${server.version} without trouble.`);

    const admin: Sql = connect(server.admin, { max: 1, applicationName: 'pgsteward bench migrations' });
    const created: string[] = [];
    let n = 0;
    const names = { ours: '', raw: '' };
    const nextName = (side: string) => {
      const name = `bench_mig_${side}_${n++}`;
      created.push(name);
      return name;
    };
    const passwords = () => Object.fromEntries(LOGIN_ROLES.map((r) => [r, generatePassword()])) as Record<LoginRole, string>;
    let lastPasswords = passwords();
    const checked = new Set<string>();
    const compareSchemas = async () => {
      if (checked.has('schema') || !names.ours || !names.raw) return;
      checked.add('schema');
      const [a, b] = [await tables(server, names.ours), await tables(server, names.raw)];
      if (a.join() !== b.join()) rec.note(`the two sides built different tables: ${a.join(', ')} vs ${b.join(', ')}.`);
      else rec.param('tables built by either side', a.length);
    };
    // Where each side's time goes, from the timed runs only: ours split where the database's own
    // session sends its first statement, after the maintenance session is done.
    const phases = { maintenance: [] as number[], database: [] as number[], createDatabase: [] as number[], psql: [] as number[] };
    let timed = false;
    try {
      ctx.log('clean setup-db vs CREATE DATABASE + psql -f');
      const setup = await alternate(
        ctx.scale.reps,
        {
          ours: async () => {
            names.ours = nextName('ours');
            lastPasswords = passwords();
            const t0 = performance.now();
            let sawMaintenance = false;
            let split: number | undefined;
            const onQuery = (_q: string, database: string) => {
              if (database === MAINTENANCE_DATABASE) sawMaintenance = true;
              else if (sawMaintenance && split === undefined) split = performance.now();
            };
            await setupDatabase({ admin: server.admin, database: names.ours, pool: { max: 10, min: 2, instances: 1 }, passwords: lastPasswords, migrations, onQuery });
            if (timed && split !== undefined) {
              phases.maintenance.push(split - t0);
              phases.database.push(performance.now() - split);
            }
          },
          raw: async () => {
            names.raw = nextName('raw');
            const t0 = performance.now();
            await admin.unsafe(`CREATE DATABASE ${ident(names.raw)} TEMPLATE template0`);
            const t1 = performance.now();
            await runClient(psql.path, psqlArgs(files), { ...server.admin, database: names.raw });
            if (timed) {
              phases.createDatabase.push(t1 - t0);
              phases.psql.push(performance.now() - t1);
            }
          },
        },
        {
          warmup: 1,
          before: async (_side, repetition) => {
            timed = repetition >= 0;
          },
          after: compareSchemas,
        },
      );
      rec.measure('setup_ours', 'clean setupDatabase(): roles + database + privileges + migrations + ledger + grants', 'ms', setup.ours);
      rec.measure('setup_raw', 'CREATE DATABASE + psql -f of the same files in one session', 'ms', setup.raw);
      rec.measure('setup_ours_maintenance', 'of ours: until the database session\'s first statement (maintenance session: roles, CREATE DATABASE, access; then opening the database\'s)', 'ms', phases.maintenance);
      rec.measure('setup_ours_database', 'of ours: in the database (extension, migrations with the sqlx ledger, privileges)', 'ms', phases.database);
      rec.measure('setup_raw_create', 'of the bare run: CREATE DATABASE on an open connection', 'ms', phases.createDatabase);
      rec.measure('setup_raw_psql', 'of the bare run: psql -f (process start and connection included)', 'ms', phases.psql);

      ctx.log('re-run of setup-db with nothing to do vs one SELECT 1 per connection it needs');
      const converged = names.ours;
      let last: SetupReport | undefined;
      const sent: string[] = [];
      const sessions = new Set<string>();
      const rerun = await alternate(
        ctx.scale.reps * 2,
        {
          ours: async () => {
            sent.length = 0;
            sessions.clear();
            last = await setupDatabase({
              admin: server.admin,
              database: converged,
              pool: { max: 10, min: 2, instances: 1 },
              passwords: lastPasswords,
              migrations,
              onQuery: (q, database) => (sent.push(q), sessions.add(database)),
            });
          },
          raw: async () => {
            for (const database of [converged, MAINTENANCE_DATABASE].slice(0, RERUN_CONNECTIONS)) {
              const sql = connect({ ...server.admin, database }, { max: 1, applicationName: 'pgsteward bench baseline' });
              try {
                await sql`select 1`;
              } finally {
                await sql.end({ timeout: 5 });
              }
            }
          },
        },
        { warmup: 1 },
      );
      rec.measure('rerun_ours', 'setupDatabase() on a converged database (nothing to do)', 'ms', rerun.ours);
      rec.measure('rerun_raw', `${RERUN_CONNECTIONS} connection (the database), opened for one SELECT 1 and closed`, 'ms', rerun.raw);
      rec.param('statements a converged re-run sends', sent.length).param('of them DDL', sent.filter((q) => DDL.test(q)).length);
      rec.param('sessions a converged re-run opens', [...sessions].map((d) => (d === converged ? 'the database' : d)).join(', '));
      if (sessions.size !== RERUN_CONNECTIONS) rec.note(`the converged re-run opened ${sessions.size} sessions (${[...sessions].join(', ')}), not ${RERUN_CONNECTIONS}: the baseline undercounts it.`);
      if (last && last.changes.length) rec.note(`the converged re-run still changed something: ${last.changes.map((c) => c.line).join('; ')}.`);

      ctx.log('migration runner vs psql -f on an empty database');
      const only = await alternate(
        ctx.scale.reps,
        {
          ours: async () => {
            const sql = connect({ ...server.admin, database: names.ours }, { max: 1, applicationName: 'pgsteward bench migrate' });
            try {
              await migrate(sql, names.ours, migrations);
            } finally {
              await sql.end({ timeout: 5 });
            }
          },
          raw: () => runClient(psql.path, psqlArgs(files), { ...server.admin, database: names.raw }),
        },
        {
          warmup: 1,
          before: async (side) => {
            names[side] = nextName(`${side}_only`);
            await admin.unsafe(`CREATE DATABASE ${ident(names[side])} TEMPLATE template0`);
          },
        },
      );
      rec.measure('migrate_ours', 'migrate(): sqlx lock, ledger, checksums, one transaction per file (connection included)', 'ms', only.ours);
      rec.measure('migrate_raw', 'psql -f of the same files (process start and connection included)', 'ms', only.raw);
      const runner = rec.ratio('migrate', 'migration runner / psql -f, on an existing empty database', 'migrate_ours', 'migrate_raw');
      const ms = (key: string) => `${rec.get(key).median.toFixed(0)} ms`;
      // Target: at most 5 connections' worth, i.e. 5 / RERUN_CONNECTIONS of the connections it needs.
      const again = rec.ratio('rerun', `re-run with nothing to do / one SELECT 1 per connection it needs (${RERUN_CONNECTIONS}); target 5 connections' worth`, 'rerun_ours', 'rerun_raw', { target: { op: '<=', value: 5 / RERUN_CONNECTIONS }, headline: true });
      const headline = rec.ratio('setup', 'clean setup-db / (CREATE DATABASE + psql -f)', 'setup_ours', 'setup_raw', { target: { op: '<=', value: 1.5 }, headline: true });
      rec.note(
        `A clean setup-db takes ${headline.value?.toFixed(2)}× the bare psql run (${ms('setup_ours')} against ${ms('setup_raw')}). The extra time buys five least-privilege roles with SCRAM passwords, the connection limit, revoked PUBLIC rights, default privileges, sqlx's advisory lock, ledger and checksums, and the grants, over ${SETUP_CONNECTIONS} connections (maintenance, then the database; a first attempt at the database's own finds it missing), each step one multi-statement query. ` +
          `Where it goes: ${ms('setup_ours_maintenance')} until the database's session starts (the bare run's CREATE DATABASE alone takes ${ms('setup_raw_create')} of it, on a connection already open), then ${ms('setup_ours_database')} in the database against psql's ${ms('setup_raw_psql')}; of that, the migration runner alone costs ${runner.value?.toFixed(2)}× psql -f on an empty database, so the rest is the extension, the privileges pass and the second connection.`,
      );
      rec.note(
        `A re-run on a converged database opens only the database's own session (the roles and the database's access live in shared catalogs, readable from it; the maintenance database is needed only to change them or to create the database), reads the cluster and the database state once each, and sends no DDL (${rec.get('rerun_ours').median.toFixed(1)} ms against ${rec.get('rerun_raw').median.toFixed(1)} ms for ${RERUN_CONNECTIONS} bare connection): ${again.value === undefined ? '?' : (again.value * RERUN_CONNECTIONS).toFixed(1)} connections' worth.`,
      );
    } finally {
      for (const name of created) await admin.unsafe(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`).catch(() => {});
      await admin.end({ timeout: 5 });
    }
  },
};
