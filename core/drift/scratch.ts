import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { ROLE_KINDS, roleNames, type RoleNames } from '../config/role-names.ts';
import { ident, literal, type Sql } from '../db/connect.ts';
import { isAbandoned, markerForThisRun, parseMarker } from '../db/scratch-marker.ts';
import { pidAlive } from '../processes.ts';

/**
 * Scratch databases the tool creates on a live server, marked so that only its own are ever
 * removed, and so that what a killed run (SIGKILL) left is found and removed by the next.
 *
 * The marker is the one restore-db and verify-backup put on their scratch databases
 * (core/db/scratch-marker.ts), so every run finds and removes what any killed run left.
 *
 * A scratch database gets its own five roles (setup derives them from the database's name).
 * The marker is a comment on its owner role, created in the same transaction as the role and
 * before the database exists, so there is never a scratch object without a marker.
 */

export const SCRATCH_PREFIX = 'pgsteward_drift_';
export function scratchName(): string {
  return SCRATCH_PREFIX + randomBytes(4).toString('hex');
}

export interface Scratch {
  database: string;
  roles: RoleNames;
}

/** A fresh scratch name and the roles setup will derive from it; nothing is created yet. */
export function newScratch(): Scratch {
  const database = scratchName();
  return { database, roles: roleNames(database) };
}

/**
 * Creates the scratch's marked owner role. The database itself is made by setup
 * (core/setup.ts), like any other: that is the point of the reference.
 */
export async function createScratch(maint: Sql, scratch: Scratch, purpose: string): Promise<void> {
  const owner = ident(scratch.roles.owner);
  const marker = markerForThisRun(purpose);
  // One simple-protocol message: the role and its marker commit together or not at all.
  await maint.unsafe(`CREATE ROLE ${owner} NOLOGIN; COMMENT ON ROLE ${owner} IS ${literal(marker)}`);
}

/**
 * Ends every session working on the scratch (in it, or creating it), drops it, then drops
 * its roles, which own nothing once it is gone. Safe to call for a scratch never created.
 */
export async function dropScratch(maint: Sql, database: string): Promise<void> {
  if (!database.startsWith(SCRATCH_PREFIX)) throw new Error(`refusing to drop ${database}: not a scratch database`);
  await maint.unsafe(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE pid <> pg_backend_pid() AND (datname = $1 OR strpos(query, $1) > 0)`,
    [database],
  );
  await maint.unsafe(`DROP DATABASE IF EXISTS ${ident(database)} WITH (FORCE)`);
  const roles = roleNames(database);
  for (const kind of ROLE_KINDS) await maint.unsafe(`DROP ROLE IF EXISTS ${ident(roles[kind])}`);
}

/** Removes the scratch databases and roles whose run is gone; returns their names. */
export async function sweepAbandonedScratch(maint: Sql, here = { host: os.hostname(), now: new Date(), alive: pidAlive }): Promise<string[]> {
  const rows = await maint.unsafe<{ rolname: string; description: string }[]>(
    `SELECT r.rolname::text AS rolname, d.description FROM pg_roles r
       JOIN pg_shdescription d ON d.objoid = r.oid AND d.classoid = 'pg_authid'::regclass
      WHERE r.rolname LIKE '${SCRATCH_PREFIX}%\\_owner' AND d.description LIKE 'pgsteward scratch %'`,
  );
  const swept: string[] = [];
  for (const r of rows) {
    const marker = parseMarker(r.description);
    if (!marker || !isAbandoned(marker, here)) continue;
    const database = r.rolname.replace(/_owner$/, '');
    await dropScratch(maint, database);
    swept.push(database);
  }
  return swept;
}
