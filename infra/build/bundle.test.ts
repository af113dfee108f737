import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { LOGIN_ROLES } from '../../core/config/role-names.ts';
import { MIGRATIONS_DIR } from '../../core/paths.ts';
import { generatePassword } from '../../core/secrets.ts';
import { pgAdmin, uniqueName, withSql } from '../../test/db.ts';
import { envFile, LAMBDA_ENV, setupDbEnv } from '../setup-env.ts';
import { bundleEntry, ENTRY, lambdaPackage, writeSetupDbBundle } from './bundle.ts';

/**
 * The two bundles that run setup inside the private networks, run here for real: the
 * setup-db bundle exactly as the dev bootstrap image starts it (node --env-file-if-exists
 * …/setup-db.mjs --migrations …), and the Lambda bundle through its exported factory,
 * both against the suite's PostgreSQL 17.
 */

const run = promisify(execFile);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-bundle-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const passwordsFor = () => Object.fromEntries(LOGIN_ROLES.map((r) => [r, generatePassword()])) as Record<(typeof LOGIN_ROLES)[number], string>;

/** Runs the image's command line, with nothing from this process's environment but PATH. */
async function runImageCommand(appDir: string, envText: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const envPath = path.join(appDir, 'setup.env');
  writeFileSync(envPath, envText, { mode: 0o400 });
  try {
    const out = await run(process.execPath, [`--env-file-if-exists=${envPath}`, path.join(appDir, 'setup-db.mjs'), '--migrations', path.join(appDir, 'migrations'), '--json'], {
      cwd: appDir,
      env: { PATH: process.env.PATH ?? '' },
      timeout: 60_000,
    });
    return { code: 0, stdout: out.stdout, stderr: out.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  } finally {
    rmSync(envPath, { force: true });
  }
}

describe('setup-db bundle (dev bootstrap image)', async () => {
  const appDir = path.join(tmp, 'app');
  await writeSetupDbBundle(appDir);
  cpSync(MIGRATIONS_DIR, path.join(appDir, 'migrations'), { recursive: true });

  it('inlines only this repository core/ops code and runtime dependencies', async () => {
    const { inputs } = await bundleEntry(ENTRY.setupDb);
    expect(inputs).toContain('ops/setup-db.ts');
    expect(inputs).toContain('core/setup.ts');
    const outside = inputs.filter((f) => !/^(core|ops)\//.test(f) && !f.startsWith('node_modules/'));
    expect(outside).toEqual([]);
    expect(inputs.filter((f) => /node_modules\/(@pulumi|esbuild|vitest|typescript|tsx)\//.test(f) || f.endsWith('.test.ts'))).toEqual([]);
  });

  it('creates the roles and applies the migrations from the env file the stack uploads', async () => {
    const database = uniqueName('image');
    const passwords = passwordsFor();
    const env = setupDbEnv({ target: 'dev', database, pool: { max: 10, min: 2, instances: 1 }, admin: pgAdmin(), passwords });
    const result = await runImageCommand(appDir, envFile(env));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { target: string; database: string; migrations: { applied: unknown[] } };
    expect(report).toMatchObject({ target: 'dev', database });
    expect(report.migrations.applied).toHaveLength(4);
    await withSql({ ...pgAdmin(database), user: `${database}_app`, password: passwords.app }, async (sql) => {
      const [row] = await sql`select count(*)::int as n from roles`;
      expect(row!.n).toBeGreaterThanOrEqual(4);
    });
    // A second run changes nothing and still succeeds.
    const again = await runImageCommand(appDir, envFile(env));
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).migrations).toMatchObject({ applied: [], alreadyApplied: 4 });
  });

  it('exits non-zero with one line, and no password, when it cannot log in', async () => {
    const wrong = `Wrong${generatePassword().replace(/[^A-Za-z0-9]/g, '')}`;
    const env = setupDbEnv({ target: 'dev', database: uniqueName('image'), pool: { max: 10, min: 2, instances: 1 }, admin: { ...pgAdmin(), password: wrong }, passwords: passwordsFor() });
    const result = await runImageCommand(appDir, envFile(env));
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: cannot connect to postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres: authentication failed/);
    expect(result.stderr).not.toContain(wrong);
  });
});

describe('bootstrap Lambda package', async () => {
  const pkg = await lambdaPackage();
  const dir = path.join(tmp, 'lambda');
  mkdirSync(path.join(dir, 'migrations'), { recursive: true });
  writeFileSync(path.join(dir, 'index.mjs'), pkg.code);
  for (const m of pkg.migrations) writeFileSync(path.join(dir, 'migrations', m.name), m.bytes);

  it('is deterministic, so the invocation is re-run only when something really changed', async () => {
    expect((await lambdaPackage()).sha256).toBe(pkg.sha256);
    expect(pkg.migrations.map((m) => m.name)).toEqual(['0001_uuidv7_and_timestamps.sql', '0002_auth_users.sql', '0003_rbac.sql', '0004_phrases_search.sql']);
  });

  it('bundles the Secrets Manager client and nothing from Pulumi', () => {
    expect(pkg.code).toContain('GetSecretValueCommand');
    expect(pkg.code).not.toMatch(/@pulumi\/pulumi/);
    expect(pkg.code).not.toMatch(/from ['"]@aws-sdk/);
  });

  it('runs setup against PostgreSQL from the bundled file and its migrations folder', async () => {
    const mod = (await import(pathToFileURL(path.join(dir, 'index.mjs')).href)) as typeof import('../lambda/bootstrap-handler.ts');
    expect(typeof mod.handler).toBe('function');
    const database = uniqueName('bundled');
    const admin = pgAdmin();
    const secrets: Record<string, string> = { master: JSON.stringify({ username: admin.user, password: admin.password }) };
    const handler = mod.createHandler({
      env: {
        DB_TARGET: 'prod',
        DB_NAME: database,
        [LAMBDA_ENV.host]: admin.host,
        [LAMBDA_ENV.port]: String(admin.port),
        [LAMBDA_ENV.sslmode]: 'disable',
        [LAMBDA_ENV.masterSecretArn]: 'master',
      },
      migrationsDir: path.join(dir, 'migrations'),
      readSecret: async (arn) => secrets[arn]!,
      log: () => {},
    });
    const result = await handler({ setupKey: pkg.sha256 });
    expect(result).toMatchObject({ ok: true, setupKey: pkg.sha256, database, databaseCreated: true });
    expect(result.applied).toHaveLength(4);
  });
});
