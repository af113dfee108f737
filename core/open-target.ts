import { UserError } from './errors.ts';
import type { ConnectionSettings } from './db/url.ts';
import { roleNames, LOGIN_ROLES, type LoginRole, type RoleNames } from './config/role-names.ts';
import type { TargetConfig } from './config/target-settings.ts';
import { LocalCluster } from './local/cluster.ts';
import { ensureRolePassword, recordRolePassword } from './local/secrets-file.ts';
import { rememberSecret } from './secrets.ts';
import type { Migration } from './migrations/files.ts';
import { setupDatabase, type SetupInput, type SetupReport } from './setup.ts';

/** A target made concrete: where its server is, how to reach it as each role. */
export interface Target {
  config: TargetConfig;
  roles: RoleNames;
  /** Administrative connection to the maintenance database. */
  admin: ConnectionSettings;
  cluster: LocalCluster | undefined;
  /** Whether this process started the local cluster (and so should stop it on exit). */
  startedCluster: boolean;
}

export interface OpenTargetOptions {
  /** For `local`: start the cluster (initializing it the first time) if it is not running. */
  start?: boolean;
}

export async function openTarget(config: TargetConfig, opts: OpenTargetOptions = {}): Promise<Target> {
  const roles = roleNames(config.database);
  for (const pw of Object.values(config.rolePasswords)) rememberSecret(pw);
  // A server named by URL (for local: a loopback one the user runs) is used as it is; only
  // local without a URL means the embedded cluster this tool runs.
  if (config.admin) {
    rememberSecret(config.admin.password);
    return { config, roles, admin: config.admin, cluster: undefined, startedCluster: false };
  }
  if (config.kind !== 'local') throw new UserError(`no connection settings for target ${config.kind}`, 'set DATABASE_URL or pass --url');
  const cluster = await LocalCluster.open({ stateDir: config.stateDir, ...config.local });
  let startedCluster = false;
  if (opts.start) {
    await cluster.init();
    startedCluster = await cluster.start();
  } else if (!cluster.status().running) {
    throw new UserError(`the local cluster (${cluster.dataDir}) is not running`, 'start it with npm start or npm run db:start');
  }
  return { config, roles, admin: cluster.adminSettings(), cluster, startedCluster };
}

/**
 * The password for a login role: the environment's if given, else (local only) the one
 * generated into the secrets file. Undefined means "leave the role's password as it is".
 */
export function rolePassword(t: Target, role: LoginRole): string | undefined {
  const given = t.config.rolePasswords[role];
  if (given) return given;
  if (t.cluster) return ensureRolePassword(t.cluster.secretsFile, t.roles[role]);
  return undefined;
}

export function rolePasswords(t: Target): Partial<Record<LoginRole, string>> {
  const out: Partial<Record<LoginRole, string>> = {};
  for (const role of LOGIN_ROLES) {
    const pw = rolePassword(t, role);
    if (pw) out[role] = pw;
  }
  return out;
}

/** Connection settings to the target database as one login role. */
export function roleConnection(t: Target, role: LoginRole): ConnectionSettings {
  return { ...t.admin, database: t.config.database, user: t.roles[role], password: rolePassword(t, role) };
}

/** Administrative connection to the target database itself. */
export function adminConnection(t: Target, database = t.config.database): ConnectionSettings {
  return { ...t.admin, database };
}

/**
 * The passwords setup sets. On the local cluster a password given by hand is first recorded in
 * the secrets file, so the file always holds what the server has and the next run keeps it.
 */
export function setupPasswords(t: Target): Partial<Record<LoginRole, string>> {
  const passwords = rolePasswords(t);
  if (t.cluster) {
    for (const [role, pw] of Object.entries(t.config.rolePasswords) as [LoginRole, string][]) recordRolePassword(t.cluster.secretsFile, t.roles[role], pw);
  }
  return passwords;
}

/** setup-db against a target: its administrator, its database and pool budget, its role passwords. */
export async function setupTarget(t: Target, migrations: readonly Migration[], opts: Pick<SetupInput, 'onProgress' | 'onChange' | 'ignoreMissing' | 'lockWaitTimeoutMs'> = {}): Promise<SetupReport> {
  return setupDatabase({ admin: t.admin, database: t.config.database, pool: t.config.pool, passwords: setupPasswords(t), migrations, ...opts });
}
