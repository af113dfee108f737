import { UserError } from '../errors.ts';
import { ident, literal, withConnection, type Sql } from './connect.ts';
import { otherSessions, type Session } from './sessions.ts';
import type { ConnectionSettings } from './url.ts';

/**
 * Databases as a whole: exist, create, drop, copy, rename into place, clear a schema. Every
 * statement here runs on a maintenance connection (a database cannot be created, copied or
 * renamed from a session inside it), except dropSchema, which connects to the database itself.
 */

/** Any name PostgreSQL takes unquoted: lower case, at most 63 bytes. */
export const DATABASE_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export function validateDatabaseIdentifier(name: string): string {
  if (!DATABASE_IDENTIFIER.test(name)) {
    throw new UserError(`invalid database name "${name.slice(0, 64)}"`, 'use lower-case letters, digits and underscores, not starting with a digit, at most 63 characters');
  }
  return name;
}

export async function databaseExists(sql: Sql, name: string): Promise<boolean> {
  return (await sql`select 1 from pg_database where datname = ${name}`).length > 0;
}

/** Pure: an empty UTF-8 database from template0, owned by `owner`. */
export function createDatabaseSql(name: string, owner: string): string {
  return `CREATE DATABASE ${ident(name)} OWNER ${ident(owner)} ENCODING 'UTF8' TEMPLATE template0`;
}

export interface CreateOptions {
  owner: string;
  /** A COMMENT set right after creation (the scratch marker of a restore or verification). */
  comment?: string;
}

/** Creates an empty database; refuses a name that is taken. */
export async function createDatabase(sql: Sql, name: string, opts: CreateOptions): Promise<void> {
  validateDatabaseIdentifier(name);
  if (await databaseExists(sql, name)) throw new UserError(`database ${name} already exists`, 'choose another name');
  await sql.unsafe(createDatabaseSql(name, opts.owner));
  if (opts.comment !== undefined) await commentOnDatabase(sql, name, opts.comment);
}

export async function commentOnDatabase(sql: Sql, name: string, comment: string | null): Promise<void> {
  await sql.unsafe(`COMMENT ON DATABASE ${ident(name)} IS ${comment === null ? 'NULL' : literal(comment)}`);
}

export async function databaseComment(sql: Sql, name: string): Promise<string | null> {
  const [r] = await sql<{ c: string | null }[]>`select shobj_description(oid, 'pg_database') as c from pg_database where datname = ${name}`;
  return r?.c ?? null;
}

/** Drops a database, ending any session still on it; nothing happens when it does not exist. */
export async function dropDatabase(sql: Sql, name: string): Promise<void> {
  await sql.unsafe(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
}

function busy(database: string, sessions: readonly Session[], what: string, fix: string): UserError {
  const who = sessions.slice(0, 3).map((s) => `pid ${s.pid} (${s.applicationName || 'no application name'}, user ${s.user || '?'})`).join(', ');
  return new UserError(`database ${database} has ${sessions.length} other open connection(s), so it cannot be ${what}: ${who}${sessions.length > 3 ? ', …' : ''}`, fix);
}

/**
 * Waits a moment for `database` to have no client sessions but ours, then refuses naming
 * them. A session that just closed lingers while its backend exits, hence the wait.
 */
export async function requireNoSessions(sql: Sql, database: string, what: string, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const sessions = await otherSessions(sql, database);
    if (sessions.length === 0) return;
    if (Date.now() >= until) throw busy(database, sessions, what, 'stop the applications using it, then try again; nothing was changed');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A server-side copy (CREATE DATABASE … TEMPLATE): needs no client tools, but no other
 * session may be connected to the source while it is copied.
 */
export async function copyDatabase(sql: Sql, source: string, name: string, owner: string): Promise<void> {
  validateDatabaseIdentifier(name);
  await requireNoSessions(sql, source, 'copied');
  await sql.unsafe(`CREATE DATABASE ${ident(name)} TEMPLATE ${ident(source)} OWNER ${ident(owner)}`);
  await sql.unsafe(`REVOKE ALL ON DATABASE ${ident(name)} FROM PUBLIC`);
}

export interface Swap {
  /** The database being replaced. */
  live: string;
  /** The database that takes its name. */
  replacement: string;
  /** The name the replaced database keeps. */
  keepAs: string;
}

/**
 * Puts `replacement` in the place of `live` in one transaction: `live` is renamed to `keepAs`
 * and `replacement` to `live`, and `replacement`'s comment becomes the one `live` had. Either
 * both renames happen or neither does. A session connected to either database makes the
 * rename fail; it is retried for `timeoutMs`, then refused with nothing changed.
 */
export async function swapDatabases(sql: Sql, s: Swap, timeoutMs = 5_000): Promise<void> {
  validateDatabaseIdentifier(s.keepAs);
  if (await databaseExists(sql, s.keepAs)) throw new UserError(`database ${s.keepAs} already exists`, 'drop or rename it, then run the restore again; nothing was changed');
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await sql.begin(async (tx) => {
        const [c] = await tx<{ c: string | null }[]>`select shobj_description(oid, 'pg_database') as c from pg_database where datname = ${s.live}`;
        await tx.unsafe(`ALTER DATABASE ${ident(s.live)} RENAME TO ${ident(s.keepAs)}`);
        await tx.unsafe(`ALTER DATABASE ${ident(s.replacement)} RENAME TO ${ident(s.live)}`);
        await tx.unsafe(`COMMENT ON DATABASE ${ident(s.live)} IS ${c?.c == null ? 'NULL' : literal(c.c)}`);
      });
      return;
    } catch (e) {
      if ((e as { code?: string }).code !== '55006') throw e;
      if (Date.now() >= until) {
        const sessions = [...(await otherSessions(sql, s.live)), ...(await otherSessions(sql, s.replacement))];
        throw busy(s.live, sessions, 'replaced', 'stop the applications using it, then run the restore again; nothing was changed');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * Drops and recreates one schema of `database`, owned by `owner`, in one transaction. The
 * caller has confirmed and kept a way back; other sessions refuse it.
 */
export async function dropSchema(admin: ConnectionSettings, database: string, opts: { owner: string; schema?: string }): Promise<void> {
  const schema = opts.schema ?? 'public';
  await withConnection({ ...admin, database }, { applicationName: 'pgsteward reset' }, async (sql) => {
    await requireNoSessions(sql, database, 'reset');
    await sql.begin(async (tx) => {
      await tx.unsafe(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`);
      await tx.unsafe(`CREATE SCHEMA ${ident(schema)} AUTHORIZATION ${ident(opts.owner)}`);
    });
  });
}
