import postgres from 'postgres';
import { UserError, errorLine } from '../errors.ts';
import { redactedUrl, type ConnectionSettings } from './url.ts';
import { rememberSecret } from '../secrets.ts';

export type Sql = postgres.Sql<{ bigint: bigint }>;

export interface ConnectOptions {
  /** Pool size; the tool's own work needs few connections, the design budget is 10. */
  max?: number;
  /** Application name shown in pg_stat_activity. */
  applicationName?: string;
  connectTimeoutSeconds?: number;
  /** Called with the text of every statement sent to the server, so callers can count round trips. */
  onQuery?: (text: string) => void;
  /** Extra run-time parameters sent when each connection starts, e.g. `default_transaction_read_only: 'on'`. */
  parameters?: Record<string, string>;
}

/** Opens a postgres.js pool. Nothing is sent until the first query; use `ping` to fail early with a clear message. */
export function connect(c: ConnectionSettings, opts: ConnectOptions = {}): Sql {
  rememberSecret(c.password);
  return postgres({
    host: c.host,
    port: c.port,
    database: c.database,
    user: c.user,
    password: c.password ?? '',
    // With a CA, verify-full becomes tls.connect's own full verification (chain + host name) against it.
    ssl: c.ssl === 'disable' ? false : c.ssl === 'verify-full' && c.ca ? { ca: c.ca, rejectUnauthorized: true } : c.ssl,
    max: opts.max ?? 2,
    idle_timeout: 20,
    connect_timeout: opts.connectTimeoutSeconds ?? 10,
    prepare: true,
    onnotice: () => {},
    types: { bigint: postgres.BigInt },
    ...(opts.onQuery ? { debug: (_connection: number, query: string) => opts.onQuery!(query) } : {}),
    connection: { ...opts.parameters, application_name: opts.applicationName ?? 'pgsteward' },
  }) as unknown as Sql;
}

/** Turns a driver error into a one-line UserError that names the server but never the password. */
export function connectionError(e: unknown, c: ConnectionSettings): UserError {
  const where = redactedUrl(c);
  const err = e as { code?: string; message?: string; errno?: string };
  switch (err.code) {
    case 'ECONNREFUSED':
      return new UserError(`cannot connect to ${where}: connection refused`, 'check the host and port, and that the server is running (for local: npm start)');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new UserError(`cannot connect to ${where}: host not found`, 'check the host name in the connection settings');
    case 'CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return new UserError(`cannot connect to ${where}: timed out`, 'check the host, port and network path (prod is reachable only from inside the VPC)');
    case '28P01':
    case '28000':
      return new UserError(`cannot connect to ${where}: authentication failed for user "${c.user}"`, 'check the user name and password');
    case '3D000':
      return new UserError(`cannot connect to ${where}: database "${c.database}" does not exist`, 'run setup-db first, or check the database name');
    default:
      return new UserError(`cannot connect to ${where}: ${errorLine(e)}`, 'check the connection settings');
  }
}

/** Opens and checks a connection; a failure becomes a clear UserError. */
export async function connectChecked(c: ConnectionSettings, opts: ConnectOptions = {}): Promise<Sql> {
  const sql = connect(c, opts);
  try {
    await sql`select 1`;
    return sql;
  } catch (e) {
    await sql.end({ timeout: 1 }).catch(() => {});
    throw connectionError(e, c);
  }
}

/**
 * Opens a checked connection, runs `fn` with it and always closes it, whatever `fn` does:
 * the scope owns the connection's lifecycle, the way postgres.js's `sql.begin(fn)` owns a
 * transaction. Connection failures become one-line UserErrors naming the server.
 */
export async function withConnection<T>(c: ConnectionSettings, opts: ConnectOptions, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const sql = await connectChecked(c, { max: 1, ...opts });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 }).catch(() => {});
  }
}

/** Quotes an identifier for SQL text. Names are validated before they get here; this is the second fence. */
export function ident(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/** Quotes a string literal for statements that cannot take parameters (CREATE ROLE … PASSWORD). */
export function literal(value: string): string {
  return "'" + value.replace(/'/g, "''") + "'";
}
