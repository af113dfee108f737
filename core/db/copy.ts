import { connectChecked, ident } from './connect.ts';
import type { ConnectionSettings } from './url.ts';
import type { RoleNames } from '../config/role-names.ts';
import { UserError } from '../errors.ts';

/** `<db>_bak_<base36 seconds>`: sorts by time and stays within 63 bytes for any valid name. */
export function copyName(database: string, now = new Date()): string {
  return `${database}_bak_${Math.floor(now.getTime() / 1000).toString(36)}`;
}

/**
 * A server-side copy of a database (CREATE DATABASE … TEMPLATE). Needs no client tools,
 * which is why reset-db falls back to it when no compatible pg_dump exists.
 */
export async function copyDatabase(admin: ConnectionSettings, database: string, roles: RoleNames): Promise<string> {
  const name = copyName(database);
  const sql = await connectChecked(admin, { max: 1, applicationName: 'pgsteward copy' });
  try {
    const busy = await sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where datname = ${database}`;
    if (busy[0]!.n > 0) {
      throw new UserError(`database ${database} has ${busy[0]!.n} open connection(s), so it cannot be copied`, 'stop the applications using it, then try again; nothing was changed');
    }
    await sql.unsafe(`CREATE DATABASE ${ident(name)} TEMPLATE ${ident(database)} OWNER ${ident(roles.owner)}`);
    await sql.unsafe(`REVOKE ALL ON DATABASE ${ident(name)} FROM PUBLIC`);
  } finally {
    await sql.end({ timeout: 5 });
  }
  return name;
}
