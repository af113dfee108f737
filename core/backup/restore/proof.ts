import type { RoleNames } from '../../config/role-names.ts';
import { withConnection } from '../../db/connect.ts';
import type { ConnectionSettings } from '../../db/url.ts';
import { summarizeChecks, type ChecksRunner, type ChecksSummary, type ChecksTarget } from '../checks.ts';
import type { BackupManifest, RowCountMismatch } from '../manifest.ts';
import { compareRowCounts, countRows, listTables } from '../tables.ts';

export interface PostRestoreReport {
  checks: ChecksSummary;
  rowCounts: { ok: boolean; tables: number; mismatches: RowCountMismatch[] };
}

/** The proof a restore worked: every table's row count against the manifest, and the checks suite against the restored database's roles. */
export async function examineRestore(conn: ConnectionSettings, manifest: BackupManifest, roles: RoleNames, checks: ChecksRunner, target?: ChecksTarget): Promise<PostRestoreReport> {
  const actual = await withConnection(conn, { applicationName: 'pgsteward restore' }, async (sql) => countRows(sql, await listTables(sql)));
  const mismatches = compareRowCounts(manifest.tables, actual);
  const report = await checks({ connection: conn, roles, ...(target ? { target } : {}) });
  return { checks: summarizeChecks(report), rowCounts: { ok: mismatches.length === 0, tables: Object.keys(manifest.tables).length, mismatches } };
}
