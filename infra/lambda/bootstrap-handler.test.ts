import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOGIN_ROLES } from '../../core/config/role-names.ts';
import { MIGRATIONS_DIR } from '../../core/paths.ts';
import { generatePassword } from '../../core/secrets.ts';
import { pgAdmin, uniqueName, withSql } from '../../test/db.ts';
import { LAMBDA_ENV } from '../setup-env.ts';
import { bootstrapEnv, createHandler, type SecretReader } from './bootstrap-handler.ts';

/**
 * The prod bootstrap handler against the suite's real PostgreSQL 17, with Secrets Manager
 * replaced by a map of ARN -> secret string (the one thing that cannot run here).
 */

const MASTER_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-test';

function lambdaFor(database: string, overrides: { masterPassword?: string } = {}) {
  const admin = pgAdmin();
  const passwords = Object.fromEntries(LOGIN_ROLES.map((r) => [r, generatePassword()])) as Record<(typeof LOGIN_ROLES)[number], string>;
  const secrets = new Map<string, string>([[MASTER_ARN, JSON.stringify({ username: admin.user, password: overrides.masterPassword ?? admin.password })]]);
  const roleArns: Record<string, string> = {};
  for (const r of LOGIN_ROLES) {
    roleArns[r] = `arn:aws:secretsmanager:eu-west-1:123456789012:secret:pgsteward-prod/${database}_${r}-abc`;
    secrets.set(roleArns[r], JSON.stringify({ engine: 'postgres', username: `${database}_${r}`, password: passwords[r] }));
  }
  const reads: string[] = [];
  const readSecret: SecretReader = async (arn) => {
    reads.push(arn);
    const s = secrets.get(arn);
    if (!s) throw new Error(`ResourceNotFoundException: ${arn}`);
    return s;
  };
  const env = {
    DB_TARGET: 'prod',
    DB_NAME: database,
    DB_POOL_MAX: '10',
    DB_POOL_MIN: '2',
    DB_APP_INSTANCES: '1',
    [LAMBDA_ENV.host]: admin.host,
    [LAMBDA_ENV.port]: String(admin.port),
    // The suite's server has no TLS; on RDS the stack sets verify-full.
    [LAMBDA_ENV.sslmode]: 'disable',
    [LAMBDA_ENV.masterSecretArn]: MASTER_ARN,
    [LAMBDA_ENV.roleSecretArns]: JSON.stringify(roleArns),
  };
  const log: string[] = [];
  return { handler: createHandler({ env, migrationsDir: MIGRATIONS_DIR, readSecret, log: (l) => log.push(l) }), passwords, reads, log, env, readSecret };
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-handler-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('prod bootstrap Lambda handler', () => {
  it('reports the live values of the settings it is asked for, so the stack can tell a pending reboot', async () => {
    const { handler } = lambdaFor(uniqueName('lambda'));
    const result = await handler({ setupKey: 'k', settings: ['max_connections', 'shared_preload_libraries', 'no_such_setting', "x'; drop table y; --"] });
    const [live] = await withSql(pgAdmin(), (sql) => sql`select current_setting('max_connections') as m, current_setting('shared_preload_libraries') as p`);
    expect(result.settings).toEqual({ max_connections: live!.m, shared_preload_libraries: live!.p });
  });

  it('names the reboot when setup fails while pg_tle is not loaded yet', async () => {
    const dir = path.join(tmp, 'broken');
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    writeFileSync(path.join(dir, '0005_needs_an_extension.sql'), 'create extension pg_no_such_extension;\n');
    const { env, readSecret } = lambdaFor(uniqueName('lambda'));
    const handler = createHandler({ env, migrationsDir: dir, readSecret, log: () => {} });
    const error = (await handler({ setupKey: 'k', settings: ['shared_preload_libraries'] }).catch((e: Error) => e)) as Error;
    expect(error.message).toMatch(/^database bootstrap failed: .*pg_no_such_extension.* \(the server has not loaded pg_tle yet: shared_preload_libraries is ".*"; reboot the instance, then run pulumi up again\)$/);
    // Without the stack asking about preloads (an older stack), no guess is made.
    const plain = (await handler({ setupKey: 'k' }).catch((e: Error) => e)) as Error;
    expect(plain.message).not.toMatch(/reboot/);
  });

  it('creates the roles, applies every migration, and is idempotent', async () => {
    const database = uniqueName('lambda');
    const { handler, passwords, reads } = lambdaFor(database);
    const first = await handler({ setupKey: 'k1' });
    expect(first).toMatchObject({ ok: true, setupKey: 'k1', database, databaseCreated: true, alreadyApplied: 0 });
    expect(first.applied.map((a) => a.file)).toEqual(['0001_uuidv7_and_timestamps.sql', '0002_auth_users.sql', '0003_rbac.sql', '0004_phrases_search.sql']);
    expect(first.rolesCreated.sort()).toEqual([`${database}_app`, `${database}_backup`, `${database}_migrator`, `${database}_owner`, `${database}_readonly`]);
    expect(reads).toHaveLength(5);

    const second = await handler({ setupKey: 'k1' });
    expect(second).toMatchObject({ ok: true, databaseCreated: false, applied: [], alreadyApplied: 4, rolesCreated: [] });

    // The app role logs in with the password from its secret, and cannot touch the ledger.
    await withSql({ ...pgAdmin(database), user: `${database}_app`, password: passwords.app }, async (sql) => {
      const [u] = await sql`select current_user as who`;
      expect(u!.who).toBe(`${database}_app`);
      await expect(sql`select * from _sqlx_migrations`).rejects.toThrow(/permission denied/);
    });
  });

  it('fails with one scrubbed line when the master password is wrong', async () => {
    const database = uniqueName('lambda');
    const wrong = `wrong-${generatePassword()}`;
    const { handler } = lambdaFor(database, { masterPassword: wrong });
    const error = await handler({ setupKey: 'k' }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^database bootstrap failed: cannot connect to postgres:\/\/.*authentication failed/);
    expect((error as Error).message).not.toContain(wrong);
    expect((error as Error).message.split('\n')).toHaveLength(1);
  });

  it('fails clearly when a secret cannot be read or has no password', async () => {
    const database = uniqueName('lambda');
    const { env } = lambdaFor(database);
    const missing = createHandler({ env: { ...env, [LAMBDA_ENV.masterSecretArn]: undefined }, migrationsDir: MIGRATIONS_DIR, readSecret: async () => '{}' });
    await expect(missing({})).rejects.toThrow('database bootstrap failed: the bootstrap function has no PGSTEWARD_MASTER_SECRET_ARN; redeploy the stack; its configuration is incomplete');
    const noPassword = createHandler({ env, migrationsDir: MIGRATIONS_DIR, readSecret: async () => JSON.stringify({ username: 'x' }) });
    await expect(noPassword({})).rejects.toThrow(/the master user secret has no password/);
  });

  it('builds the environment core resolves, with passwords only in memory', async () => {
    const database = uniqueName('lambda');
    const { env, readSecret, passwords } = lambdaFor(database);
    const full = await bootstrapEnv({ env, readSecret });
    expect(full.DATABASE_URL).toMatch(new RegExp(`^postgres://${pgAdmin().user}:.+@127\\.0\\.0\\.1:\\d+/postgres\\?sslmode=disable$`));
    expect(full.DB_APP_PASSWORD).toBe(passwords.app);
    expect(full.DB_MIGRATOR_PASSWORD).toBe(passwords.migrator);
    expect(env).not.toHaveProperty('DATABASE_URL');
  });
});
