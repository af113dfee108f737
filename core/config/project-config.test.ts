import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { POLICIES } from '../../checks/types.ts';
import { EXIT, UserError } from '../errors.ts';
import { REPO_ROOT } from '../paths.ts';
import { closest } from './json-reader.ts';
import { SQUAWK_RULES } from './checks-config.ts';
import { loadProjectConfig, parseProjectConfig, speaksFor } from './project-config.ts';

const ctx = { file: '/srv/shop/pgsteward.config.json', baseDir: '/srv/shop', stateDir: '/var/lib/pgsteward', env: {} };
const parse = (raw: unknown, env: NodeJS.ProcessEnv = {}) => parseProjectConfig(raw, { ...ctx, env });

/** The one line the CLI would print for this file. */
function refusal(raw: unknown): string {
  try {
    parse(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).exitCode).toBe(EXIT.error);
    return (e as UserError).line;
  }
  throw new Error('the file was accepted');
}

describe('project config: the checks section', () => {
  it('with no file at all, no policy is enabled and every setting is the generic default', () => {
    const c = parseProjectConfig(undefined, { ...ctx, file: undefined });
    expect(c).toMatchObject({ source: undefined, database: undefined, migrationsDir: undefined, pool: {}, hasChecks: false });
    expect(parse({ cron: { timezone: 'UTC' } }).hasChecks).toBe(false);
    expect(parse({ checks: {} }).hasChecks).toBe(true);
    expect(c.checks).toEqual({
      configFile: undefined,
      policies: [],
      schemas: undefined,
      ignoreTables: ['public._sqlx_migrations'],
      uuidV7Functions: ['uuid_generate_v7', 'uuidv7'],
      requireUuidKeys: false,
      updatedAt: { column: 'updated_at', function: 'set_updated_at' },
      emailColumns: [],
      search: { fullText: [], trigram: [], probes: [] },
      probeRows: {},
      roles: undefined,
      pool: { max: 10, min: 2, instances: 1 },
      squawk: { rules: SQUAWK_RULES, pgVersion: '17.0' },
      ignore: [],
    });
  });

  it('reads policies as true, false or their settings; tables without a schema are in public', () => {
    const c = parse({
      database: 'shop',
      migrations: 'db/migrations',
      pool: { max: 5, instances: 3 },
      checks: {
        schemas: ['public', 'billing'],
        ignoreTables: ['legacy_import'],
        policies: {
          uuidv7Keys: { functions: ['gen_uuid_v7'], requireUuid: false },
          updatedAt: true,
          emailCaseInsensitive: { columns: ['customers.email', 'billing.invoices.contact_email'] },
          search: { fullText: { 'public.products.search': 'german', 'public.products.body': 'simple' }, trigram: ['products.name'] },
          roles: { names: { owner: 'shop_o', migrator: 'shop_m', app: 'shop_web', readonly: 'shop_ro', backup: 'shop_bk' } },
          ledger: false,
        },
        probeRows: { customers: { email: 'probe@example.test', age: 42, active: true } },
        ignore: [{ check: 'duplicate-indexes', object: 'public.idx_a', reason: 'ticket OPS-12' }],
        squawk: { rules: ['ban-drop-database'] },
      },
    });
    expect(c.database).toBe('shop');
    expect(c.migrationsDir).toBe('/srv/shop/db/migrations');
    expect(c.checks.configFile).toBe('/srv/shop/pgsteward.config.json');
    expect(c.checks.policies).toEqual(['uuidv7-keys', 'updated-at', 'email-case-insensitive', 'search', 'roles']);
    expect(c.checks.uuidV7Functions).toEqual(['gen_uuid_v7']);
    expect(c.checks.requireUuidKeys).toBe(false);
    expect(c.checks.ignoreTables).toEqual(['public.legacy_import', 'public._sqlx_migrations']);
    expect(c.checks.emailColumns).toEqual([
      { table: 'public.customers', column: 'email' },
      { table: 'billing.invoices', column: 'contact_email' },
    ]);
    expect(c.checks.search.fullText).toEqual([
      { table: 'public.products', column: 'search', config: 'german' },
      { table: 'public.products', column: 'body', config: 'simple' },
    ]);
    expect(c.checks.search.trigram).toEqual([{ table: 'public.products', column: 'name' }]);
    expect(c.checks.probeRows).toEqual({ 'public.customers': { email: 'probe@example.test', age: '42', active: 'true' } });
    expect(c.checks.roles).toEqual({ owner: 'shop_o', migrator: 'shop_m', app: 'shop_web', readonly: 'shop_ro', backup: 'shop_bk' });
    expect(c.checks.squawk).toEqual({ rules: ['ban-drop-database'], pgVersion: '17.0' });
    expect(c.checks.ignore).toEqual([{ check: 'duplicate-indexes', object: 'public.idx_a', reason: 'ticket OPS-12' }]);
    expect(c.checks.pool).toEqual({ max: 5, min: 2, instances: 3 });
  });

  it('DB_POOL_MAX, DB_POOL_MIN and DB_APP_INSTANCES still override the file’s pool', () => {
    const c = parse({ pool: { max: 5, min: 1, instances: 3 } }, { DB_POOL_MAX: '20', DB_APP_INSTANCES: '2' });
    expect(c.pool).toEqual({ max: 5, min: 1, instances: 3 });
    expect(c.checks.pool).toEqual({ max: 20, min: 1, instances: 2 });
  });

  it('a typo is refused with the key path, the file and the key it most likely meant', () => {
    expect(refusal({ checks: { probeRow: {} } })).toBe('/srv/shop/pgsteward.config.json: checks.probeRow is not a known setting; did you mean checks.probeRows?');
    expect(refusal({ checks: { policies: { emailCaseInsensitve: true } } })).toBe(
      '/srv/shop/pgsteward.config.json: checks.policies.emailCaseInsensitve is not a known setting; did you mean checks.policies.emailCaseInsensitive?',
    );
    expect(refusal({ checks: { policies: { updatedAT: true } } })).toMatch(/did you mean checks\.policies\.updatedAt\?$/);
    expect(refusal({ migration: 'migrations' })).toBe('/srv/shop/pgsteward.config.json: migration is not a known setting; did you mean migrations?');
    expect(refusal({ checks: { policies: { search: { trigrams: [] } } } })).toMatch(/checks\.policies\.search\.trigrams is not a known setting; did you mean checks\.policies\.search\.trigram\?$/);
    // Nothing near: the known keys are listed instead.
    expect(refusal({ checks: { policies: { audit: true } } })).toMatch(/checks\.policies\.audit is not a known setting; use one of: uuidv7Keys, updatedAt, emailCaseInsensitive, search, roles, ledger$/);
    expect(refusal({ checks: { policies: { search: { probes: [{ table: 'phrases', key: 'text', queries: [{ kind: 'fulltext', column: 'c', term: 't', expect: 'e' }] }] } } } })).toMatch(
      /checks\.policies\.search\.probes\[0\]\.queries\[0\]\.kind must be one of full-text, ilike, similarity; did you mean "full-text"\?$/,
    );
  });

  it('a wrong type is refused with the key path and what it must be', () => {
    expect(refusal({ checks: { schemas: 'public' } })).toMatch(/: checks\.schemas must be a list; write it as \[ … \]/);
    expect(refusal({ checks: { schemas: [] } })).toMatch(/checks\.schemas is empty, so nothing would be checked/);
    expect(refusal({ checks: { policies: { search: 'yes' } } })).toMatch(/checks\.policies\.search must be true, false or an object of its settings/);
    expect(refusal({ checks: { policies: { emailCaseInsensitive: { columns: ['email'] } } } })).toMatch(/checks\.policies\.emailCaseInsensitive\.columns\[0\] must name a column as schema\.table\.column \(unquoted\); e\.g\. "public\.users\.email"$/);
    expect(refusal({ checks: { probeRows: { 'public.users': { email: { v: 1 } } } } })).toMatch(/checks\.probeRows\["public\.users"\]\.email must be a string, number or boolean/);
    expect(refusal({ checks: { probeRows: { '"Users"': {} } } })).toMatch(/checks\.probeRows key ""Users"" must name a table as schema\.table/);
    expect(refusal({ checks: { policies: { roles: { names: { owner: 'o' } } } } })).toMatch(/checks\.policies\.roles\.names\.migrator is required when names are given/);
    expect(refusal({ checks: { ignore: [{ check: 'search', object: 'x' }] } })).toMatch(/checks\.ignore\[0\]\.reason is required/);
    expect(refusal({ pool: { max: 0 } })).toMatch(/pool\.max must be a whole number from 1 to 1000/);
    expect(refusal({ pool: { max: 2, min: 3 } })).toMatch(/pool\.min \(3\) is larger than pool\.max \(2\)/);
    expect(refusal({ database: 'Shop-DB' })).toMatch(/: database "Shop-DB" is not a database name pgsteward can manage/);
    expect(refusal({ database: 'postgres' })).toMatch(/database "postgres" is a system database/);
    expect(refusal({ checks: [] })).toMatch(/: checks must be an object/);
    expect(refusal(['x'])).toMatch(/: the file must be an object/);
    // The ops sections are validated by the same load.
    expect(refusal({ cron: { timezon: 'UTC' } })).toMatch(/cron\.timezon is not a known setting; did you mean cron\.timezone\?$/);
  });

  it('did-you-mean picks the nearest known name, and none when nothing is near', () => {
    expect(closest('probeRow', ['probeRows', 'policies'])).toBe('probeRows');
    expect(closest('SCHEMAS', ['schemas', 'squawk'])).toBe('schemas');
    expect(closest('qa', ['local', 'dev', 'prod'])).toBeUndefined();
    expect(closest('zzzzzz', ['schemas'])).toBeUndefined();
  });
});

