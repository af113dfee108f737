import { ident, literal, type Sql } from '../db/connect.ts';
import { UserError } from '../errors.ts';
import { pgUuidv7, type BundledExtension } from './bundled.ts';
import { pgTleInstallBundled } from './pgtle.ts';

/**
 * Making pg_uuidv7 available in a database, whatever the server: the real C extension where
 * it is installed (Docker dev), our SQL one where the local cluster put its files into
 * share/extension (both are then plain CREATE EXTENSION), or our SQL one registered through
 * pg_tle where the server offers pg_tle instead (Amazon RDS). Anything else is refused before
 * a migration runs, since every migration after 0001 needs uuid_generate_v7().
 */

export const EXTENSION = 'pg_uuidv7';

/** Which code answers uuid_generate_v7() in a database. */
export type Implementation = 'c' | 'sql' | 'pg_tle' | 'other';

export const IMPLEMENTATION_LABEL: Record<Implementation, string> = {
  c: 'C extension',
  sql: 'SQL extension',
  pg_tle: 'SQL extension through pg_tle',
  other: 'unknown implementation',
};

/** What the server and the database offer, as far as pg_uuidv7 is concerned. */
export interface UuidV7Offer {
  /** pg_uuidv7 already created in this database. */
  installed?: { schema: string; version: string } | undefined;
  /** pg_uuidv7 in share/extension (the C extension, or ours on the local cluster). */
  available?: { defaultVersion: string; comment: string | null } | undefined;
  pgTle: {
    /** pg_tle's files are on the server. */
    available: boolean;
    /** pg_tle is in shared_preload_libraries, which CREATE EXTENSION pg_tle requires. */
    preloaded: boolean;
    /** pg_tle created in this database. */
    installed: boolean;
    /** pg_uuidv7 registered with pg_tle in this database. */
    registered: boolean;
  };
  /** The connected role may register pg_tle extensions (superuser or member of pgtle_admin). */
  tleAdmin: boolean;
}

export type UuidV7Plan =
  | { action: 'none'; statements: [] }
  | { action: 'create'; statements: string[] }
  | { action: 'pg_tle'; statements: string[] };

/** Pure: whether a shared_preload_libraries value names `lib`. */
export function preloads(setting: string, lib: string): boolean {
  return setting
    .split(',')
    .map((s) => s.trim().replace(/^"(.*)"$/, '$1'))
    .includes(lib);
}

export function createStatement(schema: string): string {
  return `CREATE EXTENSION IF NOT EXISTS ${EXTENSION} SCHEMA ${ident(schema)}`;
}

/**
 * Pure: the statements that make pg_uuidv7 available, in order; refuses with one line naming
 * the choices when the server has neither the extension nor pg_tle.
 */
export function planUuidV7(offer: UuidV7Offer, opts: { schema: string; ext?: BundledExtension; create?: boolean }): UuidV7Plan {
  // create: false stops at "CREATE EXTENSION pg_uuidv7 would work": what a database about to
  // be filled by pg_restore needs, since the dump creates the extension itself, in its schema.
  const create = opts.create ?? true;
  if (offer.installed) return { action: 'none', statements: [] };
  if (offer.available) return create ? { action: 'create', statements: [createStatement(opts.schema)] } : { action: 'none', statements: [] };
  const tle = offer.pgTle;
  if (tle.available || tle.installed) {
    if (!tle.preloaded) {
      throw new UserError(
        'the server offers pg_tle but does not load it, and has no pg_uuidv7',
        "add pg_tle to shared_preload_libraries (on RDS: in the DB parameter group) and restart the server, or install the pg_uuidv7 extension",
      );
    }
    const statements: string[] = [];
    if (!tle.installed) statements.push('CREATE EXTENSION IF NOT EXISTS pg_tle');
    if (!tle.registered) {
      // pgtle_admin exists once pg_tle is created; RDS's master user is not a member by default.
      if (!offer.tleAdmin) statements.push('GRANT pgtle_admin TO CURRENT_USER');
      statements.push(pgTleInstallBundled(opts.ext ?? pgUuidv7()));
    }
    if (create) statements.push(createStatement(opts.schema));
    return statements.length ? { action: 'pg_tle', statements } : { action: 'none', statements: [] };
  }
  throw new UserError(
    'the server offers neither the pg_uuidv7 extension nor pg_tle, and every migration needs uuid_generate_v7()',
    "install pg_uuidv7 on the server (github.com/fboulnois/pg_uuidv7), or enable pg_tle (shared_preload_libraries = 'pg_tle') so setup can register pgsteward's SQL pg_uuidv7",
  );
}

