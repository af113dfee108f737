import { ident } from '../db/connect.ts';

/** Statements that are not convergence: the privileged extensions. */

/** Extensions that need more than the owner role may have; created by the administrator when offered. */
export const PRIVILEGED_EXTENSIONS = ['pg_uuidv7'] as const;

export function privilegedExtensionStatement(ext: string, schema = 'public'): string {
  return `CREATE EXTENSION IF NOT EXISTS ${ident(ext)} SCHEMA ${ident(schema)}`;
}
