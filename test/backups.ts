/**
 * Test support for backup, restore, verify, retention and cron tests (imported by *.test.ts
 * only): databases set up as setup-db does on a suite cluster, reached as the `local` target
 * (PGSTEWARD_HOME is the cluster's state folder, so the ops CLIs find it and its client
 * tools), seed data, per-table checksums, the schema as text, and ops settings.
 *
 * The default cluster is the suite's PostgreSQL 17 (test/global-setup.ts), whose state folder
 * has the 17 client tools from npm run pg-tools; test/pg15.ts passes the PostgreSQL 15 one
 * for the tests that are about crossing versions.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, inject } from 'vitest';
import { LOGIN_ROLES, roleNames, type LoginRole } from '../core/config/role-names.ts';
import { parseOpsConfig, type OpsConfig } from '../core/config/ops-config.ts';
import { resolveTarget, type TargetConfig } from '../core/config/target-settings.ts';
import type { ConnectionSettings } from '../core/db/url.ts';
import { readMigrations } from '../core/migrations/files.ts';
import { MIGRATIONS_DIR, REPO_ROOT } from '../core/paths.ts';
import { generatePassword, rememberSecret } from '../core/secrets.ts';
import { setupDatabase } from '../core/setup.ts';
import { openTarget, type Target } from '../core/open-target.ts';
import { ledgerRows, tableRowChecksums, type LedgerRow } from '../core/backup/row-checksums.ts';
import { uniqueName, withSql } from './db.ts';
import { installedToolsBin } from './pg-tools.ts';

/** A suite cluster: its state folder (PGSTEWARD_HOME for CLI runs), port, server binaries (undefined: the embedded 17) and superuser. */
export interface SuiteCluster {
  stateDir: string;
  port: number;
  binDir?: string | undefined;
  admin: ConnectionSettings;
}

/** The suite's PostgreSQL 17. Fails with one line when npm run pg-tools has not installed the 17 client tools it needs. */
export function pg17Cluster(): SuiteCluster {
  installedToolsBin(17);
  const p = inject('pg17');
  rememberSecret(p.admin.password);
  return p;
}

/** Superuser settings on a database of `cluster`. */
export function clusterAdmin(database = 'postgres', cluster: SuiteCluster = pg17Cluster()): ConnectionSettings {
  return { ...cluster.admin, database };
}

export interface BackupDatabase {
  database: string;
  passwords: Record<LoginRole, string>;
  /** Superuser settings on the database itself. */
  admin: ConnectionSettings;
  /** Environment for running the ops CLIs against this database as the local target. */
  env: NodeJS.ProcessEnv;
  config: TargetConfig;
  cluster: SuiteCluster;
}

/** A database set up exactly as setup-db does, on `cluster` (default the suite's PostgreSQL 17), with known role passwords. */
export async function provisionBackupDatabase(prefix: string, cluster: SuiteCluster = pg17Cluster()): Promise<BackupDatabase> {
  const database = uniqueName(prefix);
  const passwords = Object.fromEntries(LOGIN_ROLES.map((r) => [r, generatePassword()])) as Record<LoginRole, string>;
  Object.values(passwords).forEach(rememberSecret);
  await setupDatabase({ admin: cluster.admin, database, pool: { max: 10, min: 2, instances: 1 }, passwords, migrations: readMigrations(MIGRATIONS_DIR) });
  const env: NodeJS.ProcessEnv = {
    PGSTEWARD_HOME: cluster.stateDir,
    ...(cluster.binDir ? { LOCAL_PG_BIN: cluster.binDir } : {}),
    LOCAL_PG_PORT: String(cluster.port),
    DB_NAME: database,
    ...Object.fromEntries(LOGIN_ROLES.map((r) => [`DB_${r.toUpperCase()}_PASSWORD`, passwords[r]])),
  };
  return { database, passwords, admin: clusterAdmin(database, cluster), env, config: resolveTarget({ target: 'local' }, env, REPO_ROOT), cluster };
}

export function openBackupTarget(db: BackupDatabase): Promise<Target> {
  return openTarget(db.config);
}

/** Backups of `db` in the local target's default storage. */
export function localBackupDir(db: BackupDatabase): string {
  return path.join(db.cluster.stateDir, 'backups', 'local', db.database);
}

/**
 * What a backup test ran against, said where the test output and the assertions both show
 * it: the server and the pg_dump that wrote the manifest are both PostgreSQL 17.
 */