/** What the server offers, read from the database the extension is for. */
export async function readUuidV7Offer(sql: Sql): Promise<UuidV7Offer> {
  const [r] = await sql<
    {
      installed_schema: string | null;
      installed_version: string | null;
      available_version: string | null;
      available_comment: string | null;
      tle_available: boolean;
      tle_installed: boolean;
      preload: string;
      superuser: boolean;
      tle_admin: boolean;
    }[]
  >`
    select n.nspname as installed_schema, e.extversion as installed_version,
           a.default_version as available_version, a.comment as available_comment,
           exists (select from pg_available_extensions where name = 'pg_tle') as tle_available,
           exists (select from pg_extension where extname = 'pg_tle') as tle_installed,
           current_setting('shared_preload_libraries') as preload,
           (select rolsuper from pg_roles where rolname = current_user) as superuser,
           coalesce((select pg_has_role(current_user, oid, 'MEMBER') from pg_roles where rolname = 'pgtle_admin'), false) as tle_admin
    from (select) as one
    left join pg_extension e on e.extname = ${EXTENSION}
    left join pg_namespace n on n.oid = e.extnamespace
    left join pg_available_extensions a on a.name = ${EXTENSION}`;
  let registered = false;
  if (r!.tle_installed) {
    const [t] = await sql<{ registered: boolean }[]>`select exists (select from pgtle.available_extensions() where name = ${EXTENSION}) as registered`;
    registered = t!.registered;
  }
  return {
    installed: r!.installed_schema ? { schema: r!.installed_schema, version: r!.installed_version! } : undefined,
    available: r!.available_version ? { defaultVersion: r!.available_version, comment: r!.available_comment } : undefined,
    pgTle: { available: r!.tle_available, preloaded: preloads(r!.preload, 'pg_tle'), installed: r!.tle_installed, registered },
    tleAdmin: r!.superuser || r!.tle_admin,
  };
}

/** The catalog facts that tell the implementations apart. */
export interface ImplementationRow {
  /** Language of the extension's uuid_generate_v7(): `c`, `sql`, … */
  language: string;
  /** The extension depends on pg_tle, i.e. CREATE EXTENSION read it from pg_tle's registry. */
  viaPgTle: boolean;
}

/** Pure: which implementation the catalog rows describe. */
export function implementationOf(row: ImplementationRow): Implementation {
  if (row.language === 'c') return 'c';
  if (row.language !== 'sql') return 'other';
  return row.viaPgTle ? 'pg_tle' : 'sql';
}

/**
 * One row per database that has pg_uuidv7: its schema, version, and the facts for
 * implementationOf(). Found through the extension's membership, so any schema works.
 */
export const IMPLEMENTATION_QUERY = `
select n.nspname as schema, e.extversion as version, l.lanname as language,
       exists (select from pg_depend d join pg_extension t on t.oid = d.refobjid
               where d.classid = 'pg_extension'::regclass and d.objid = e.oid
                 and d.refclassid = 'pg_extension'::regclass and t.extname = 'pg_tle') as via_pg_tle
from pg_extension e
join pg_namespace n on n.oid = e.extnamespace
join pg_depend m on m.refclassid = 'pg_extension'::regclass and m.refobjid = e.oid
                and m.classid = 'pg_proc'::regclass and m.deptype = 'e'
join pg_proc p on p.oid = m.objid and p.proname = 'uuid_generate_v7' and p.pronargs = 0
join pg_language l on l.oid = p.prolang
where e.extname = ${literal(EXTENSION)}`;

export interface UuidV7Status {
  schema: string;
  version: string;
  implementation: Implementation;
}

/** Which pg_uuidv7 the database has, if any. */
export async function uuidV7Status(sql: Sql): Promise<UuidV7Status | undefined> {
  const [r] = await sql.unsafe<{ schema: string; version: string; language: string; via_pg_tle: boolean }[]>(IMPLEMENTATION_QUERY);
  if (!r) return undefined;
  return { schema: r.schema, version: r.version, implementation: implementationOf({ language: r.language, viaPgTle: r.via_pg_tle }) };
}

