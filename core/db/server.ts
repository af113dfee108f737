import type { Sql } from './connect.ts';

export interface ServerInfo {
  /** `17.10`, without the distribution suffix some builds append. */
  version: string;
  /** `170010` */
  versionNum: number;
  major: number;
}

/** Pure: the two settings every server reports, as one value. */
export function parseServerInfo(version: string, versionNum: number): ServerInfo {
  return { version: version.split(' ')[0]!, versionNum, major: Math.floor(versionNum / 10000) };
}

/** The server's version, read the one way every command reads it. */
export async function serverInfo(sql: Sql): Promise<ServerInfo> {
  const [v] = await sql<{ v: string; n: number }[]>`select current_setting('server_version') as v, current_setting('server_version_num')::int as n`;
  return parseServerInfo(v!.v, v!.n);
}
