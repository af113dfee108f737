import { describe, expect, it } from 'vitest';
import { resolveTarget, appConnectionLimit, parsePoolBudget, decideDatabase } from './target-settings.ts';
import { roleNames, validateDatabaseName, validateName } from './role-names.ts';

const root = '/repo';

describe('target resolution', () => {
  it('defaults to the local target, database app, state in .pgsteward', () => {
    const t = resolveTarget({}, {}, root);
    expect(t.kind).toBe('local');
    expect(t.database).toBe('app');
    expect(t.stateDir).toBe('/repo/.pgsteward');
    expect(t.local.port).toBe(54317);
    expect(t.pool).toEqual({ max: 10, min: 2, instances: 1 });
    expect(t.admin).toBeUndefined();
  });

  it('takes DB_TARGET, DB_NAME and role passwords from the environment', () => {
    const t = resolveTarget({}, { DB_TARGET: 'dev', DB_NAME: 'shop', DEV_DB_PORT: '6543', DB_APP_PASSWORD: 'pw-app-1-long-enough' }, root);
    expect(t.kind).toBe('dev');
    expect(t.database).toBe('shop');
    expect(t.admin).toMatchObject({ host: '127.0.0.1', port: 6543, ssl: 'disable' });
    expect(t.rolePasswords).toEqual({ app: 'pw-app-1-long-enough' });
  });

  it('treats --url without --target as dev on loopback and prod elsewhere', () => {
    expect(resolveTarget({ url: 'postgres://u:p@127.0.0.1:5432/postgres' }, {}, root).kind).toBe('dev');
    expect(resolveTarget({ url: 'postgres://u:p@db.internal:5432/postgres' }, {}, root).kind).toBe('prod');
  });

  it('requires DATABASE_URL for prod and refuses sslmode=disable there', () => {
    expect(() => resolveTarget({ target: 'prod' }, {}, root)).toThrow(/prod target needs DATABASE_URL/);
    expect(() => resolveTarget({ target: 'prod' }, { DATABASE_URL: 'postgres://u:p@rds.internal/postgres?sslmode=disable' }, root)).toThrow(/refuses sslmode=disable/);
    expect(resolveTarget({ target: 'prod' }, { DATABASE_URL: 'postgres://u:p@rds.internal/postgres' }, root).admin?.ssl).toBe('require');
  });

  it('rejects unknown targets, bad names and bad numbers with the fix in the message', () => {
    expect(() => resolveTarget({ target: 'staging' }, {}, root)).toThrow(/unknown target "staging"/);
    expect(() => resolveTarget({ database: 'postgres' }, {}, root)).toThrow(/database name "postgres" is a system database/);
    expect(() => resolveTarget({ database: 'App-DB' }, {}, root)).toThrow(/invalid database name "App-DB"/);
    expect(() => resolveTarget({}, { DB_POOL_MAX: 'ten' }, root)).toThrow(/DB_POOL_MAX must be a whole number/);
    expect(() => resolveTarget({}, { DB_POOL_MIN: '20' }, root)).toThrow(/DB_POOL_MIN \(20\) is larger than DB_POOL_MAX \(10\)/);
    expect(() => resolveTarget({}, { LOCAL_PG_PORT: '80' }, root)).toThrow(/LOCAL_PG_PORT/);
  });

  it('never echoes a password from a malformed URL', () => {
    try {
      resolveTarget({ url: 'postgres://u:s3cretpass@host:notaport/db' }, {}, root);
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).not.toContain('s3cretpass');
      expect((e as Error).message).toMatch(/--url is not a valid URL/);
    }
  });

  it('refuses weak role passwords given by hand, naming the variable but never the value', () => {
    for (const weak of ['short', 'aaaaaaaaaaaaaaaaaaaa', 'abcabcabcabcabcabc']) {
      expect(() => resolveTarget({}, { DB_APP_PASSWORD: weak }, root)).toThrow(/^DB_APP_PASSWORD is too weak \(\d+ characters, \d+ different\); nothing was changed$/);
    }
    try {
      resolveTarget({}, { DB_MIGRATOR_PASSWORD: 'hunter2' }, root);
    } catch (e) {
      expect((e as Error).message + (e as { fix: string }).fix).not.toContain('hunter2');
    }
    expect(resolveTarget({}, { DB_APP_PASSWORD: 'Correct-Horse-Battery-1' }, root).rolePasswords.app).toBe('Correct-Horse-Battery-1');
  });

  it('warns when --url carries a password, and takes PGPASSWORD for a URL without one', () => {
    expect(resolveTarget({ url: 'postgres://u:p@127.0.0.1/app' }, {}, root).warnings).toEqual([expect.stringMatching(/^--url carries a password, .*DATABASE_URL, or its password in PGPASSWORD$/)]);
    expect(resolveTarget({ url: 'postgres://u@127.0.0.1/app' }, {}, root).warnings).toEqual([]);
    expect(resolveTarget({ target: 'dev' }, { DATABASE_URL: 'postgres://u:p@127.0.0.1/app' }, root).warnings).toEqual([]);
    expect(resolveTarget({ url: 'postgres://u@127.0.0.1/app' }, { PGPASSWORD: 'from-env-123' }, root).admin?.password).toBe('from-env-123');
    expect(resolveTarget({ url: 'postgres://u:in-url@127.0.0.1/app' }, { PGPASSWORD: 'from-env-123' }, root).admin?.password).toBe('in-url');
  });

  it('sizes the app connection limit from the pool budget', () => {
    expect(appConnectionLimit(parsePoolBudget({}))).toBe(10);
    expect(appConnectionLimit(parsePoolBudget({ DB_POOL_MAX: '8', DB_APP_INSTANCES: '3' }))).toBe(24);
  });
});

