/**
 * A dump's table of contents (`pg_restore --list`), split for a restore that adopts another
 * database's role model: schemas and extensions (with their comments) are created by the
 * administrator, since an extension may need a superuser, and everything else by the
 * destination's owner role, so that it owns what it creates. Pure.
 */
export interface TocSplit {
  /** Entries restored as the administrator. */
  admin: string[];
  /** Entries restored as the owner role. */
  owner: string[];
  /** Schemas the dump creates (their owner is changed to the owner role afterwards). */
  schemas: string[];
}

const ENTRY = /^\d+; \d+ \d+ (.+)$/;

export function splitToc(list: string): TocSplit {
  const out: TocSplit = { admin: [], owner: [], schemas: [] };
  for (const line of list.split('\n')) {
    const m = ENTRY.exec(line.trimEnd());
    if (!m) continue;
    const rest = m[1]!;
    const schema = /^SCHEMA - (.+?)(?: \S+)?$/.exec(rest);
    if (schema || /^EXTENSION - /.test(rest) || /^COMMENT - (EXTENSION|SCHEMA) /.test(rest)) {
      out.admin.push(line.trimEnd());
      if (schema) out.schemas.push(schema[1]!);
    } else {
      out.owner.push(line.trimEnd());
    }
  }
  return out;
}
