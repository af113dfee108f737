/**
 * The PostgreSQL 15 cluster from test/global-setup-pg15.ts, for the few tests that are about
 * crossing versions (a dump taken by pg_dump 15 from a 15 server, restored into 17) or about
 * setup-db on an older server. Everything else runs on the suite's PostgreSQL 17 (test/backups.ts).
 */
import { inject } from 'vitest';
import type { ConnectionSettings } from '../core/db/url.ts';
import { rememberSecret } from '../core/secrets.ts';
import { provisionBackupDatabase, type BackupDatabase, type SuiteCluster } from './backups.ts';

export function pg15(): SuiteCluster & { binDir: string } {
  const p = inject('pg15');
  rememberSecret(p.admin.password);
  return p;
}

export function pg15Admin(database = 'postgres'): ConnectionSettings {
  return { ...pg15().admin, database };
}

/** A database set up exactly as setup-db does, on the PG15 cluster (its own binaries, its state folder), with known role passwords. */
export function provisionPg15(prefix: string): Promise<BackupDatabase> {
  return provisionBackupDatabase(prefix, pg15());
}
