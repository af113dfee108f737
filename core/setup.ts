import { connectChecked, ident, type Sql } from './db/connect.ts';
import type { ConnectionSettings } from './db/url.ts';
import type { LoginRole, RoleNames } from './config/names.ts';
import { roleNames } from './config/names.ts';
import { appConnectionLimit, type PoolBudget } from './config/target.ts';
import type { Migration } from './migrations/files.ts';
import { migrate, type MigrateResult } from './migrations/runner.ts';
import {
  adminMembershipStatement,
  clusterRoleStatements,
  createDatabaseStatement,
  databaseAccessStatements,
  objectGrantStatements,
  schemaStatements,
} from './roles/sql.ts';
import { scramVerifier } from './roles/scram.ts';
import { UserError } from './errors.ts';
import { provideUuidV7 } from './extensions/uuidv7.ts';

export interface SetupInput {
  /** Superuser or RDS master, on the maintenance database. */
  admin: ConnectionSettings;
  database: string;
  pool: PoolBudget;
  /** Passwords for the login roles; a missing one leaves that role's password unchanged. */
  passwords: Partial<Record<LoginRole, string>>;
  migrations: readonly Migration[];
  onProgress?: (message: string) => void;
}

export interface SetupReport {
  database: string;
  databaseCreated: boolean;
  rolesCreated: string[];
  roles: RoleNames;
  migrations: MigrateResult;
  serverVersion: string;
}

/** One line for humans: "applied 3, 9 already applied". */
export function describeSetup(r: SetupReport): string {
  const created = r.databaseCreated ? `created database ${r.database}; ` : '';
  const roles = r.rolesCreated.length ? `created roles ${r.rolesCreated.join(', ')}; ` : '';
  return `${created}${roles}applied ${r.migrations.applied.length}, ${r.migrations.alreadyApplied} already applied`;
}

async function execAll(sql: Sql, statements: readonly string[]): Promise<void> {
  for (const s of statements) await sql.unsafe(s);
}

/**
 * Roles, database, privileges, then migrations. Safe and idempotent: every step converges,
 * so running it again changes nothing that is already right. Used by `setup-db`, by
 * `reset-db`, by the dev stack's bootstrap container and by the prod bootstrap Lambda.
 */
export async function setupDatabase(input: SetupInput): Promise<SetupReport> {
  const progress = input.onProgress ?? (() => {});
  const roles = roleNames(input.database);
  const verifiers: Partial<Record<LoginRole, string>> = {};
  for (const [role, pw] of Object.entries(input.passwords) as [LoginRole, string][]) verifiers[role] = scramVerifier(pw);

  const maint = await connectChecked(input.admin, { max: 1, applicationName: 'pgsteward setup' });
  let databaseCreated = false;
  let rolesCreated: string[] = [];
  let serverVersion = '';
  try {
    const [v] = await maint<{ server_version: string; num: number }[]>`select current_setting('server_version') as server_version, current_setting('server_version_num')::int as num`;
    serverVersion = v!.server_version;
    const names = Object.values(roles);
    const before = await maint<{ rolname: string }[]>`select rolname from pg_roles where rolname = any(${names})`;
    progress('roles');
    await execAll(maint, clusterRoleStatements({ database: input.database, roles, appConnectionLimit: appConnectionLimit(input.pool), verifiers }));
    await maint.unsafe(adminMembershipStatement(roles));
    rolesCreated = names.filter((n) => !before.some((b) => b.rolname === n));
    const exists = await maint`select 1 from pg_database where datname = ${input.database}`;
    if (exists.length === 0) {
      progress(`create database ${input.database}`);
      await maint.unsafe(createDatabaseStatement(input.database, roles));
      databaseCreated = true;
    }
    await execAll(maint, databaseAccessStatements(input.database, roles));
  } finally {
    await maint.end({ timeout: 5 });
  }

  const adminDb = await connectChecked({ ...input.admin, database: input.database }, { max: 1, applicationName: 'pgsteward setup' });
  try {
    progress('schema privileges');
    await execAll(adminDb, schemaStatements(roles));
    progress('pg_uuidv7');
    await provideUuidV7(adminDb);
  } finally {
    await adminDb.end({ timeout: 5 });
  }

  // Migrate as the migrator when we can log in as it; otherwise as the administrator acting as the owner.
  const asMigrator = input.passwords.migrator !== undefined;
  const migrator = await connectChecked(
    asMigrator ? { ...input.admin, database: input.database, user: roles.migrator, password: input.passwords.migrator } : { ...input.admin, database: input.database },
    { max: 1, applicationName: 'pgsteward migrate' },
  );
  let migrations: MigrateResult;
  try {
    progress('migrations');
    migrations = await migrate(migrator, input.database, input.migrations, { runAs: roles.owner });
  } finally {
    await migrator.end({ timeout: 5 });
  }

  const grants = await connectChecked({ ...input.admin, database: input.database }, { max: 1, applicationName: 'pgsteward setup' });
  try {
    progress('object grants');
    await execAll(grants, objectGrantStatements(roles));
  } finally {
    await grants.end({ timeout: 5 });
  }
  return { database: input.database, databaseCreated, rolesCreated, roles, migrations, serverVersion };
}

/** Drops and recreates the database's schema; the caller has confirmed and taken a backup. */
export async function dropSchema(admin: ConnectionSettings, database: string, schema = 'public'): Promise<void> {
  const roles = roleNames(database);
  const sql = await connectChecked({ ...admin, database }, { max: 1, applicationName: 'pgsteward reset' });
  try {
    const others = await sql`select count(*)::int as n from pg_stat_activity where datname = ${database} and pid <> pg_backend_pid()`;
    if ((others[0]?.n as number) > 0) {
      throw new UserError(`database ${database} has ${others[0]!.n} other open connection(s)`, 'stop the applications using it, then run reset-db again');
    }
    await sql.begin(async (tx) => {
      await tx.unsafe(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`);
      await tx.unsafe(`CREATE SCHEMA ${ident(schema)} AUTHORIZATION ${ident(roles.owner)}`);
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
}
