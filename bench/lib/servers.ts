import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { LocalCluster } from '../../core/local/cluster.ts';
import { freePort } from '../../core/local/ports.ts';
import { libpqEnv } from '../../core/pgtools/invoke.ts';
import { connect, connectChecked, ident, type Sql } from '../../core/db/connect.ts';
import type { ConnectionSettings } from '../../core/db/url.ts';
import { LOGIN_ROLES, roleNames, type LoginRole, type RoleNames } from '../../core/config/role-names.ts';
import { readMigrations, type Migration } from '../../core/migrations/files.ts';
import { MIGRATIONS_DIR } from '../../core/paths.ts';
import { generatePassword } from '../../core/secrets.ts';
import { setupDatabase } from '../../core/setup.ts';

const run = promisify(execFile);

/** A throwaway PostgreSQL the bench starts for itself, so the user's own cluster is never touched. */
export interface BenchServer {
  label: string;
  cluster: LocalCluster;
  admin: ConnectionSettings;
  version: string;
  major: number;
  binDir: string;
  stop(): Promise<void>;
}

export async function startServer(stateDir: string, label: string, binDir?: string): Promise<BenchServer> {
  // A folder of its own per server: initdb's temporary password file lives beside the data
  // folder, so two servers initialised at once must not share a parent.
  const cluster = await LocalCluster.open({ stateDir, binDir, dataDir: path.join(stateDir, label, label), port: await freePort() });
  await cluster.init();
  await cluster.start();
  const admin = cluster.adminSettings();
  const sql = await connectChecked(admin, { max: 1, applicationName: 'pgsteward bench' });
  let version: string;
  try {
    const [v] = await sql<{ v: string }[]>`select current_setting('server_version') as v`;
    version = v!.v;
  } finally {
    await sql.end({ timeout: 5 });
  }
  return {
    label,
    cluster,
    admin,
    version,
    major: cluster.bins.major,
    binDir: cluster.bins.binDir,
    stop: async () => {
      await cluster.stop();
    },
  };
}

export interface BenchDatabase {
  database: string;
  roles: RoleNames;
  passwords: Record<LoginRole, string>;
  /** Superuser settings on the database itself. */
  admin: ConnectionSettings;
}

/** A database set up exactly as setup-db sets one up: roles, privileges, every migration. */
export async function provision(server: BenchServer, database: string, migrations: readonly Migration[] = readMigrations(MIGRATIONS_DIR)): Promise<BenchDatabase> {
  const passwords = Object.fromEntries(LOGIN_ROLES.map((r) => [r, generatePassword()])) as Record<LoginRole, string>;
  await setupDatabase({ admin: server.admin, database, pool: { max: 10, min: 2, instances: 1 }, passwords, migrations });
  return { database, roles: roleNames(database), passwords, admin: { ...server.admin, database } };
}

/** Runs `fn` with a one-connection pool that is always closed. */
export async function withConnection<T>(settings: ConnectionSettings, fn: (sql: Sql) => Promise<T>, max = 1): Promise<T> {
  const sql = connect(settings, { max, applicationName: 'pgsteward bench' });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export async function dropDatabase(server: BenchServer, database: string): Promise<void> {
  await withConnection(server.admin, (sql) => sql.unsafe(`DROP DATABASE IF EXISTS ${ident(database)} WITH (FORCE)`));
}

/**
 * Runs a PostgreSQL client program with the password in the environment only, never on the
 * command line. Returns its stdout; a failure carries the program's last stderr line.
 */
export async function runClient(file: string, args: string[], settings: ConnectionSettings): Promise<string> {
  try {
    const { stdout } = await run(file, args, {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      env: { ...process.env, ...libpqEnv(settings, 'pgsteward bench') },
    });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    const line = (err.stderr || err.message).trim().split('\n').filter(Boolean).pop() ?? 'failed';
    throw new Error(`${path.basename(file)} failed: ${line}`);
  }
}