describe('the files in this repository', () => {
  it('docs/configuration.md lists exactly the default squawk rules', () => {
    const page = readFileSync(path.join(REPO_ROOT, 'docs/configuration.md'), 'utf8');
    const para = page.slice(page.indexOf('The default squawk rules:'), page.indexOf('A list in the file replaces it.'));
    expect([...para.matchAll(/`([a-z-]+)`/g)].map((m) => m[1])).toEqual(SQUAWK_RULES);
  });

  it('our own pgsteward.config.json enables every policy with the values the checks were written for', () => {
    const c = loadProjectConfig({ file: path.join(REPO_ROOT, 'pgsteward.config.json'), repoRoot: REPO_ROOT, stateDir: '/tmp/state', env: {} });
    expect(c.database).toBe('app');
    expect(c.migrationsDir).toBe(path.join(REPO_ROOT, 'migrations'));
    expect(c.checks.policies).toEqual([...POLICIES]);
    expect(c.checks.emailColumns).toEqual([{ table: 'public.users', column: 'email' }]);
    expect(c.checks.search.fullText).toEqual([{ table: 'public.phrases', column: 'search', config: 'english' }]);
    expect(c.checks.search.trigram).toEqual([{ table: 'public.phrases', column: 'text' }]);
    expect(c.checks.search.probes[0]!.queries.map((q) => q.kind)).toEqual(['full-text', 'ilike', 'similarity']);
    expect(Object.keys(c.checks.probeRows)).toEqual(['public.users', 'public.roles', 'public.phrases']);
    expect(c.checks.requireUuidKeys).toBe(true);
    expect(c.checks.roles).toBeUndefined();
  });

  it('the fixture application’s file: its database, its folder, every policy but search, its trigger function', () => {
    const c = loadProjectConfig({ file: path.join(REPO_ROOT, 'test/fixtures/app/pgsteward.config.json'), repoRoot: REPO_ROOT, stateDir: '/tmp/state', env: {} });
    expect(c.database).toBe('accounts');
    expect(c.migrationsDir).toBe(path.join(REPO_ROOT, 'test/fixtures/app/migrations'));
    expect(c.checks.policies).toEqual(POLICIES.filter((p) => p !== 'search'));
    expect(c.checks.updatedAt).toEqual({ column: 'updated_at', function: 'touch_modified_at' });
    expect(c.checks.uuidV7Functions).toEqual(['uuid_generate_v7']);
  });

  it('loads: an explicit file must exist, PGSTEWARD_CONFIG names one, bad JSON is named', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-pcfg-'));
    expect(loadProjectConfig({ repoRoot: dir, stateDir: dir, env: {} }).checks.policies).toEqual([]);
    expect(() => loadProjectConfig({ file: path.join(dir, 'nope.json'), repoRoot: dir, stateDir: dir, env: {} })).toThrow(/config file .*nope\.json does not exist/);
    const file = path.join(dir, 'shop.json');
    writeFileSync(file, JSON.stringify({ migrations: '../migrations', checks: { policies: { ledger: true } } }));
    const c = loadProjectConfig({ repoRoot: '/elsewhere', stateDir: dir, env: { PGSTEWARD_CONFIG: file } });
    expect(c.source).toBe(file);
    expect(c.migrationsDir).toBe(path.resolve(dir, '../migrations'));
    expect(c.checks.policies).toEqual(['ledger']);
    writeFileSync(file, '{ "checks": { } ');
    expect(() => loadProjectConfig({ file, repoRoot: dir, stateDir: dir, env: {} })).toThrow(/shop\.json is not valid JSON/);
  });
});

