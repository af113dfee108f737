import { crc32 } from 'node:zlib';

/**
 * sqlx's advisory lock key: 1026731422 × CRC-32(database name), so that sqlx and this
 * runner exclude each other on the same database.
 */
export function sqlxLockKey(database: string): bigint {
  return 1026731422n * BigInt(crc32(Buffer.from(database, 'utf8')));
}
