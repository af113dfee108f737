import { UserError } from '../errors.ts';

/** Everything needed to open a connection. The password never leaves this object in text form except via `toUrl`. */
export interface ConnectionSettings {
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

/** Parses a postgres:// URL. Error messages never echo the URL, since it may carry a password. */
export function parseDatabaseUrl(raw: string, source = 'DATABASE_URL'): ConnectionSettings {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UserError(`${source} is not a valid URL`, 'use the form postgres://user:password@host:5432/dbname');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new UserError(`${source} has scheme "${u.protocol.replace(/:$/, '')}", expected postgres`, 'use the form postgres://user:password@host:5432/dbname');
  }
  if (!u.hostname) throw new UserError(`${source} has no host`, 'use the form postgres://user:password@host:5432/dbname');
  const port = u.port ? Number(u.port) : 5432;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UserError(`${source} has an invalid port`, 'use a port between 1 and 65535');
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres';
  const user = decodeURIComponent(u.username);
  if (!user) throw new UserError(`${source} has no user name`, 'use the form postgres://user:password@host:5432/dbname');
  const sslParam = u.searchParams.get('sslmode') ?? u.searchParams.get('ssl');
  let ssl: ConnectionSettings['ssl'] = isLoopback(u.hostname) ? 'disable' : 'require';
  if (sslParam) {
    if (sslParam === 'true') ssl = 'require';
    else if (sslParam === 'false') ssl = 'disable';
    else if ((SSL_MODES as readonly string[]).includes(sslParam)) {
      ssl = sslParam === 'allow' ? 'prefer' : sslParam === 'verify-ca' ? 'verify-full' : (sslParam as ConnectionSettings['ssl']);
    } else {
      throw new UserError(`${source} has unknown sslmode "${sslParam}"`, `use one of ${SSL_MODES.join(', ')}`);
    }
  }
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    database,
    user,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    ssl,
  };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host) || host.startsWith('/');
}

/** A URL for display: the password is always replaced. */
export function redactedUrl(c: Pick<ConnectionSettings, 'host' | 'port' | 'database' | 'user' | 'password' | 'ssl'>): string {
  const host = c.host.includes(':') ? `[${c.host}]` : c.host;
  const auth = `${encodeURIComponent(c.user)}${c.password ? ':***' : ''}`;
  const ssl = c.ssl === 'disable' ? '' : `?sslmode=${c.ssl}`;
  return `postgres://${auth}@${host}:${c.port}/${encodeURIComponent(c.database)}${ssl}`;
}

/** A URL with the password, for handing to child processes through the environment only. */
export function secretUrl(c: ConnectionSettings): string {
  const host = c.host.includes(':') ? `[${c.host}]` : c.host;
  const auth = `${encodeURIComponent(c.user)}${c.password ? ':' + encodeURIComponent(c.password) : ''}`;
  return `postgres://${auth}@${host}:${c.port}/${encodeURIComponent(c.database)}?sslmode=${c.ssl}`;
}
