/**
 * A dump's table of contents (`pg_restore --list`), split for a restore that adopts another
 * database's role model: schemas and extensions (with their comments, and pg_tle's
 * registration functions) are created by the administrator, since an extension may need a superuser, and everything else by the
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
/** The schema pg_tle keeps its registrations in: one function per control file and per script. */
const PG_TLE_SCHEMA = 'pgtle';

export function splitToc(list: string): TocSplit {
  const out: TocSplit = { admin: [], owner: [], schemas: [] };
  for (const line of list.split('\n')) {
    const m = ENTRY.exec(line.trimEnd());
    if (!m) continue;
    const rest = m[1]!;
    const schema = /^SCHEMA - (.+?)(?: \S+)?$/.exec(rest);
    // pg_tle's registration functions go with the extensions: only pgtle_admin may create
    // them, and the extension they register must find them when it is created.
    if (schema || /^EXTENSION - /.test(rest) || /^COMMENT - (EXTENSION|SCHEMA) /.test(rest) || rest.startsWith(`FUNCTION ${PG_TLE_SCHEMA} `)) {
      out.admin.push(line.trimEnd());
      if (schema) out.schemas.push(schema[1]!);
    } else {
      out.owner.push(line.trimEnd());
    }
  }
  return out;
}

/** What a dump's listing says about its extensions. */
export interface TocExtensions {
  /** The extensions it creates (`EXTENSION - <name>` entries), in listing order. */
  created: string[];
  /**
   * Extensions whose pg_tle registration the dump carries: pg_tle (1.0.3 and later) makes
   * pg_dump write a TLE's `pgtle."<name>.control"()` and script functions, so restoring them
   * registers the extension again before its CREATE EXTENSION.
   */
  registeredViaPgTle: string[];
}

/** Pure. */
export function tocExtensions(list: string): TocExtensions {
  const out: TocExtensions = { created: [], registeredViaPgTle: [] };
  for (const line of list.split('\n')) {
    const m = ENTRY.exec(line.trimEnd());
    if (!m) continue;
    const ext = /^EXTENSION - (\S+)/.exec(m[1]!);
    if (ext) out.created.push(ext[1]!);
    const control = new RegExp(`^FUNCTION ${PG_TLE_SCHEMA} (\\S+)\\.control\\(\\) `).exec(m[1]! + ' ');
    if (control) out.registeredViaPgTle.push(control[1]!);
  }
  return out;
}
