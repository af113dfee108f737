import { connect, connectionError, withConnection, type ConnectOptions, type Sql } from './db/connect.ts';
import type { ConnectionSettings } from './db/url.ts';
import { roleNames, validateDatabaseName, type LoginRole, type RoleNames } from './config/role-names.ts';
import { appConnectionLimit, MAINTENANCE_DATABASE, type PoolBudget } from './config/target-settings.ts';
import type { Migration } from './migrations/files.ts';
import { sqlxLockKey } from './migrations/lock.ts';
import { migrate, migrationStatus, type MigrateResult } from './migrations/runner.ts';
import { clusterIfConverged, convergeCluster, convergeInDatabase, withLock, type ChangeListener, type ClusterResult } from './roles/converge.ts';
import type { Change } from './roles/changes.ts';
import { roleModel, type RoleModel } from './roles/model.ts';
import { UserError } from './errors.ts';
import { IMPLEMENTATION_LABEL, provideUuidV7 } from './extensions/uuidv7.ts';

export interface SetupInput {
  /** Superuser or RDS master; setup reaches the maintenance database and the database itself with it. */
  admin: ConnectionSettings;
  database: string;
  pool: PoolBudget;
  /** Passwords for the login roles; a missing one leaves that role's password unchanged. */
  passwords: Partial<Record<LoginRole, string>>;
  migrations: readonly Migration[];
  /** Pass over applied versions with no file, as sqlx's --ignore-missing does. */
  ignoreMissing?: boolean | undefined;
  /** How long to wait for the migration lock (default 60 s). */
  lockWaitTimeoutMs?: number | undefined;
  onProgress?: (message: string) => void;
  /** Each change as it is made, one line each: `revoked membership of app_app in pg_execute_server_program`. */
  onChange?: ChangeListener;
  /** Every statement sent to the server, with the database of the session that sent it (tests and benchmarks count them). */
  onQuery?: (text: string, database: string) => void;
  /** How long to wait for another run's role work on the same server (default 2 minutes). */
  lockTimeoutMs?: number;
}

export interface SetupReport {
  database: string;
  databaseCreated: boolean;
  rolesCreated: string[];
  roles: RoleNames;
  migrations: MigrateResult;
  serverVersion: string;
  /** What setup changed to reach the model; empty on a converged database. */
  changes: Array<{ line: string; scope: Change['scope']; subject?: string | undefined }>;
}

/** One line for humans: "applied 3, 9 already applied". */
export function describeSetup(r: SetupReport): string {
  const created = r.databaseCreated ? `created database ${r.database}; ` : '';
  const roles = r.rolesCreated.length ? `created roles ${r.rolesCreated.join(', ')}; ` : '';
  return `${created}${roles}applied ${r.migrations.applied.length}, ${r.migrations.alreadyApplied} already applied`;
}

/**
 * The change lines worth printing: every change to a role or database that existed before this
 * run. What the run created is summed up by describeSetup; its first grants are not news.
 */
export function changesToReport(r: SetupReport): string[] {
  const created = new Set(r.rolesCreated);
  return r.changes.filter((c) => !(r.databaseCreated && c.scope === 'database') && !(c.subject && created.has(c.subject))).map((c) => c.line);
}

/** How long setup waits for a migration that another client (sqlx, a second setup) is running. */
export const MIGRATION_LOCK_TIMEOUT_MS = 10 * 60_000;

/**
 * Setup, top to bottom: converge the roles and the database on the maintenance database (only
 * when something there differs from the model, or the database does not exist yet), then,
 * inside the database, converge the privileges, make the privileged extensions available,
 * apply pending migrations and converge again what they created (in a new database, only then).
 * Every step reads the state once and sends only the statements that change something, so a
 * converged database gets no DDL, over one connection. Used by `setup-db`, `start`, `reset-db`, the dev stack's bootstrap and the prod Lambda.
 */