describe('whose configuration the checkout file is', () => {
  const m = (version: number, sum: string) => ({ version: BigInt(version), checksum: Buffer.from(sum) });
  const ours = [m(1, 'a'), m(2, 'b'), m(3, 'c')];
  const base = { explicit: false, source: '/repo/pgsteward.config.json', migrations: ours };

  it('speaks for a database its migrations built, pending files included', () => {
    expect(speaksFor({ ...base, ledger: [m(1, 'a'), m(2, 'b'), m(3, 'c')] })).toBe(true);
    expect(speaksFor({ ...base, ledger: [m(1, 'a')] })).toBe(true);
  });

  it("does not speak for another application's database: other versions, other checksums, or no sqlx ledger", () => {
    expect(speaksFor({ ...base, ledger: [m(20240101000000, 'x')] })).toBe(false);
    expect(speaksFor({ ...base, ledger: [m(1, 'a'), m(2, 'changed')] })).toBe(false);
    expect(speaksFor({ ...base, ledger: [m(1, 'a'), m(4, 'd')] })).toBe(false);
    expect(speaksFor({ ...base, ledger: [] })).toBe(false);
  });

  it('a file named by --config or PGSTEWARD_CONFIG applies to whatever it is pointed at, and no file is no configuration', () => {
    expect(speaksFor({ ...base, explicit: true, ledger: [] })).toBe(true);
    expect(speaksFor({ ...base, source: undefined, ledger: [] })).toBe(true);
  });
});
