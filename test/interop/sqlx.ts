import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ident, type Sql } from '../../core/db/connect.ts';
import { secretUrl, type ConnectionSettings } from '../../core/db/url.ts';
import { LOGIN_ROLES, roleNames, type LoginRole, type RoleNames } from '../../core/config/role-names.ts';
import { generatePassword } from '../../core/secrets.ts';
import { setupDatabase } from '../../core/setup.ts';
import { REPO_ROOT } from '../../core/paths.ts';
import { runCli, type CliResult } from '../cli.ts';
import { pgAdmin, uniqueName, withSql } from '../db.ts';
import { sqlxToolchain, type Toolchain } from './toolchain.ts';

/**
 * The interop tests' view of one database on the suite's PostgreSQL 17, and the three clients
 * that migrate it: the real sqlx-cli, the Rust app's `sqlx::migrate!()`, and our setup-db CLI,
 * each run as a user runs it (a child process, the URL in the environment).
 */

export const FIXTURE_APP = path.join(REPO_ROOT, 'test', 'fixtures', 'app');
export const FIXTURE_MIGRATIONS = path.join(FIXTURE_APP, 'migrations');
export const NO_TRANSACTION_MIGRATIONS = path.join(REPO_ROOT, 'test', 'interop', 'migrations', 'no-transaction');

export interface InteropDatabase {
  database: string;
  roles: RoleNames;
  passwords: Record<LoginRole, string>;
  /** Connection settings as a login role, or as the suite's superuser. */
  as(role?: LoginRole): ConnectionSettings;
  /** The same as a URL, the way DATABASE_URL carries it. */
  url(role?: LoginRole): string;
}

/** A database name and role passwords; nothing is created on the server. */
export function plannedDatabase(prefix: string): InteropDatabase {
  const database = uniqueName(prefix);
  const roles = roleNames(database);
  const passwords = Object.fromEntries(LOGIN_ROLES.map((r) => [r, generatePassword()])) as Record<LoginRole, string>;
  const as = (role?: LoginRole): ConnectionSettings => (role ? { ...pgAdmin(database), user: roles[role], password: passwords[role] } : pgAdmin(database));
  return { database, roles, passwords, as, url: (role) => secretUrl(as(role)) };
}

/** An empty database, as CREATE DATABASE leaves it: no roles of ours, no ledger. */
export async function emptyDatabase(prefix: string): Promise<InteropDatabase> {
  const db = plannedDatabase(prefix);
  await withSql(pgAdmin(), (sql) => sql.unsafe(`CREATE DATABASE ${ident(db.database)} TEMPLATE template0`));
  return db;
}

/**
 * "Roles first": our setup with no migrations, which creates the database, the five roles and
 * their grants and default privileges, so that sqlx can then migrate as `<db>_migrator`.
 */
export async function rolesFirst(prefix: string): Promise<InteropDatabase> {
  const db = plannedDatabase(prefix);
  await setupDatabase({ admin: pgAdmin(), database: db.database, pool: { max: 10, min: 2, instances: 1 }, passwords: db.passwords, migrations: [] });
  return db;
}

export interface ProcResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The toolchain, or the one line saying why there is none (the tests fail with it). */
let toolchain: Toolchain | undefined;
export function tools(): Toolchain {
  return (toolchain ??= sqlxToolchain());
}

function run(bin: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<ProcResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    // An empty cwd: sqlx-cli reads a .env from the working directory unless told not to.
    execFile(bin, args, { env: { PATH: process.env.PATH, ...env }, cwd: scratch(), timeout: timeoutMs }, (e, stdout, stderr) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? null) : 0, stdout, stderr, ms: Date.now() - t0 }),
    );
  });
}

let scratchDir: string | undefined;
function scratch(): string {
  return (scratchDir ??= mkdtempSync(path.join(os.tmpdir(), 'pgsteward-interop-')));
}

/** `sqlx migrate <command> --source <dir>` with DATABASE_URL, as a deploy script runs it. */
export function sqlxMigrate(command: 'run' | 'info' | 'revert', source: string, url: string, extra: string[] = []): Promise<ProcResult> {
  return run(tools().sqlx, ['migrate', command, '--no-dotenv', '--source', source, ...extra], { DATABASE_URL: url });
}

/** The Rust app's `sqlx::migrate!()` with one of its embedded sets, as an application does at startup. */
export function sqlxApp(set: 'ours' | 'fixture' | 'no-transaction', url: string): Promise<ProcResult> {
  return run(tools().app, ['run', set], { DATABASE_URL: url });
}

/** Our setup-db, as an operator runs it against a server they name: the admin URL in DATABASE_URL, the role passwords in DB_*_PASSWORD. */
export function setupDb(db: InteropDatabase, migrations: string, extra: string[] = []): Promise<CliResult> {
  return runCli('ops/setup-db.ts', ['--target', 'dev', '--migrations', migrations, ...extra], setupEnv(db), 120_000);
}

export function setupEnv(db: InteropDatabase): NodeJS.ProcessEnv {
  return {
    DATABASE_URL: db.url(),
    DB_TARGET: '',
    PGSTEWARD_HOME: scratch(),
    ...Object.fromEntries(LOGIN_ROLES.map((r) => [`DB_${r.toUpperCase()}_PASSWORD`, db.passwords[r]])),
  };
}

export interface InfoLine {
  version: string;
  state: string;
  description: string;
}

/**
 * Pure: `sqlx migrate info`'s lines (`20240105091500/installed create users`,
 * `3/pending accounts email key`), in its order. Other lines (checksum details) are kept apart.
 */
export function parseMigrateInfo(stdout: string): { lines: InfoLine[]; other: string[] } {
  const lines: InfoLine[] = [];
  const other: string[] = [];
  for (const raw of stdout.split('\n')) {
    const l = raw.trimEnd();
    if (!l) continue;
    const m = /^(-?\d+)\/(\w+) (.*)$/.exec(l);
    if (m) lines.push({ version: m[1]!, state: m[2]!, description: m[3]! });
    else other.push(l);
  }
  return { lines, other };
}

export interface LedgerRow {
  version: string;
  description: string;
  success: boolean;
  checksum: string;
}

/** `_sqlx_migrations` without the columns that differ by run (installed_on, execution_time). */
export async function ledger(db: InteropDatabase): Promise<LedgerRow[]> {
  return withSql(db.as(), async (sql) => {
    const [t] = await sql`select to_regclass('public._sqlx_migrations') is not null as exists`;
    if (!t!.exists) return [];
    return sql<LedgerRow[]>`select version::text, description, success, encode(checksum, 'hex') as checksum from _sqlx_migrations order by version`;
  });
}

/** Objects in the public schema with their owners: what a migration run created and who owns it. */
export async function ownership(sql: Sql): Promise<Array<{ name: string; kind: string; owner: string }>> {
  return sql`
    select c.relname::text as name, c.relkind::text as kind, pg_get_userbyid(c.relowner)::text as owner
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'S', 'v', 'm', 'i')
     order by 1` as never;
}
