import { literal } from '../db/connect.ts';
import type { BundledExtension } from './bundled.ts';

/**
 * pg_tle (Trusted Language Extensions, offered by Amazon RDS) keeps an extension's control
 * data and install script in the database instead of share/extension; after
 * pgtle.install_extension registers them, CREATE EXTENSION installs it as from files.
 * pg_tle wraps the script in these two dollar quotes itself, so it refuses scripts that contain them.
 */
export const PGTLE_DELIMITERS = ['$_pgtle_o_$', '$_pgtle_i_$'] as const;

export interface TleExtension {
  name: string;
  version: string;
  description: string;
  /** The install script, exactly as CREATE EXTENSION would read it from `<name>--<version>.sql`. */
  sql: string;
  /** Extensions it needs besides pg_tle (pg_tle adds itself). */
  requires?: readonly string[];
}

/** Pure: a dollar-quote tag that does not occur in `text`. */
export function dollarTag(text: string, base = 'pgsteward'): string {
  for (let n = 0; ; n++) {
    const tag = `$${base}${n === 0 ? '' : `_${n}`}$`;
    if (!text.includes(tag)) return tag;
  }
}

/**
 * Pure: the statement that registers `ext` with pg_tle in the current database. Needs a member
 * of pgtle_admin (RDS: GRANT pgtle_admin TO <master user>); CREATE EXTENSION follows it.
 */
export function pgTleInstallStatement(ext: TleExtension): string {
  for (const d of PGTLE_DELIMITERS) {
    if (ext.sql.includes(d) || ext.description.includes(d)) throw new Error(`the ${ext.name} script contains ${d}, which pg_tle refuses`);
  }
  const tag = dollarTag(ext.sql);
  const args = [literal(ext.name), literal(ext.version), literal(ext.description), `${tag}${ext.sql}${tag}`];
  if (ext.requires?.length) args.push(`ARRAY[${ext.requires.map(literal).join(', ')}]::text[]`);
  return `SELECT pgtle.install_extension(\n  ${args.join(',\n  ')}\n)`;
}

/** Pure: the registration of one of our bundled SQL extensions, from the same files share/extension gets. */
export function pgTleInstallBundled(ext: BundledExtension): string {
  return pgTleInstallStatement({
    name: ext.name,
    version: ext.version,
    description: ext.control.comment ?? ext.name,
    sql: ext.script,
    requires: ext.control.requires,
  });
}
