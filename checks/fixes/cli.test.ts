import { cpSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { LOGIN_ROLES } from '../../core/config/role-names.ts';
import { REPO_ROOT } from '../../core/paths.ts';
import { secretUrl } from '../../core/db/url.ts';
import { isUserError } from '../../core/errors.ts';
import { readMigrationFolder } from '../../core/migrations/files.ts';
import { MIGRATIONS_DIR } from '../../core/paths.ts';
import { generatePassword } from '../../core/secrets.ts';
import { setupDatabase } from '../../core/setup.ts';
import { runCli } from '../../test/cli.ts';
import { pgAdmin, uniqueName } from '../../test/db.ts';
import { writeFixesRequest } from './command.ts';

/** `checks --write-fixes [DIR]`, `--dry-run` and `--json` as a user runs them, on our own schema with a planted migration. */

const PLANTED = `CREATE TABLE invoices (
    id          uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    user_id     uuid NOT NULL REFERENCES users (id),
    total       numeric(12, 2) NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invoices_total_idx ON invoices (total);
CREATE INDEX invoices_total_again_idx ON invoices (total);
`;

function cli(args: string[], password: string | undefined) {
  return runCli('checks/cli.ts', args, { DB_POOL_MAX: '10', DB_APP_INSTANCES: '1', ...(password ? { PGPASSWORD: password } : {}) }, 120_000);
}

describe('writeFixesRequest', () => {
  const refused = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return isUserError(e) ? e.line : String(e);
    }
    return 'accepted';
  };
  it('takes DIR as the one positional, defaulting to the migrations folder in use; refuses a folder or --dry-run without --write-fixes', () => {
    expect(writeFixesRequest({}, [], '/m')).toBeUndefined();
    expect(writeFixesRequest({ 'write-fixes': true }, [], '/m')).toEqual({ dir: '/m', dryRun: false });
    expect(writeFixesRequest({ 'write-fixes': true, 'dry-run': true }, ['/x'], '/m')).toEqual({ dir: '/x', dryRun: true });
    expect(refused(() => writeFixesRequest({}, ['/x'], '/m'))).toBe('checks: unexpected argument "/x"; a folder argument goes with --write-fixes: checks --write-fixes DIR');
    expect(refused(() => writeFixesRequest({ 'dry-run': true }, [], '/m'))).toMatch(/^checks: --dry-run goes with --write-fixes; /);
    expect(refused(() => writeFixesRequest({ 'write-fixes': true }, ['/a', '/b'], '/m'))).toMatch(/^checks: --write-fixes takes one folder, got 2; /);
  });
});

describe('checks --write-fixes', () => {
  const database = uniqueName('ckfix');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-cli-fixes-'));
  const admin = pgAdmin(database);
  const url = secretUrl({ ...admin, password: '' }).replace(/:@/, '@');
  const passwords = Object.fromEntries(LOGIN_ROLES.map((r) => [r, generatePassword()]));
  const setup = () => setupDatabase({ admin: pgAdmin(), database, pool: { max: 10, min: 2, instances: 1 }, passwords, migrations: readMigrationFolder(dir).migrations });
  // Our schema plus a migration of the test's own folder: our file, named, applies to it (see speaksFor).
  const run = (args: string[]) => cli(['--url', url, '--config', path.join(REPO_ROOT, 'pgsteward.config.json'), ...args], admin.password);

  beforeAll(async () => {
    cpSync(MIGRATIONS_DIR, dir, { recursive: true, filter: (f) => !f.endsWith('.ts') });
    writeFileSync(path.join(dir, '0005_invoices.sql'), PLANTED);
    await setup();
  }, 120_000);

  it('--dry-run prints the files and writes none', async () => {
    const r = await run(['--migrations', dir, '--write-fixes', dir, '--dry-run']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^write-fixes: would write 3 migrations into .*, repairing 3 findings$/m);
    expect(r.stdout).toContain('  0006_pgsteward_fixes.sql (one transaction): updated-at-triggers public.invoices\n');
    expect(r.stdout).toContain('  0007_pgsteward_create_invoices_user_id_idx.sql (-- no-transaction): foreign-key-indexes public.invoices.invoices_user_id_fkey\n');
    expect(r.stdout).toContain('    | -- no-transaction\n');
    expect(r.stdout).toContain('    | DROP INDEX CONCURRENTLY IF EXISTS public.invoices_total_again_idx;\n');
    expect(r.stdout).toContain('up-only: no .down.sql is written');
    expect(readdirSync(dir).filter((f) => f.includes('pgsteward'))).toEqual([]);
  });

  it('a folder argument without --write-fixes is refused in one line, exit 2', async () => {
    const r = await run([dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: checks: unexpected argument "${dir}"; a folder argument goes with --write-fixes: checks --write-fixes DIR\n`);
  });

  it('--json lists the files it wrote; with them pending, a second run refuses; applied, a third writes nothing', async () => {
    const r = await run(['--migrations', dir, '--write-fixes', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ dir, dryRun: false, layout: { style: 'sequential', reversible: false }, downFilesWritten: false, notWritten: [], notRun: [], exitCode: 0 });
    expect(doc.files.map((f: { name: string; noTransaction: boolean }) => [f.name, f.noTransaction])).toEqual([
      ['0006_pgsteward_fixes.sql', false],
      ['0007_pgsteward_create_invoices_user_id_idx.sql', true],
      ['0008_pgsteward_drop_invoices_total_again_idx.sql', true],
    ]);
    expect(readdirSync(dir).filter((f) => f.includes('pgsteward')).sort()).toEqual(doc.files.map((f: { name: string }) => f.name));

    const pending = await run(['--migrations', dir, '--write-fixes']);
    expect(pending.code).toBe(2);
    expect(pending.stderr).toBe('error: 3 migrations are not applied yet (0006_pgsteward_fixes.sql, …), so the findings describe a schema they will change; apply them first (npm run setup-db), then write fixes\n');

    await setup();
    const again = await run(['--migrations', dir, '--write-fixes']);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^write-fixes: nothing to write into .*: no finding has a mechanical fix$/m);
    expect(readMigrationFolder(dir).migrations).toHaveLength(8);
  }, 120_000);
});
