import { UserError } from '../errors.ts';

/** Everything needed to open a connection. The password never leaves this object in text form except via `toUrl`. */
export interface ConnectionSettings {
  /** A host name, an IP address, or (starting with `/`) the folder of a Unix socket. */
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string | undefined;
  /** `disable` for loopback, `require` (or stronger) for anything that crosses a network. */
  ssl: 'disable' | 'prefer' | 'require' | 'verify-full';
  /** PEM root certificates to trust instead of Node's bundle (with verify-full); never part of a URL. */
  ca?: string | undefined;
}

const SSL_MODES = ['disable', 'prefer', 'require', 'verify-full', 'allow', 'verify-ca'] as const;
const URL_FORM = 'use the form postgres://user:password@host:5432/dbname';

/** Decodes one percent-encoded part of the URL; a malformed escape names the part, never its value. */
function decodePart(raw: string, part: string, source: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new UserError(
      `${source} has a malformed percent-escape in its ${part}`,
      `percent-encode the special characters of the ${part} (% as %25, @ as %40, : as %3A, / as %2F)`,
    );
  }
}

/**
 * Parses a postgres:// URL the way libpq reads one. A Unix socket is given as a percent-encoded
 * path in the host part (`postgres://app@%2Fvar%2Frun%2Fpostgresql/app`) or as `?host=/path`.
 * Error messages never echo the URL, since it may carry a password.
 */
export function parseDatabaseUrl(raw: string, source = 'DATABASE_URL'): ConnectionSettings {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UserError(`${source} is not a valid URL`, URL_FORM);
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new UserError(`${source} has scheme "${u.protocol.replace(/:$/, '')}", expected postgres`, URL_FORM);
  }
  const hostParam = u.searchParams.get('host');
  const host = hostParam || decodePart(u.hostname, 'host', source).replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new UserError(`${source} has no host`, URL_FORM);
  const port = u.port ? Number(u.port) : 5432;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UserError(`${source} has an invalid port`, 'use a port between 1 and 65535');
  }
  const database = decodePart(u.pathname.replace(/^\//, ''), 'database name', source);
  const user = decodePart(u.username, 'user name', source);
  if (!user) throw new UserError(`${source} has no user name`, URL_FORM);
  const password = u.password ? decodePart(u.password, 'password', source) : undefined;
  const sslParam = u.searchParams.get('sslmode') ?? u.searchParams.get('ssl');
  let ssl: ConnectionSettings['ssl'] = isLoopback(host) ? 'disable' : 'require';
  if (sslParam) {
    if (sslParam === 'true') ssl = 'require';
    else if (sslParam === 'false') ssl = 'disable';
    else if ((SSL_MODES as readonly string[]).includes(sslParam)) {
      ssl = sslParam === 'allow' ? 'prefer' : sslParam === 'verify-ca' ? 'verify-full' : (sslParam as ConnectionSettings['ssl']);
    } else {
      throw new UserError(`${source} has unknown sslmode "${sslParam.slice(0, 20)}"`, `use one of ${SSL_MODES.join(', ')}`);
    }
  }
  return { host, port, database, user, password, ssl };
}

/** Whether a URL names a password; `--url` with one is visible to every local user in the process list. */
export function urlCarriesPassword(raw: string): boolean {
  try {
    return new URL(raw).password !== '';
  } catch {
    return false;
  }
}

/** Loopback (127.0.0.0/8, ::1, localhost) or a Unix socket: traffic that never leaves this machine. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h.startsWith('/')) return true;
  if (h === 'localhost' || h === 'localhost.' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return v4 !== null && v4.slice(1).every((o) => Number(o) <= 255);
}

function displayHost(host: string): string {
  if (host.startsWith('/')) return encodeURIComponent(host);
  return host.includes(':') ? `[${host}]` : host;
}

/** A URL for display: the password is always replaced. */
export function redactedUrl(c: Pick<ConnectionSettings, 'host' | 'port' | 'database' | 'user' | 'password' | 'ssl'>): string {
  const auth = `${encodeURIComponent(c.user)}${c.password ? ':***' : ''}`;
  const ssl = c.ssl === 'disable' ? '' : `?sslmode=${c.ssl}`;
  return `postgres://${auth}@${displayHost(c.host)}:${c.port}/${encodeURIComponent(c.database)}${ssl}`;
}

/** A URL with the password, for handing to child processes through the environment only. */
export function secretUrl(c: ConnectionSettings): string {
  const auth = `${encodeURIComponent(c.user)}${c.password ? ':' + encodeURIComponent(c.password) : ''}`;
  return `postgres://${auth}@${displayHost(c.host)}:${c.port}/${encodeURIComponent(c.database)}?sslmode=${c.ssl}`;
}
