import { UserError } from '../errors.ts';

/** Database and role names: lower-case identifiers short enough that every role suffix still fits in 63 bytes. */
export const NAME_PATTERN = /^[a-z_][a-z0-9_]{0,47}$/;

export function validateName(name: string, what = 'database name'): string {
  if (!NAME_PATTERN.test(name)) {
    throw new UserError(
      `invalid ${what} "${name.slice(0, 64)}"`,
      'use 1-48 characters: lower-case letters, digits and underscores, not starting with a digit',
    );
  }
  if (name.startsWith('pg_')) {
    throw new UserError(
      `${what} "${name}" starts with pg_, which PostgreSQL reserves (its roles would be ${name}_owner, ${name}_app, …, and role names starting with pg_ are reserved)`,
      'choose a name that does not start with pg_',
    );
  }
  return name;
}

/**
 * Databases that belong to the server, not to an application: the maintenance database,
 * the templates every CREATE DATABASE copies, and Amazon RDS's own.
 */
export const SYSTEM_DATABASES = ['postgres', 'template0', 'template1', 'rdsadmin'] as const;

/** The name of a database pgsteward may manage: a valid name, and not one of the server's own. */
export function validateDatabaseName(name: string, what = 'database name'): string {
  validateName(name, what);
  if ((SYSTEM_DATABASES as readonly string[]).includes(name)) {
    throw new UserError(
      `${what} "${name}" is a system database; pgsteward manages application databases only and never installs roles or a schema there`,
      'name your application database with --database NAME, DB_NAME, or the path of the URL (postgres://…/app)',
    );
  }
  return name;
}

export const ROLE_KINDS = ['owner', 'migrator', 'app', 'readonly', 'backup'] as const;
export type RoleKind = (typeof ROLE_KINDS)[number];
export type RoleNames = Record<RoleKind, string>;

/** The least-privilege roles of one database, derived from its name so several databases can share a server. */
export function roleNames(database: string): RoleNames {
  validateName(database);
  return {
    owner: `${database}_owner`,
    migrator: `${database}_migrator`,
    app: `${database}_app`,
    readonly: `${database}_readonly`,
    backup: `${database}_backup`,
  };
}

/** The roles that can log in, in the order reports list them. */
export const LOGIN_ROLES = ['migrator', 'app', 'readonly', 'backup'] as const satisfies readonly RoleKind[];
export type LoginRole = (typeof LOGIN_ROLES)[number];
