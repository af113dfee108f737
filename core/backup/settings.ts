import { loadOpsConfig, type OpsConfig, type TargetOpsConfig } from '../config/ops-config.ts';
import type { TargetConfig } from '../config/target-settings.ts';
import type { ConnectionSettings } from '../db/url.ts';
import { UserError } from '../errors.ts';
import { REPO_ROOT } from '../paths.ts';
import type { ToolPlacement } from '../pgtools/invoke.ts';
import { adminConnection, rolePassword, type Target } from '../open-target.ts';
import { openStorage, type BackupStorage } from './storage/index.ts';

/** What the backup toolkit derives from a target: its ops settings, storage, tool placement and connections. */

export function opsFor(target: Pick<Target, 'config'>, ops?: OpsConfig, env: NodeJS.ProcessEnv = process.env): TargetOpsConfig {
  const cfg = ops ?? loadOpsConfig({ env, repoRoot: REPO_ROOT, stateDir: target.config.stateDir });
  return cfg.targets[target.config.kind];
}

/**
 * The backup storage of one target's database: a Target, or a target's config (restore-db
 * `--from-target`/`--from-database` pass one with another kind or database). Without `ops` the
 * config file is read.
 */
export function storageFor(where: Target | Pick<TargetConfig, 'kind' | 'database' | 'stateDir'>, ops?: OpsConfig, env: NodeJS.ProcessEnv = process.env): BackupStorage {
  const config = 'config' in where ? where.config : where;
  return openStorage(opsFor({ config: config as TargetConfig }, ops, env), { kind: config.kind, database: config.database, stateDir: config.stateDir });
}

export function placementFor(t: TargetOpsConfig): ToolPlacement {
  return t.docker ? { kind: 'docker', ...t.docker } : { kind: 'host' };
}

/** Who runs pg_dump: the least-privilege backup role (default); `admin`; or `auto`, the backup role when its password is known. */
export type BackupAs = 'backup' | 'admin' | 'auto';

/** The connection pg_dump uses. */
export function backupConnection(target: Target, as: BackupAs = 'backup'): ConnectionSettings {
  if (as === 'admin') return adminConnection(target);
  const password = rolePassword(target, 'backup');
  if (password) return { ...adminConnection(target), user: target.roles.backup, password };
  if (as === 'auto') return adminConnection(target);
  throw new UserError(`the password of the backup role ${target.roles.backup} is not known`, 'set DB_BACKUP_PASSWORD (setup-db gives the role that password)');
}

/**
 * The administrative connection on a database other than the target's own: creating,
 * copying, renaming and dropping a database cannot be done from a session inside it.
 */
export function maintenanceConnection(target: Target): ConnectionSettings {
  return target.admin.database === target.config.database ? { ...target.admin, database: 'postgres' } : target.admin;
}