export interface UuidV7Provision extends UuidV7Status {
  /** What this call did: nothing (already there), CREATE EXTENSION, or pg_tle registration + CREATE EXTENSION. */
  action: UuidV7Plan['action'];
}

/**
 * Makes pg_uuidv7 available in the database `sql` is connected to, as its administrator
 * (superuser, or RDS's master user). Idempotent. Throws a UserError when the server cannot
 * offer it. The statements run in one transaction, so a failure leaves nothing half-done.
 */
export async function provideUuidV7(sql: Sql, opts: { schema?: string } = {}): Promise<UuidV7Provision> {
  const schema = opts.schema ?? 'public';
  const plan = await applyPlan(sql, planUuidV7(await readUuidV7Offer(sql), { schema }));
  const status = await uuidV7Status(sql);
  if (!status) throw new UserError(`${EXTENSION} was created but its uuid_generate_v7() is missing`, `check the extension's files on the server (ALTER EXTENSION ${EXTENSION} UPDATE, or reinstall it)`);
  return { action: plan.action, ...status };
}

async function applyPlan(sql: Sql, plan: UuidV7Plan): Promise<UuidV7Plan> {
  if (plan.statements.length) {
    await sql.begin(async (tx) => {
      for (const s of plan.statements) await tx.unsafe(s);
    });
  }
  return plan;
}

/**
 * Pure: what a new database about to be filled by pg_restore needs so that the dump's own
 * `CREATE EXTENSION pg_uuidv7` works there. The dump creates the extension itself, in the
 * schema it names, so nothing here creates it.
 * - The dump carries no registration (its source had the C or the file-based extension): on a
 *   server that offers pg_uuidv7 only through pg_tle, pg_tle is created and our SQL pg_uuidv7
 *   registered in this database (registrations are per database); where share/extension has
 *   it, nothing.
 * - The dump carries pg_tle's registration (its source registered pg_uuidv7 through pg_tle:
 *   RDS): the dump creates pg_tle and registers it again, so registering it here as well would
 *   make its CREATE FUNCTION fail. The server must load pg_tle, and the restoring role must be
 *   pgtle_admin to write into pg_tle's schema.
 */
export function planUuidV7ForRestore(offer: UuidV7Offer, dump: { registeredViaPgTle: boolean }): UuidV7Plan {
  if (!dump.registeredViaPgTle) return planUuidV7(offer, { schema: 'public', create: false });
  if (offer.installed) return { action: 'none', statements: [] };
  const tle = offer.pgTle;
  if (!tle.available && !tle.installed) {
    throw new UserError(
      `the backup registers ${EXTENSION} through pg_tle, and this server does not offer pg_tle`,
      "restore it on a server that loads pg_tle (shared_preload_libraries = 'pg_tle'; on RDS, in the DB parameter group)",
    );
  }
  if (!tle.preloaded) {
    throw new UserError(
      `the backup registers ${EXTENSION} through pg_tle, and this server offers pg_tle but does not load it`,
      'add pg_tle to shared_preload_libraries (on RDS: in the DB parameter group) and restart the server',
    );
  }
  if (offer.tleAdmin) return { action: 'none', statements: [] };
  // pgtle_admin exists once pg_tle has been created; creating it here first is what the dump's
  // own CREATE EXTENSION IF NOT EXISTS pg_tle would do.
  return { action: 'pg_tle', statements: [...(tle.installed ? [] : ['CREATE EXTENSION IF NOT EXISTS pg_tle']), 'GRANT pgtle_admin TO CURRENT_USER'] };
}

/**
 * Runs planUuidV7ForRestore's statements in the database `sql` is connected to (a new,
 * empty one), as its administrator, in one transaction. Returns the plan it ran; throws its
 * one-line UserError when the server cannot offer what the dump needs.
 */
export async function prepareUuidV7ForRestore(sql: Sql, dump: { registeredViaPgTle: boolean }): Promise<UuidV7Plan> {
  return applyPlan(sql, planUuidV7ForRestore(await readUuidV7Offer(sql), dump));
}
