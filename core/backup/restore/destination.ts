import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RoleNames } from '../../config/role-names.ts';
import { appConnectionLimit } from '../../config/target-settings.ts';
import { ident, withConnection, type Sql } from '../../db/connect.ts';
import { commentOnDatabase, createDatabase, dropDatabase } from '../../db/databases.ts';
import type { ConnectionSettings } from '../../db/url.ts';
import { isUserError, UserError } from '../../errors.ts';
import { EXTENSION as UUIDV7, prepareUuidV7ForRestore, type UuidV7Plan } from '../../extensions/uuidv7.ts';
import { locateTool, type PgTool } from '../../pgtools/invoke.ts';
import type { OpsConfig } from '../../config/ops-config.ts';
import type { BackupManifest } from '../manifest.ts';
import { opsFor, placementFor } from '../settings.ts';
import { runTool, type ToolRunOptions } from '../../pgtools/run.ts';
import { convergeCluster, convergeInDatabase, convergeRoles } from '../../roles/converge.ts';
import { roleModel, type RoleModel as PrivilegeModel } from '../../roles/model.ts';
import type { Target } from '../../open-target.ts';
import type { RoleModel } from './guard.ts';
import { markerForThisRun } from '../../db/scratch-marker.ts';
import type { ScratchPurpose } from './scratch.ts';
import { splitToc, tocExtensions } from './toc.ts';

/**
 * The database a restore writes into: created empty, owned and fenced by its role model and
 * marked as a scratch database of this run; filled by pg_restore; dropped again on failure.
 * The roles and privileges converge to the model through core/roles, as setup-db does.
 */

/** The privilege model of the destination `database`, with `roles` (its own, or the source's for a plain copy). */
function privilegeModel(target: Target, database: string, roles: RoleNames): PrivilegeModel {
  return roleModel({ database, roles, appConnectionLimit: appConnectionLimit(target.config.pool) });
}

export async function roleExists(sql: Sql, name: string): Promise<boolean> {
  return (await sql`select 1 from pg_roles where rolname = ${name}`).length > 0;
}

/** Creates the empty destination, marked as this run's until the restore is done with it. */
export async function createDestination(sql: Sql, target: Target, name: string, model: RoleModel, purpose: ScratchPurpose): Promise<void> {
  const privileges = privilegeModel(target, name, model.roles);
  // Missing roles are created without passwords (no login until setup-db gives them one).
  await convergeRoles(sql, privileges, { passwords: {} });
  await createDatabase(sql, name, { owner: model.roles.owner, comment: markerForThisRun(purpose) });
  await convergeCluster(sql, privileges, { passwords: {} });
}

/** The destination is no longer scratch: it is the user's database now. */
export async function keepDestination(sql: Sql, name: string): Promise<void> {
  await commentOnDatabase(sql, name, null);
}

/**
 * Drops `name` when the work on it fails or is interrupted. On a signal it drops it at once
 * (WITH FORCE ends the sessions of whatever step is using it, so that step fails quickly),
 * and `drop()` drops it again once the failing step has returned.
 */
