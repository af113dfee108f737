import { describe, expect, it } from 'vitest';
import { resolveTarget, appConnectionLimit, parsePoolBudget } from './target-settings.ts';
import { roleNames, validateName } from './role-names.ts';

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
    const t = resolveTarget({}, { DB_TARGET: 'dev', DB_NAME: 'shop', DEV_DB_PORT: '6543', DB_APP_PASSWORD: 'pw-app-1' }, root);
    expect(t.kind).toBe('dev');
    expect(t.database).toBe('shop');
    expect(t.admin).toMatchObject({ host: '127.0.0.1', port: 6543, ssl: 'disable' });
    expect(t.rolePasswords).toEqual({ app: 'pw-app-1' });
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

  it('sizes the app connection limit from the pool budget', () => {
    expect(appConnectionLimit(parsePoolBudget({}))).toBe(10);
    expect(appConnectionLimit(parsePoolBudget({ DB_POOL_MAX: '8', DB_APP_INSTANCES: '3' }))).toBe(24);
  });
});

describe('names', () => {
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
