/**
 * The normalized catalog the drift engine compares: every object of a database as a key,
 * a display name and a set of fields, with role names already replaced by their kind
 * (see roles.ts), so two databases with different role names compare as equals.
 */

export const OBJECT_TYPES = [
  'database',
  'schema',
  'extension',
  'type',
  'table',
  'view',
  'materialized view',
  'foreign table',
  'column',
  'constraint',
  'index',
  'sequence',
  'function',
  'procedure',
  'aggregate',
  'trigger',
  'policy',
  'event trigger',
  'default privileges',
  'role membership',
  'role settings',
] as const;
export type ObjectType = (typeof OBJECT_TYPES)[number];

/** A field's value: text, absent (`null`), or a set of entries (kept sorted, compared as a set). */
export type FieldValue = string | null | readonly string[];

export interface CatalogObject {
  type: ObjectType;
  /** Identity within a snapshot; equal keys on both sides mean "the same object". Symbolic, never an OID. */
  key: string;
  /** How a human names it: `public.users`, `public.users.email`, `users_set_updated_at on public.users`. */
  display: string;
  /** The object this one belongs to (a column's table, a table's schema): an extra table is one finding, not one per column. */
  parent?: string | undefined;
  /**
   * Constraints and indexes: matched by definition within their table when PostgreSQL
   * chose the name (see matching in diff.ts), so `users_email_idx` and `users_email_idx1`
   * built from the same statement are the same index.
   */
  match?: { table: string; name: string; signature: string; generatedName: boolean } | undefined;
  fields: Record<string, FieldValue>;
  /** SQL the fix texts quote: how to create and drop this object. Never compared. */
  sql?: { create?: string | undefined; drop?: string | undefined } | undefined;
}

export interface Snapshot {
  /** Server major version the snapshot was read from. */
  major: number;
  objects: Map<string, CatalogObject>;
  /** Real role name for each role symbol, on this side (`@app` → `app_app`). */
  roleNames: Map<string, string>;
}

export type DriftKind = 'extra' | 'missing' | 'changed';

export interface FieldChange {
  field: string;
  /** What the migrations build (the reference); null when absent there. */
  expected: FieldValue;
  /** What the live database has; null when absent there. */
  actual: FieldValue;
  /** `default changed from none to 'x'::text` */
  description: string;
}

/** One object that differs between the live database and what its migrations build. */
export interface DriftFinding {
  /** `extra`: in the live database only ("created outside migrations"); `missing`: built by the migrations, absent live; `changed`: both, different. */
  kind: DriftKind;
  objectType: ObjectType;
  /** The object as the live database names it (the reference's name for a missing one). */
  object: string;
  /** Field-level differences; empty for extra and missing objects. */
  fields: FieldChange[];
  message: string;
  /** The two ways out: a migration that makes the live state official, or the SQL that puts the live database back. */
  fix: string;
  /** The SQL of a migration that makes the live state official, where the catalog says exactly what it is (also quoted in `fix`). */
  migrationSql?: string;
  /** The SQL that puts the live database back to what the migrations build, where there is exact SQL (also quoted in `fix`). */
  restoreSql?: string;
}
