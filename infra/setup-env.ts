import { LOGIN_ROLES, type LoginRole } from '../core/config/role-names.ts';
import type { PoolBudget } from '../core/config/target-settings.ts';
import { secretUrl, type ConnectionSettings } from '../core/db/url.ts';
import { UserError } from '../core/errors.ts';

/**
 * The environment `setup-db` (and the prod bootstrap Lambda) read, in exactly the names
 * core/config/target-settings.ts resolves: DB_TARGET, DATABASE_URL, DB_NAME, DB_POOL_MAX, DB_POOL_MIN,
 * DB_APP_INSTANCES and DB_<ROLE>_PASSWORD. Pure; the stacks feed it resolved outputs.
 */

export interface SetupEnvInput {
  target: 'dev' | 'prod';
  database: string;
  pool: PoolBudget;
  admin: ConnectionSettings;
  passwords: Partial<Record<LoginRole, string>>;
}

/**
 * The prod bootstrap Lambda's own configuration keys (non-secret). Its passwords are not in
 * its configuration: it reads them from the Secrets Manager ARNs named here.
 */
export const LAMBDA_ENV = {
  host: 'PGSTEWARD_DB_HOST',
  port: 'PGSTEWARD_DB_PORT',
  sslmode: 'PGSTEWARD_DB_SSLMODE',
  masterSecretArn: 'PGSTEWARD_MASTER_SECRET_ARN',
  roleSecretArns: 'PGSTEWARD_ROLE_SECRET_ARNS',
  /** The RDS roots' PEM file, relative to the package root (verify-full trusts exactly these). */
  caFile: 'PGSTEWARD_DB_CA_FILE',
} as const;

export function rolePasswordVar(role: LoginRole): string {
  return `DB_${role.toUpperCase()}_PASSWORD`;
}

/** The non-secret part: safe in a Lambda's configuration or a container's labels. */
export function setupSettingsEnv(i: Pick<SetupEnvInput, 'target' | 'database' | 'pool'>): Record<string, string> {
  return {
    DB_TARGET: i.target,
    DB_NAME: i.database,
    DB_POOL_MAX: String(i.pool.max),
    DB_POOL_MIN: String(i.pool.min),
    DB_APP_INSTANCES: String(i.pool.instances),
  };
}

/** The whole environment, secrets included: the admin URL and every role password given. */
export function setupDbEnv(i: SetupEnvInput): Record<string, string> {
  const env: Record<string, string> = { ...setupSettingsEnv(i), DATABASE_URL: secretUrl(i.admin) };
  // The dev target reaches only loopback unless its database host is named: inside the stack's
  // Docker network that is the database container.
  if (i.target === 'dev') env.DEV_DB_HOST = i.admin.host;
  for (const role of LOGIN_ROLES) {
    const pw = i.passwords[role];
    if (pw) env[rolePasswordVar(role)] = pw;
  }
  return env;
}

// Characters that would need quoting in a dotenv file. Generated passwords never contain them;
// refusing them keeps the file format trivially correct.
const UNSAFE = /[\s"'`#\\$]/;

/**
 * A dotenv file for `node --env-file`. Keys are upper-case identifiers; a value that would
 * need quoting is refused (its name is reported, never its value).
 */
export function envFile(env: Record<string, string>): string {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(k)) throw new UserError(`environment name "${k.slice(0, 40)}" is not valid`, 'use upper-case letters, digits and underscores');
    if (UNSAFE.test(v)) throw new UserError(`the value of ${k} contains a character an env file cannot hold unquoted`, 'generate passwords without special characters');
    lines.push(`${k}=${v}`);
  }
  return lines.join('\n') + '\n';
}