export async function setupDatabase(input: SetupInput): Promise<SetupReport> {
  validateDatabaseName(input.database);
  const model = roleModel({ database: input.database, appConnectionLimit: appConnectionLimit(input.pool) });
  const { progress, onChange, changes, connection } = setupRun(input);

  progress('roles');
  // The database's own session first: when the database exists and the roles and its access
  // already match the model (every re-run, every npm start), it is the only connection setup
  // opens. The maintenance session is for what truly needs it: changing roles under the
  // cluster's lock, and CREATE DATABASE.
  const existing = await connectIfExists(...connection(input.database), input.admin);
  try {
    const converged = existing && (await clusterIfConverged(existing, model, { passwords: input.passwords }));
    const cluster =
      converged ||
      (await withConnection(...connection(MAINTENANCE_DATABASE), (maint) =>
        convergeCluster(maint, model, { passwords: input.passwords, onChange, ...(input.lockTimeoutMs ? { lockTimeoutMs: input.lockTimeoutMs } : {}) }),
      ));
    const migrations = existing ? await inDatabase(existing, cluster) : await withConnection(...connection(input.database), (db) => inDatabase(db, cluster));
    return { database: input.database, databaseCreated: cluster.databaseCreated, rolesCreated: cluster.rolesCreated, roles: model.roles, migrations, serverVersion: cluster.state.serverVersion, changes };
  } finally {
    await existing?.end({ timeout: 5 }).catch(() => {});
  }

  function inDatabase(db: Sql, cluster: ClusterResult): Promise<MigrateResult> {
    return withMigrationLock(db, input.database, async () => {
      // A database this run created has nothing to fence yet: one pass after its migrations does it all.
      if (!cluster.databaseCreated) {
        progress('privileges');
        await convergeInDatabase(db, model, { onChange });
      }
      const result = await applyPendingMigrations(db, model, input, progress, () => provideExtensions(db, onChange));
      if (result.applied.length > 0 || cluster.databaseCreated) {
        progress('privileges');
        await convergeInDatabase(db, model, { onChange });
      }
      return result;
    });
  }
}

/**
 * A checked session on the database, or undefined when the database does not exist yet or
 * refuses the administrator (its CONNECT rights are setup's to fix, from the maintenance
 * database). Any other failure (refused, timed out, bad password) is worded for the settings
 * the user gave (`given`), as if setup had connected there first.
 */
async function connectIfExists(c: ConnectionSettings, opts: ConnectOptions, given: ConnectionSettings): Promise<Sql | undefined> {
  const sql = connect(c, { max: 1, ...opts });
  try {
    await sql`select 1`;
    return sql;
  } catch (e) {
    await sql.end({ timeout: 1 }).catch(() => {});
    const code = (e as { code?: string }).code;
    if (code === '3D000' || code === '42501') return undefined;
    throw connectionError(e, given);
  }
}

/** What one run carries: its progress line, the changes it records, and how it connects. */
function setupRun(input: SetupInput) {
  const changes: SetupReport['changes'] = [];
  const onChange: ChangeListener = (line, scope, subject) => {
    changes.push({ line, scope, subject });
    input.onChange?.(line, scope, subject);
  };
  const connection = (database: string): [ConnectionSettings, ConnectOptions] => [
    { ...input.admin, database },
    { applicationName: 'pgsteward setup', ...(input.onQuery ? { onQuery: (text: string) => input.onQuery!(text, database) } : {}) },
  ];
  return { progress: input.onProgress ?? (() => {}), onChange, changes, connection };
}

/**
 * The database's migration lock (sqlx's own), held around privileges and migrations so they
 * never interleave with another setup or a `sqlx migrate run` on the same database.
 */
function withMigrationLock<T>(db: Sql, database: string, fn: () => Promise<T>): Promise<T> {
  return withLock(db, sqlxLockKey(database), { timeoutMs: MIGRATION_LOCK_TIMEOUT_MS, what: `the migration lock on database ${database}`, idleHint: 'an idle holder is often a crashed migration client' }, fn);
}

/**
 * pg_uuidv7, which the design record's keys and most sqlx applications' first migration need:
 * made available by the administrator (the server's own extension, the local cluster's SQL
 * one, or a pg_tle registration), just before migrations run; a server that can offer none
 * is refused here, before any migration.
 */
async function provideExtensions(db: Sql, onChange: ChangeListener): Promise<void> {
  const r = await provideUuidV7(db);
  if (r.action !== 'none') onChange(`created extension pg_uuidv7 ${r.version} (${IMPLEMENTATION_LABEL[r.implementation]}) in schema ${r.schema}`, 'database');
}

/**
 * Migrations, only when some are pending (or the ledger has a problem the runner will name);
 * `beforeApplying` runs first, and only then.
 */
async function applyPendingMigrations(db: Sql, model: RoleModel, input: Pick<SetupInput, 'migrations' | 'ignoreMissing' | 'lockWaitTimeoutMs'>, progress: (m: string) => void, beforeApplying: () => Promise<void>): Promise<MigrateResult> {
  const { migrations, ignoreMissing, lockWaitTimeoutMs } = input;
  const status = await migrationStatus(db, migrations, { ignoreMissing });
  if (!status.problem && status.pending.length === 0) return { applied: [], alreadyApplied: status.applied.length, ignoredMissing: [] };
  await beforeApplying();
  progress('migrations');
  return migrate(db, model.database, migrations, { runAs: model.roles.owner, ignoreMissing, lockWaitTimeoutMs });
}
