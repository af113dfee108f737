import type { Sql } from '../db/connect.ts';
import type { AppliedRow } from './plan.ts';

/** sqlx's ledger, column for column, so `sqlx migrate info` reads what this tool writes. */
export const CREATE_LEDGER = `CREATE TABLE IF NOT EXISTS _sqlx_migrations (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
    success BOOLEAN NOT NULL,
    checksum BYTEA NOT NULL,
    execution_time BIGINT NOT NULL
)`;

export const INSERT_LEDGER_ROW = `INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES ($1, $2, TRUE, $3, -1)`;
export const SET_EXECUTION_TIME = `UPDATE _sqlx_migrations SET execution_time = $1 WHERE version = $2`;

/** Reads the ledger; an absent table means nothing is applied. */
export async function readLedger(sql: Pick<Sql, 'unsafe'>): Promise<AppliedRow[]> {
  const exists = await sql.unsafe<{ t: string | null }[]>(`SELECT to_regclass('_sqlx_migrations')::text AS t`);
  if (!exists[0]?.t) return [];
  const rows = await sql.unsafe<{ version: bigint; checksum: Buffer; success: boolean; description: string }[]>(
    `SELECT version, checksum, success, description FROM _sqlx_migrations ORDER BY version`,
  );
  return rows.map((r) => ({ version: BigInt(r.version), checksum: Buffer.from(r.checksum), success: r.success, description: r.description }));
}
