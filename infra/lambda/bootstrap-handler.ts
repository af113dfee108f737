import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOGIN_ROLES, type LoginRole } from '../../core/config/role-names.ts';
import { resolveTarget } from '../../core/config/target-settings.ts';
import { withConnection } from '../../core/db/connect.ts';
import { secretUrl, type ConnectionSettings } from '../../core/db/url.ts';
import { errorLine, UserError } from '../../core/errors.ts';
import { readMigrations } from '../../core/migrations/files.ts';
import { rememberSecret, scrub } from '../../core/secrets.ts';
import { describeSetup, setupDatabase } from '../../core/setup.ts';
import { LAMBDA_ENV, rolePasswordVar } from '../setup-env.ts';

/**
 * The prod bootstrap: a Lambda inside the VPC's private subnets that runs the same
 * `setupDatabase` as `setup-db` (roles, database, privileges, migrations, grants) against RDS.
 * Passwords never travel in its configuration: it reads the RDS-managed master secret and the
 * role secrets from Secrets Manager (through the VPC endpoint), then resolves its target with
 * core's own `resolveTarget`, so the variable names are the ones every ops command uses.
 * TLS is verified in full against the RDS roots shipped in the package (`ssl.ca`), not against
 * the runtime's bundle, which lacks the G1 roots. It also reports the live values of the
 * settings the stack names (`max_connections`, `shared_preload_libraries`), so the stack can
 * tell whether a parameter change still waits for a reboot.
 * Any failure is thrown, which Lambda reports as a FunctionError and `pulumi up` as a failed
 * deployment; the message is scrubbed of every secret the handler has seen.
 */

export interface BootstrapEvent {
  /** The content key the deployment expects; echoed back so the stack can check it ran this version. */
  setupKey?: string;
  /** Server settings whose live values the result reports (pg_settings names). */
  settings?: string[];
}

export interface BootstrapResult {
  ok: true;
  setupKey: string | null;
  database: string;
  databaseCreated: boolean;
  rolesCreated: string[];
  applied: Array<{ version: string; file: string }>;
  alreadyApplied: number;
  serverVersion: string;
  /** Live values of the settings the event asked for, as pg_settings shows them. */
  settings: Record<string, string>;
  summary: string;
}

export type SecretReader = (arn: string) => Promise<string>;

export interface HandlerDeps {
  env: Readonly<Record<string, string | undefined>>;
  migrationsDir: string;
  readSecret: SecretReader;
  /** PEM roots for verify-full; undefined means Node's own bundle (tests against a local server). */
  ca?: string | undefined;
  log?: (line: string) => void;
}

function required(env: HandlerDeps['env'], name: string): string {
  const v = env[name];
  if (!v) throw new UserError(`the bootstrap function has no ${name}`, 'redeploy the stack; its configuration is incomplete');
  return v;
}

function parseSecret(text: string, what: string): { username?: string; password: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UserError(`the ${what} secret is not JSON`, 'store it as {"username": "...", "password": "..."}');
  }
  const o = parsed as { username?: unknown; password?: unknown };
  if (typeof o?.password !== 'string' || o.password === '') throw new UserError(`the ${what} secret has no password`, 'store it as {"username": "...", "password": "..."}');
  rememberSecret(o.password);
  return { username: typeof o.username === 'string' ? o.username : undefined, password: o.password };
}

function roleSecretArns(env: HandlerDeps['env']): Partial<Record<LoginRole, string>> {
  const raw = env[LAMBDA_ENV.roleSecretArns];
  if (!raw) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new UserError(`${LAMBDA_ENV.roleSecretArns} is not JSON`, 'redeploy the stack; its configuration is damaged');
  }
  const out: Partial<Record<LoginRole, string>> = {};
  for (const role of LOGIN_ROLES) {
    const arn = (parsed as Record<string, unknown>)[role];
    if (typeof arn === 'string' && arn) out[role] = arn;
  }
  return out;
}

/**
 * The environment core's resolveTarget reads, built from the Lambda's settings and the
 * secrets it fetched. Kept in memory only.
 */
export async function bootstrapEnv(deps: Pick<HandlerDeps, 'env' | 'readSecret'>): Promise<Record<string, string | undefined>> {
  const env = deps.env;
  const master = parseSecret(await deps.readSecret(required(env, LAMBDA_ENV.masterSecretArn)), 'master user');
  if (!master.username) throw new UserError('the master user secret has no username', 'store it as {"username": "...", "password": "..."}');
  const sslmode = (env[LAMBDA_ENV.sslmode] ?? 'verify-full') as ConnectionSettings['ssl'];
  const admin: ConnectionSettings = {
    host: required(env, LAMBDA_ENV.host),
    port: Number(env[LAMBDA_ENV.port] ?? 5432),
    database: 'postgres',
    user: master.username,
    password: master.password,
    ssl: sslmode,
  };
  const out: Record<string, string | undefined> = { ...env, DATABASE_URL: secretUrl(admin) };
  for (const [role, arn] of Object.entries(roleSecretArns(env)) as [LoginRole, string][]) {
    out[rolePasswordVar(role)] = parseSecret(await deps.readSecret(arn), `${role} role`).password;
  }
  return out;
}

