import type { Sql } from '../db/connect.ts';
import { releaseAdvisoryLock, withAdvisoryLock, type AcquireOptions } from '../db/advisory-lock.ts';
import { errorLine, UserError } from '../errors.ts';
import type { LoginRole } from '../config/role-names.ts';
import { batch, linesOf, type Change } from './changes.ts';
import type { RoleModel } from './model.ts';
import { planDatabaseAccess, planRoles } from './plan-cluster.ts';
import { planPrivileges } from './plan-database.ts';
import { createDatabaseSql } from '../db/databases.ts';
import { readClusterState, readDatabaseState, type ClusterState, type DatabaseState } from './state.ts';

/**
 * Read → plan → execute, for the roles (on the maintenance database) and for the privileges
 * inside the database. Each execution is one multi-statement query, so a step either applies
 * entirely or not at all, and a converged server gets no statement but the reads.
 */

/** The session-level advisory lock that serialises role work per cluster ("pgstewar" in ASCII). */
export const CLUSTER_SETUP_LOCK = 0x7067737465776172n;
export const CLUSTER_SETUP_LOCK_TIMEOUT_MS = 120_000;

/**
 * An advisory lock that costs one round trip when nobody holds it (pg_try_advisory_lock), and
 * otherwise waits in PostgreSQL's queue with a timeout that names the holder.
 */
export async function withLock<T>(sql: Sql, key: bigint, opts: AcquireOptions, fn: () => Promise<T>): Promise<T> {
  const [row] = await sql.unsafe<{ got: boolean }[]>(`SELECT pg_try_advisory_lock(${key.toString()}) AS got`);
  if (!row?.got) return withAdvisoryLock(sql, key, opts, fn);
  try {
    return await fn();
  } finally {
    await releaseAdvisoryLock(sql, key).catch(() => {});
  }
}

export type ChangeListener = (line: string, scope: Change['scope'], subject?: string) => void;

/** Runs a plan as one query; a refusal becomes one line that says nothing of it was applied. */
export async function applyChanges(sql: Sql, changes: readonly Change[], onChange?: ChangeListener): Promise<void> {
  if (changes.length === 0) return;
  try {
    await sql.unsafe(batch(changes));
  } catch (e) {
    const first = linesOf(changes)[0] ?? changes[0]!.sql;
    throw new UserError(
      `the server refused setup's changes (${changes.length} change${changes.length === 1 ? '' : 's'}, the first: ${first}): ${errorLine(e)}`,
      'none of them was applied (they run as one transaction); run setup as a superuser or as the RDS master user',
    );
  }
  for (const c of changes) for (const line of c.lines) onChange?.(line, c.scope, c.subject);
}

export interface ClusterResult {
  state: ClusterState;
  rolesCreated: string[];
  databaseCreated: boolean;
}

/**
 * The five roles and the database itself, under the cluster's setup lock: 8 setups started at
 * once would otherwise update the same catalog rows together ("tuple concurrently updated").
 * `maint` must be a connection to the maintenance database (a single session).
 */
export async function convergeCluster(maint: Sql, model: RoleModel, opts: { passwords: Partial<Record<LoginRole, string>>; onChange?: ChangeListener; lockTimeoutMs?: number }): Promise<ClusterResult> {
  return withLock(
    maint,
    CLUSTER_SETUP_LOCK,
    { timeoutMs: opts.lockTimeoutMs ?? CLUSTER_SETUP_LOCK_TIMEOUT_MS, what: 'the setup lock on this server' },
    async () => {
      let state = await readClusterState(maint, model);
      const rolesCreated = model.specs.map((s) => s.name).filter((n) => !state.roles.some((r) => r.name === n));
      const roles = planRoles({ state, model, passwords: opts.passwords });
      if (state.database) {
        await applyChanges(maint, [...roles, ...planDatabaseAccess(state, model)], opts.onChange);
        return { state, rolesCreated, databaseCreated: false };
      }
      await applyChanges(maint, roles, opts.onChange);
      // CREATE DATABASE cannot run inside the transaction a multi-statement query makes.
      await maint.unsafe(createDatabaseSql(model.database, model.roles.owner));
      opts.onChange?.(`created database ${model.database}`, 'database');
      state = await readClusterState(maint, model);
      await applyChanges(maint, planDatabaseAccess(state, model), opts.onChange);
      return { state, rolesCreated, databaseCreated: true };
    },
  );
}

/**
 * The cluster as seen from any session (roles, memberships, settings and the database are in
 * shared catalogs): its state when the five roles and the database's access already match the
 * model, else undefined. No lock: a run that finds work to do goes on to convergeCluster,
 * which reads again under the lock before changing anything.
 */
export async function clusterIfConverged(sql: Sql, model: RoleModel, opts: { passwords: Partial<Record<LoginRole, string>> }): Promise<ClusterResult | undefined> {
  const state = await readClusterState(sql, model);
  if (!state.database) return undefined;
  const changes = [...planRoles({ state, model, passwords: opts.passwords }), ...planDatabaseAccess(state, model)];
  return changes.length === 0 ? { state, rolesCreated: [], databaseCreated: false } : undefined;
}

/** Only the five roles (no database), under the same lock: a restore that lands objects owned by another database's roles. */
export async function convergeRoles(maint: Sql, model: RoleModel, opts: { passwords: Partial<Record<LoginRole, string>>; onChange?: ChangeListener }): Promise<string[]> {
  return withLock(maint, CLUSTER_SETUP_LOCK, { timeoutMs: CLUSTER_SETUP_LOCK_TIMEOUT_MS, what: 'the setup lock on this server' }, async () => {
    const state = await readClusterState(maint, model);
    await applyChanges(maint, planRoles({ state, model, passwords: opts.passwords }), opts.onChange);
    return model.specs.map((s) => s.name).filter((n) => !state.roles.some((r) => r.name === n));
  });
}

/** Privileges inside the database; `db` is a session on it. Returns the state it planned from. */
export async function convergeInDatabase(db: Sql, model: RoleModel, opts: { onChange?: ChangeListener }): Promise<DatabaseState> {
  const state = await readDatabaseState(db, model);
  await applyChanges(db, planPrivileges(state, model), opts.onChange);
  return state;
}