describe('the URL rule: the URL path names the application database, as sqlx reads it', () => {
  const db = (flags: Parameters<typeof resolveTarget>[0], env: NodeJS.ProcessEnv = {}) => resolveTarget(flags, env, root);

  it('acts on the database the URL names, and reaches the server through its maintenance database', () => {
    const t = db({ url: 'postgres://u:p@127.0.0.1:5432/rt3' });
    expect(t.database).toBe('rt3');
    expect(t.admin?.database).toBe('postgres');
    expect(db({ target: 'prod' }, { DATABASE_URL: 'postgres://m:p@rds.internal/shop' }).database).toBe('shop');
  });

  it('reads a URL without a path, or with the maintenance database, as naming only the server', () => {
    expect(db({ url: 'postgres://u@127.0.0.1:5432' }).database).toBe('app');
    expect(db({ url: 'postgres://u@127.0.0.1:5432/postgres' }, { DB_NAME: 'shop' }).database).toBe('shop');
    expect(db({ target: 'prod' }, { DATABASE_URL: 'postgres://m:p@rds.internal/postgres', DB_NAME: 'shop' }).database).toBe('shop');
  });

  it('lets flags beat the environment, and refuses two different names at the same level', () => {
    expect(db({ url: 'postgres://u@127.0.0.1/rt3' }, { DB_NAME: 'other' }).database).toBe('rt3');
    expect(db({ database: 'rt3', target: 'dev' }, { DATABASE_URL: 'postgres://u@127.0.0.1/other' }).database).toBe('rt3');
    expect(db({ database: 'rt3', url: 'postgres://u@127.0.0.1/rt3' }).database).toBe('rt3');
    expect(() => db({ database: 'one', url: 'postgres://u@127.0.0.1/two' })).toThrow(/^--database names database "one" but the --url path names "two"$/);
    expect(() => db({ target: 'dev' }, { DB_NAME: 'one', DATABASE_URL: 'postgres://u@127.0.0.1/two' })).toThrow(/^DB_NAME names database "one" but the DATABASE_URL path names "two"$/);
  });

  it('ignores the path of a DATABASE_URL the local target does not read', () => {
    expect(db({}, { DATABASE_URL: 'postgres://app_app:pw@127.0.0.1:54317/shop' }).database).toBe('app');
  });

  it('refuses system databases and reserved names wherever they come from', () => {
    expect(() => db({ url: 'postgres://u@127.0.0.1/template1' })).toThrow(/database name "template1" is a system database/);
    expect(() => db({}, { DB_NAME: 'template0' })).toThrow(/"template0" is a system database/);
    expect(() => db({ database: 'pg_stuff' })).toThrow(/"pg_stuff" starts with pg_, which PostgreSQL reserves/);
    expect(() => decideDatabase({ flagDatabase: 'rdsadmin' })).toThrow(/system database/);
  });

  it('the config file’s database and pool sit below every flag and variable', () => {
    expect(decideDatabase({ configDatabase: 'accounts' })).toEqual({ database: 'accounts', from: 'the config file' });
    expect(decideDatabase({ configDatabase: 'accounts', envDatabase: 'shop' }).database).toBe('shop');
    expect(decideDatabase({ configDatabase: 'accounts', flagDatabase: 'billing' }).database).toBe('billing');
    const t = resolveTarget({}, { DB_APP_INSTANCES: '4' }, '/repo', { database: 'accounts', pool: { max: 6 } });
    expect(t.database).toBe('accounts');
    expect(t.pool).toEqual({ max: 6, min: 2, instances: 4 });
    expect(parsePoolBudget({ DB_POOL_MAX: '30' }, { max: 6, min: 1 })).toEqual({ max: 30, min: 1, instances: 1 });
  });
});

describe('URLs people get wrong', () => {
  it('gives a malformed percent-escape one line with its fix, never the password', () => {
    try {
      resolveTarget({ url: 'postgres://admin:abc%zzdef@127.0.0.1/app' }, {}, root);
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toBe('--url has a malformed percent-escape in its password');
      expect((e as { fix: string }).fix).toMatch(/% as %25/);
      expect((e as Error).message + (e as { fix: string }).fix).not.toContain('abc');
    }
  });
});

describe('names', () => {
  it.each(['postgres', 'template0', 'template1', 'rdsadmin'])('refuses the system database %s', (n) => {
    expect(() => validateDatabaseName(n)).toThrow(/is a system database; pgsteward manages application databases only/);
  });
  it('refuses names whose roles PostgreSQL reserves', () => {
    expect(() => roleNames('pg_app')).toThrow(/starts with pg_, which PostgreSQL reserves \(its roles would be pg_app_owner/);
  });
  it('accepts identifiers up to 48 characters and derives the five roles', () => {
    expect(validateName('a'.repeat(48))).toHaveLength(48);
    expect(roleNames('shop')).toEqual({ owner: 'shop_owner', migrator: 'shop_migrator', app: 'shop_app', readonly: 'shop_readonly', backup: 'shop_backup' });
    // every derived name fits PostgreSQL's 63-byte identifier limit
    for (const r of Object.values(roleNames('a'.repeat(48)))) expect(r.length).toBeLessThanOrEqual(63);
  });
  it.each(['', '1db', 'a'.repeat(49), 'Shop', 'shop-db', 'shop;drop', 'sh op', 'é'])('rejects %j', (n) => {
    expect(() => validateName(n)).toThrow(/invalid database name/);
  });
});
