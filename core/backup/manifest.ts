import { UserError } from '../errors.ts';
import { TARGET_KINDS, type TargetKind } from '../config/target-settings.ts';
import { ROLE_KINDS, type RoleNames } from '../config/role-names.ts';
import { formatBytes } from './files.ts';

export const MANIFEST_FORMAT = 'pgsteward-backup/1';

/** The outcome of the last restore test of a backup (verify-backup). */
export interface VerificationRecord {
  ok: boolean;
  at: string;
  /** The scratch database it was restored into (dropped afterwards). */
  scratchDatabase: string | undefined;
  checks: { passed: number; failed: number; warnings: number; failures: string[] } | undefined;
  rowCounts: { tables: number; mismatches: RowCountMismatch[] } | undefined;
  /** Why it failed, when it did not get as far as a comparison. */
  error: string | undefined;
  durationMs: number;
}

export interface RowCountMismatch {
  table: string;
  expected: number | null;
  actual: number | null;
}

/** Everything known about one dump, stored as JSON next to it. */
export interface BackupManifest {
  format: typeof MANIFEST_FORMAT;
  /** The dump's file name, e.g. `local-20261125T031500Z.dump`. */
  name: string;
  target: TargetKind;
  database: string;
  /** The source database's roles: a restore under another name still checks privileges against these. */
  roles: RoleNames;
  label: string | undefined;
  server: { version: string; versionNum: number; major: number };
  pgDump: { version: string; major: number; placement: 'host' | 'docker' };
  /** Highest successfully applied sqlx migration version, as text (it is a BIGINT); null when none. */
  lastMigration: string | null;
  bytes: number;
  sha256: string;
  startedAt: string;
  finishedAt: string;
  /** Rows per table (`schema.table`), counted in the very snapshot pg_dump read. */
  tables: Record<string, number>;
  verified: boolean;
  verification: VerificationRecord | null;
}

function bad(where: string, what: string): never {
  throw new UserError(`backup manifest ${where} is malformed: ${what}`, 'restore the manifest from a copy, or take a new backup; a dump without a trustworthy manifest is never restored');
}

/** Parses and checks a manifest; a damaged one is refused rather than half-trusted. */
export function parseManifest(text: string, where: string): BackupManifest {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(text) as Record<string, unknown>;
  } catch {
    bad(where, 'not valid JSON');
  }
  if (typeof m !== 'object' || m === null) bad(where, 'not an object');
  if (m.format !== MANIFEST_FORMAT) bad(where, `format is ${JSON.stringify(m.format)}, expected ${MANIFEST_FORMAT}`);
  const str = (k: string) => {
    if (typeof m[k] !== 'string' || m[k] === '') bad(where, `${k} is missing`);
    return m[k] as string;
  };
  str('name');
  str('database');
  str('startedAt');
  str('finishedAt');
  if (!/^[0-9a-f]{64}$/.test(str('sha256'))) bad(where, 'sha256 is not a SHA-256 hex digest');
  if (!(TARGET_KINDS as readonly string[]).includes(str('target'))) bad(where, 'target is unknown');
  if (typeof m.bytes !== 'number' || !Number.isSafeInteger(m.bytes) || m.bytes < 0) bad(where, 'bytes is not a size');
  if (Number.isNaN(Date.parse(m.startedAt as string))) bad(where, 'startedAt is not a time');
  const roles = m.roles as Record<string, unknown> | undefined;
  if (!roles || ROLE_KINDS.some((k) => typeof roles[k] !== 'string')) bad(where, 'roles are missing');
  const server = m.server as Record<string, unknown> | undefined;
  if (!server || typeof server.version !== 'string' || typeof server.major !== 'number') bad(where, 'server version is missing');
  const dump = m.pgDump as Record<string, unknown> | undefined;
  if (!dump || typeof dump.version !== 'string' || typeof dump.major !== 'number') bad(where, 'pg_dump version is missing');
  const tables = m.tables as Record<string, unknown> | undefined;
  if (!tables || typeof tables !== 'object' || Object.values(tables).some((n) => typeof n !== 'number')) bad(where, 'table row counts are missing');
  if (typeof m.verified !== 'boolean') bad(where, 'verified is missing');
  return m as unknown as BackupManifest;
}

export function serializeManifest(m: BackupManifest): string {
  return JSON.stringify(m, null, 2) + '\n';
}

/** A manifest with a verification outcome recorded: `verified` follows the latest attempt. */
export function withVerification(m: BackupManifest, v: VerificationRecord): BackupManifest {
  return { ...m, verified: v.ok, verification: v };
}

/** `local-20261125T031500Z.dump  1.21 MiB  9 tables, 140 rows  migration 4  verified`. Pure. */
export function describeManifest(m: BackupManifest): string {
  const rows = Object.values(m.tables).reduce((a, b) => a + b, 0);
  const verified = m.verification ? (m.verified ? `verified ${m.verification.at.slice(0, 16).replace('T', ' ')}Z` : 'VERIFICATION FAILED') : 'not verified';
  return `${m.name}  ${formatBytes(m.bytes)}  ${Object.keys(m.tables).length} tables, ${rows} rows  migration ${m.lastMigration ?? '-'}  ${verified}`;
}
