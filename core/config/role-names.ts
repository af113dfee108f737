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
