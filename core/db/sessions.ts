import type { Sql } from './connect.ts';

export interface Session {
  pid: number;
  user: string;
  applicationName: string;
  state: string | null;
  backendStart: Date | null;
}

/**
 * Client sessions on `database` other than the caller's own. Background workers and
 * autovacuum are not sessions anyone can be asked to close, so they are not counted.
 */
export async function otherSessions(sql: Sql, database: string): Promise<Session[]> {
  const rows = await sql<{ pid: number; usename: string | null; application_name: string; state: string | null; backend_start: Date | null }[]>`
    select pid, usename, application_name, state, backend_start
    from pg_stat_activity
    where datname = ${database} and pid <> pg_backend_pid() and backend_type = 'client backend'
    order by pid`;
  return rows.map((r) => ({ pid: r.pid, user: r.usename ?? '', applicationName: r.application_name, state: r.state, backendStart: r.backend_start }));
}
