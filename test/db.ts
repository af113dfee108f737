import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { ident, withConnection, type Sql } from '../core/db/connect.ts';
import type { ConnectionSettings } from '../core/db/url.ts';
import { readMigrations, type Migration } from '../core/migrations/files.ts';
import { MIGRATIONS_DIR } from '../core/paths.ts';
import { setupDatabase, type SetupReport } from '../core/setup.ts';
import { LOGIN_ROLES, roleNames, type LoginRole } from '../core/config/role-names.ts';
import { generatePassword } from '../core/secrets.ts';

/** Superuser settings for the suite's PostgreSQL 17 (see global-setup). */
export function pgAdmin(database = 'postgres'): ConnectionSettings {
  return { ...inject('pg17').admin, database };
}

/** A database name no other test uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`.toLowerCase();
}

/** A fresh, empty database; returns its name. */
export async function createDatabase(prefix = 't'): Promise<string> {
  const name = uniqueName(prefix);
  await withSql(pgAdmin(), (sql) => sql.unsafe(`CREATE DATABASE ${ident(name)} TEMPLATE template0`));
  return name;
}

export interface ProvisionedDatabase {
  database: string;
  passwords: Record<LoginRole, string>;
  report: SetupReport;
  /** Settings to connect as a login role, or as the superuser when role is omitted. */
  as(role?: LoginRole): ConnectionSettings;
}

/** A database set up exactly as setup-db does it: roles, migrations, grants. */
export async function provisionDatabase(prefix = 't', migrations: readonly Migration[] = readMigrations(MIGRATIONS_DIR)): Promise<ProvisionedDatabase> {
  const database = uniqueName(prefix);
  const passwords = Object.fromEntries(LOGIN_ROLES.map((r) => [r, generatePassword()])) as Record<LoginRole, string>;
  const report = await setupDatabase({ admin: pgAdmin(), database, pool: { max: 10, min: 2, instances: 1 }, passwords, migrations });
  const roles = roleNames(database);
  return {
    database,
    passwords,
    report,
    as: (role) => (role ? { ...pgAdmin(database), user: roles[role], password: passwords[role] } : pgAdmin(database)),
  };
}

/** Runs `fn` with one connection that is always closed afterwards (withConnection, for tests). */
export function withSql<T>(settings: ConnectionSettings, fn: (sql: Sql) => Promise<T>): Promise<T> {
  return withConnection(settings, { applicationName: 'pgsteward test' }, fn);
}

/** The SQLSTATE `statement` fails with when run with `settings` in a rolled-back transaction, or 'ok'. */
export async function sqlstateOf(settings: ConnectionSettings, statement: string): Promise<string> {
  return withSql(settings, async (sql) => {
    try {
      await sql.begin(async (tx) => {
        await tx.unsafe(statement);
        throw Object.assign(new Error('rollback'), { code: 'ok' });
      });
      return 'unreachable';
    } catch (e) {
      return (e as { code?: string }).code ?? 'error';
    }
  });
}
