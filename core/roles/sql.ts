import { ident } from '../db/connect.ts';
import type { RoleNames } from '../config/role-names.ts';

/** Statements that are not convergence: creating a database, and the privileged extensions. */

export function createDatabaseStatement(database: string, roles: RoleNames): string {
  return `CREATE DATABASE ${ident(database)} OWNER ${ident(roles.owner)} ENCODING 'UTF8' TEMPLATE template0`;
}

/** Extensions that need more than the owner role may have; created by the administrator when offered. */
export const PRIVILEGED_EXTENSIONS = ['pg_uuidv7'] as const;

export function privilegedExtensionStatement(ext: string, schema = 'public'): string {
  return `CREATE EXTENSION IF NOT EXISTS ${ident(ext)} SCHEMA ${ident(schema)}`;
}