export function dropWhenAborted(sql: Sql, name: string, signal: AbortSignal | undefined) {
  const drop = () => dropDatabase(sql, name).catch(() => {});
  const onAbort = () => void drop();
  signal?.addEventListener('abort', onAbort, { once: true });
  return {
    async drop(): Promise<void> {
      signal?.removeEventListener('abort', onAbort);
      await drop();
    },
    keep(): void {
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

/** A pg_restore at least as new as the pg_dump that wrote the backup, where the target's config places it. */
export function locatePgRestore(target: Target, manifest: BackupManifest, ops: OpsConfig | undefined, env: NodeJS.ProcessEnv): PgTool {
  return locateTool('pg_restore', manifest.pgDump.major, manifest.pgDump.version, placementFor(opsFor(target, ops, env)), env, { stateDir: target.config.stateDir });
}

export interface FillOptions {
  signal?: AbortSignal | undefined;
  onItem?: (count: number) => void;
  env?: NodeJS.ProcessEnv;
}

const FIX = 'the database it was restoring into was dropped; see the message for the cause';

export interface FillReport {
  /** What was done so the dump's CREATE EXTENSION pg_uuidv7 works here (undefined: the dump has none). */
  uuidv7: UuidV7Plan['action'] | undefined;
}

/**
 * Before pg_restore: what the dump's extensions need from the new database that the dump
 * cannot do itself (see planUuidV7ForRestore): pg_uuidv7 on a server that offers it only
 * through pg_tle must be registered in this very database, unless the dump carries pg_tle's
 * registration itself. A server that cannot give the dump what it needs is refused here, in
 * one line, before pg_restore has written anything.
 */
export async function prepareExtensions(conn: ConnectionSettings, listing: string): Promise<FillReport> {
  const exts = tocExtensions(listing);
  if (!exts.created.includes(UUIDV7)) return { uuidv7: undefined };
  try {
    const plan = await withConnection(conn, { applicationName: 'pgsteward restore' }, (sql) => prepareUuidV7ForRestore(sql, { registeredViaPgTle: exts.registeredViaPgTle.includes(UUIDV7) }));
    return { uuidv7: plan.action };
  } catch (e) {
    if (isUserError(e)) throw new UserError(`cannot restore a backup that uses ${UUIDV7} here: ${e.message}`, e.fix);
    throw e;
  }
}

/**
 * pg_restore into `conn.database`. With the dump's own role model: owners and grants as
 * dumped, in one transaction. Adopting another model: the dump's owners and grants are left
 * out; schemas and extensions are created by the administrator, everything else by the
 * owner role (so it owns it), and the model's schema fence, default privileges and object
 * grants are applied around it. Either way the dump's extensions are prepared for first
 * (prepareExtensions).
 */
export async function fillDestination(tool: PgTool, target: Target, conn: ConnectionSettings, file: string, model: RoleModel, opts: FillOptions = {}): Promise<FillReport> {
  const privileges = privilegeModel(target, conn.database, model.roles);
  const viaStdin = tool.placement.kind === 'docker';
  let items = 0;
  const run: ToolRunOptions = {
    signal: opts.signal,
    env: opts.env,
    applicationName: 'pgsteward restore',
    ...(viaStdin ? { stdinFile: file } : {}),
    onStderrLine: (l) => {
      if (/^pg_restore: (creating|processing|executing)/.test(l)) opts.onItem?.(++items);
    },
  };
  const common = ['--exit-on-error', '--single-transaction', '--no-password', '--verbose', `--dbname=${conn.database}`];
  const input = viaStdin ? [] : [file];
  const listing = (await runTool(tool, ['--list', ...input], conn, { ...run, stdout: 'capture', fix: FIX })).stdout;
  const report = await prepareExtensions(conn, listing);
  if (!model.adopt) {
    await runTool(tool, [...common, ...input], conn, { ...run, fix: FIX });
    return report;
  }
  if (viaStdin) throw new UserError('restoring a dump under another database\'s role model needs pg_restore on this machine, not in a container', 'install postgresql-client or remove backups.targets.<target>.docker from the config');
  const toc = splitToc(listing);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pgsteward-toc-'));
  try {
    const adminList = path.join(dir, 'admin.list');
    const ownerList = path.join(dir, 'owner.list');
    await writeFile(adminList, toc.admin.join('\n') + '\n', { mode: 0o600 });
    await writeFile(ownerList, toc.owner.join('\n') + '\n', { mode: 0o600 });
    const foreign = ['--no-owner', '--no-acl'];
    if (toc.admin.length) await runTool(tool, [...common, ...foreign, `--use-list=${adminList}`, file], conn, { ...run, fix: FIX });
    await withConnection(conn, { applicationName: 'pgsteward restore' }, async (sql) => {
      for (const s of toc.schemas.filter((n) => n !== 'public')) await sql.unsafe(`ALTER SCHEMA ${ident(s)} OWNER TO ${ident(model.roles.owner)}`);
      await convergeInDatabase(sql, privileges, {});
    });
    await runTool(tool, [...common, ...foreign, `--role=${model.roles.owner}`, `--use-list=${ownerList}`, file], conn, { ...run, fix: FIX });
    await withConnection(conn, { applicationName: 'pgsteward restore' }, async (sql) => {
      await convergeInDatabase(sql, privileges, {});
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return report;
}
