import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { secretUrl } from '../../core/db/url.ts';
import { isUserError, UserError } from '../../core/errors.ts';
import { rememberSecret, scrub } from '../../core/secrets.ts';
import { RUNNER_COMMANDS, RUNNER_ENV } from './commands.ts';

/**
 * The runner image's entrypoint: `node /app/runner/entrypoint.mjs <command> [args…]`, e.g.
 * `cron --once backup --target prod`. It turns the task's configuration into the environment
 * the ops commands already read, then runs `/app/ops/<command>.mjs` as a child with that
 * environment, forwards SIGTERM/SIGINT to it and exits with its exit code.
 *
 * What it reads (everything optional unless the command needs it):
 * - `PGSTEWARD_DB_SECRET_ARN`: a Secrets Manager secret `{"username","password"}` to log in
 *   with (the task role may read exactly this one). With it, `PGSTEWARD_DB_HOST`,
 *   `PGSTEWARD_DB_PORT` (5432) and `PGSTEWARD_DB_SSLMODE` (verify-full) name the server, and
 *   DATABASE_URL is built from them (the maintenance database `postgres`).
 * - `PGSTEWARD_DB_SECRET_ROLE=backup`: that secret is the backup role's, so its password is
 *   also DB_BACKUP_PASSWORD (backup-db connects as that role).
 * - `PGSTEWARD_OPS_CONFIG`: the JSON of a pgsteward.config.json, written to
 *   `$PGSTEWARD_HOME/pgsteward.config.json` and named by PGSTEWARD_CONFIG.
 * - `PGSTEWARD_HOME` (default `/tmp/pgsteward`): the state folder (history, staging files).
 * - Anything else (DB_TARGET, DB_NAME, DATABASE_URL, DB_BACKUP_PASSWORD, PGSTEWARD_METRICS…)
 *   passes through unchanged; the dev stack sets them in an env file instead of a secret.
 * The image sets NODE_EXTRA_CA_CERTS and PGSSLROOTCERT to its bundled RDS roots and PG_BIN to
 * the PostgreSQL 17 client tools.
 */

export { RUNNER_ENV };

export const DEFAULT_RUNNER_HOME = '/tmp/pgsteward';
const SSL_MODES = ['require', 'verify-full'] as const;

export interface RunPlan {
  /** The bundle to run, relative to the image root. */
  script: string;
  args: string[];
  env: Record<string, string>;
  /** Files to write before starting (the ops config). */
  files: Array<{ path: string; content: string }>;
}

export interface DbSecret {
  username: string;
  password: string;
}

/** Parses a `{"username","password"}` secret; the message never shows its text. */
export function parseDbSecret(text: string): DbSecret {
  let o: { username?: unknown; password?: unknown };
  try {
    o = JSON.parse(text) as typeof o;
  } catch {
    throw new UserError('the database secret is not JSON', 'store it as {"username": "...", "password": "..."}');
  }
  if (typeof o?.username !== 'string' || !o.username || typeof o.password !== 'string' || !o.password) {
    throw new UserError('the database secret has no username or password', 'store it as {"username": "...", "password": "..."}');
  }
  rememberSecret(o.password);
  return { username: o.username, password: o.password };
}

/**
 * What to run and with which environment. Pure: the secret (when the task names one) has been
 * fetched already. `commands` are the bundles the image carries.
 */
export function planRun(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, secret: DbSecret | undefined, commands: readonly string[]): RunPlan {
  const [command, ...args] = argv;
  if (!command || !commands.includes(command)) {
    throw new UserError(`unknown or missing command "${String(command ?? '').slice(0, 30)}"`, `run one of: ${commands.join(', ')} (e.g. cron --once backup)`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  const home = env.PGSTEWARD_HOME || DEFAULT_RUNNER_HOME;
  out.PGSTEWARD_HOME = home;
  const files: RunPlan['files'] = [];

  if (env[RUNNER_ENV.secretArn]) {
    if (!secret) throw new UserError(`${RUNNER_ENV.secretArn} is set but no secret was read`, 'check the task role (secretsmanager:GetSecretValue on that secret)');
    const host = env[RUNNER_ENV.host];
    if (!host) throw new UserError(`${RUNNER_ENV.secretArn} needs ${RUNNER_ENV.host}`, 'set the database host in the task definition');
    const port = Number(env[RUNNER_ENV.port] ?? 5432);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UserError(`${RUNNER_ENV.port} is not a port`, 'set it to the database port, e.g. 5432');
    const ssl = (env[RUNNER_ENV.sslmode] ?? 'verify-full') as (typeof SSL_MODES)[number];
    if (!SSL_MODES.includes(ssl)) throw new UserError(`${RUNNER_ENV.sslmode} must be require or verify-full`, 'the runner only talks to its server over TLS');
    out.DATABASE_URL = secretUrl({ host, port, database: 'postgres', user: secret.username, password: secret.password, ssl });
    if (env[RUNNER_ENV.secretRole] === 'backup') out.DB_BACKUP_PASSWORD = secret.password;
  }
  const opsConfig = env[RUNNER_ENV.opsConfig];
  if (opsConfig) {
    try {
      JSON.parse(opsConfig);
    } catch {
      throw new UserError(`${RUNNER_ENV.opsConfig} is not JSON`, 'set it to the text of a pgsteward.config.json');
    }
    const file = path.posix.join(home, 'pgsteward.config.json');
    files.push({ path: file, content: opsConfig });
    out.PGSTEWARD_CONFIG = file;
  }
  return { script: `ops/${command}.mjs`, args, env: out, files };
}

/** Exit code for a child that ended by a signal, as a shell reports it. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal ? ({ SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] : undefined;
  return n ? 128 + n : 2;
}

async function readSecret(arn: string): Promise<DbSecret> {
  const sm = await import('@aws-sdk/client-secrets-manager');
  const out = await new sm.SecretsManagerClient({}).send(new sm.GetSecretValueCommand({ SecretId: arn }));
  if (!out.SecretString) throw new UserError(`secret ${arn} has no string value`, 'store the secret as a JSON string');
  return parseDbSecret(out.SecretString);
}

export async function main(argv: readonly string[], root: string, commands: readonly string[]): Promise<number> {
  try {
    const arn = process.env[RUNNER_ENV.secretArn];
    const secret = arn ? await readSecret(arn) : undefined;
    const plan = planRun(argv, process.env, secret, commands);
    for (const f of plan.files) {
      mkdirSync(path.dirname(f.path), { recursive: true, mode: 0o700 });
      writeFileSync(f.path, f.content, { mode: 0o600 });
    }
    const child = spawn(process.execPath, [path.join(root, plan.script), ...plan.args], { env: plan.env, stdio: 'inherit' });
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => child.kill(sig));
    return await new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(exitCodeOf(code, signal))));
  } catch (e) {
    const line = isUserError(e) ? e.line : ((e as Error)?.message ?? String(e)).split('\n')[0];
    process.stderr.write(`error: ${scrub(line ?? 'unknown error')}\n`);
    return 2;
  }
}

// As bundled into the image: /app/runner/entrypoint.mjs, the command bundles in /app/ops/.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  process.exitCode = await main(process.argv.slice(2), root, RUNNER_COMMANDS);
}