export function createHandler(deps: HandlerDeps) {
  const log = deps.log ?? ((line: string) => console.log(line));
  return async function handler(event: BootstrapEvent | null | undefined): Promise<BootstrapResult> {
    let settings: Record<string, string> = {};
    try {
      const env = await bootstrapEnv(deps);
      if (env.DB_TARGET !== 'prod') throw new UserError(`the bootstrap function expects DB_TARGET=prod, got "${String(env.DB_TARGET).slice(0, 10)}"`, 'redeploy the stack');
      // The state folder is never used by a remote target; /tmp is the one writable place in Lambda.
      const config = resolveTarget({}, env as NodeJS.ProcessEnv, '/tmp');
      // The CA travels beside the URL (a URL cannot carry it); every connection setup opens is derived from this one.
      const admin: ConnectionSettings = { ...config.admin!, ...(config.admin!.ssl === 'verify-full' && deps.ca ? { ca: deps.ca } : {}) };
      const migrations = readMigrations(deps.migrationsDir);
      settings = await liveSettings(admin, event?.settings ?? []);
      const report = await setupDatabase({
        admin,
        database: config.database,
        pool: config.pool,
        passwords: config.rolePasswords,
        migrations,
        onProgress: (step) => log(`bootstrap: ${step}`),
      });
      const summary = describeSetup(report);
      log(`bootstrap: ${summary}`);
      return {
        ok: true,
        setupKey: event?.setupKey ?? null,
        database: report.database,
        databaseCreated: report.databaseCreated,
        rolesCreated: report.rolesCreated,
        applied: report.migrations.applied.map((a) => ({ version: String(a.version), file: a.file })),
        alreadyApplied: report.migrations.alreadyApplied,
        serverVersion: report.serverVersion,
        settings,
        summary,
      };
    } catch (e) {
      const line = errorLine(e);
      const preload = settings.shared_preload_libraries;
      // A plain Error with one scrubbed line: Lambda turns it into the FunctionError the deploy reports.
      // A library the parameter group adds is loaded only after a reboot; say so next to the error it causes.
      const hint = preload !== undefined && !/\bpg_tle\b/.test(preload) && event?.settings?.includes('shared_preload_libraries') ? ` (the server has not loaded pg_tle yet: shared_preload_libraries is "${preload.slice(0, 80)}"; reboot the instance, then run pulumi up again)` : '';
      throw new Error(scrub(`database bootstrap failed: ${line}${hint}`));
    }
  };
}

const SETTING_NAME = /^[a-z_][a-z0-9_.]{0,62}$/;

/** The live values of `names` (unknown names are left out). */
export async function liveSettings(admin: ConnectionSettings, names: readonly string[]): Promise<Record<string, string>> {
  const wanted = names.filter((n) => SETTING_NAME.test(n));
  if (wanted.length === 0) return {};
  return withConnection(admin, { applicationName: 'pgsteward bootstrap' }, async (sql) => {
    const rows = await sql<{ name: string; setting: string }[]>`select name, setting from pg_settings where name = any(${wanted}::text[])`;
    return Object.fromEntries(rows.map((r) => [r.name, r.setting]));
  });
}

/** Reads a secret's string value through the Secrets Manager VPC endpoint. */
export function secretsManagerReader(): SecretReader {
  let client: import('@aws-sdk/client-secrets-manager').SecretsManagerClient | undefined;
  return async (arn) => {
    const sm = await import('@aws-sdk/client-secrets-manager');
    client ??= new sm.SecretsManagerClient({});
    const out = await client.send(new sm.GetSecretValueCommand({ SecretId: arn }));
    if (!out.SecretString) throw new UserError(`secret ${arn} has no string value`, 'store the secret as a JSON string');
    return out.SecretString;
  };
}

/**
 * The deployed package: `lambda/index.mjs` (this bundle) one level below the package root, so
 * core's REPO_ROOT resolves to the root and finds `migrations/` and `extensions/` there like
 * in the repository; the RDS roots are the root's `rds-ca.pem` (LAMBDA_ENV.caFile).
 */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The CA file the configuration names, relative to the package root; refused when named but absent. */
export function readCaFile(env: HandlerDeps['env'], root: string = PACKAGE_ROOT): string | undefined {
  const name = env[LAMBDA_ENV.caFile];
  if (!name) return undefined;
  const file = path.resolve(root, name);
  if (!existsSync(file)) throw new UserError(`the bootstrap package has no ${name}`, 'redeploy the stack; its package is incomplete');
  return readFileSync(file, 'utf8');
}

const defaultReader = secretsManagerReader();
let cachedCa: string | undefined;
export const handler = (event: BootstrapEvent | null | undefined): Promise<BootstrapResult> => {
  try {
    cachedCa ??= readCaFile(process.env);
  } catch (e) {
    return Promise.reject(new Error(`database bootstrap failed: ${errorLine(e)}`));
  }
  return createHandler({ env: process.env, migrationsDir: path.join(PACKAGE_ROOT, 'migrations'), readSecret: defaultReader, ca: cachedCa })(event);
};