export function expectMadeBy17(manifest: { server: { version: string; major: number }; pgDump: { version: string; major: number } }): void {
  expect(manifest.server.major, `server ${manifest.server.version}`).toBe(17);
  expect(manifest.server.version).toMatch(/^17\.\d+/);
  expect(manifest.pgDump.major, `pg_dump ${manifest.pgDump.version}`).toBe(17);
  expect(manifest.pgDump.version).toMatch(/^17\.\d+/);
}

/** Ops config for a test: local storage in a fresh folder unless given. */
export function testOpsConfig(raw: unknown = {}, stateDir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-ops-'))): OpsConfig & { stateDir: string } {
  return { ...parseOpsConfig(raw, { file: 'test-config.json', baseDir: stateDir, stateDir }), stateDir };
}

/** Users with profiles, preferences, credentials, logins, roles and phrases: every table gets rows. */
export async function seed(settings: ConnectionSettings, users = 20): Promise<void> {
  await withSql(settings, async (sql) => {
    await sql.unsafe(`
      insert into users (email, slug) select 'user' || i || '@example.test', 'user-' || i from generate_series(1, ${users}) i;
      insert into user_profiles (user_id, display_name, bio) select id, 'User ' || slug, repeat('bio ', 5) from users;
      insert into user_preferences (user_id, settings) select id, jsonb_build_object('theme', 'dark', 'n', length(slug)) from users;
      insert into user_credentials (user_id, password_hash) select id, '$argon2id$v=19$' || md5(slug) from users;
      insert into user_external_logins (user_id, provider, provider_user_id) select id, 'github', 'gh-' || slug from users;
      insert into user_roles (user_id, role_id) select u.id, r.id from users u cross join roles r where r.name in ('user', 'email-verified');
      insert into phrases (created_by, text) select id, 'Garden notes from ' || slug || ' about tomatoes and basil' from users;
    `);
  });
}

/** Every table's row count and md5 in primary-key order (core/backup/row-checksums.ts), as `rows:md5`: equal maps mean equal data. */
export async function tableChecksums(settings: ConnectionSettings): Promise<Record<string, string>> {
  const sums = await withSql(settings, tableRowChecksums);
  return Object.fromEntries(Object.entries(sums).map(([t, c]) => [t, `${c.rows}:${c.md5}`]));
}

/** The sqlx migration ledger, every column. */
export function ledger(settings: ConnectionSettings): Promise<LedgerRow[]> {
  return withSql(settings, ledgerRows);
}

/** The schema as text: columns, constraints, indexes, triggers, functions, owners and privileges. */
export async function schemaFingerprint(settings: ConnectionSettings): Promise<string[]> {
  return withSql(settings, async (sql) => {
    const rows = await sql.unsafe<{ line: string }[]>(`
      select 'col ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') || ' ' || coalesce(generation_expression, '') as line
        from information_schema.columns where table_schema = 'public'
      union all select 'con ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) from pg_constraint where connamespace = 'public'::regnamespace
      union all select 'idx ' || indexdef from pg_indexes where schemaname = 'public'
      union all select 'trg ' || tgrelid::regclass || ' ' || pg_get_triggerdef(oid) from pg_trigger where not tgisinternal
      union all select 'fn ' || p.oid::regprocedure || ' ' || pg_get_userbyid(p.proowner) || ' ' || coalesce(p.proacl::text, '') from pg_proc p where pronamespace = 'public'::regnamespace
      union all select 'tbl ' || c.oid::regclass || ' ' || pg_get_userbyid(c.relowner) || ' ' || coalesce(c.relacl::text, '') from pg_class c where relnamespace = 'public'::regnamespace and relkind in ('r', 'p', 'v', 'm')
      union all select 'ext ' || extname || ' ' || extversion from pg_extension
      union all select 'nsp ' || nspname || ' ' || pg_get_userbyid(nspowner) || ' ' || coalesce(nspacl::text, '') from pg_namespace where nspname = 'public'
      order by 1`);
    return rows.map((r) => r.line);
  });
}

export async function databaseExists(name: string, cluster: SuiteCluster = pg17Cluster()): Promise<boolean> {
  return withSql(clusterAdmin('postgres', cluster), async (sql) => (await sql`select 1 from pg_database where datname = ${name}`).length > 0);
}

export { roleNames };
