import { ident } from '../../core/db/connect.ts';

/** PostgreSQL's identifier limit in bytes (NAMEDATALEN - 1). */
export const MAX_IDENTIFIER_BYTES = 63;

/** Cuts a string to at most `bytes` UTF-8 bytes without splitting a character. */
export function truncateBytes(s: string, bytes: number): string {
  let out = '';
  let used = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (used + n > bytes) break;
    out += ch;
    used += n;
  }
  return out;
}

/** `<table>_<col>_<col>_<suffix>`, shortened to 63 bytes as PostgreSQL shortens its own generated names. */
export function derivedName(table: string, columns: readonly string[], suffix: string): string {
  const base = [table, ...columns].join('_');
  return truncateBytes(base, MAX_IDENTIFIER_BYTES - suffix.length - 1) + '_' + suffix;
}

/** Quotes an identifier only when it needs it; derived names end in `_idx`/`_key`, so they are never keywords. */
export function derivedIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : ident(name);
}

/** `schema.table` for SQL text, quoting a part only when it is not a plain lower-case name. */
export function qualified(schema: string, table: string): string {
  return `${derivedIdent(schema)}.${derivedIdent(table)}`;
}
