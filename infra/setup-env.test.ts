import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { resolveTarget } from '../core/config/target-settings.ts';
import { envFile, rolePasswordVar, setupDbEnv, setupSettingsEnv } from './setup-env.ts';

const passwords = { migrator: 'Mig4Xk2-Tq8Rv3-Yn6Wp', app: 'App9Qw1-Zx3Cv5-Bn7Mk', readonly: 'Ro7Zp3-Hj2Kl4-Gf6Ds', backup: 'Bk5Lm8-Qa1Ws2-Ed3Rf' };

describe('setup-db environment', () => {
  it('is exactly what core/config/target-settings.ts resolves for the dev target', () => {
    const env = setupDbEnv({
      target: 'dev',
      database: 'shop',
      pool: { max: 12, min: 3, instances: 2 },
      admin: { host: 'pgsteward-dev-postgres', port: 5432, database: 'postgres', user: 'postgres', password: 'Sup3r', ssl: 'disable' },
      passwords,
    });
    // Through the same parser `node --env-file` uses, then through core.
    const parsed = parseEnv(envFile(env));
    const t = resolveTarget({}, parsed as NodeJS.ProcessEnv, '/repo');
    expect(t.kind).toBe('dev');
    expect(t.database).toBe('shop');
    expect(t.pool).toEqual({ max: 12, min: 3, instances: 2 });
    expect(t.admin).toEqual({ host: 'pgsteward-dev-postgres', port: 5432, database: 'postgres', user: 'postgres', password: 'Sup3r', ssl: 'disable' });
    expect(t.rolePasswords).toEqual(passwords);
  });

  it('names every variable the way the ops commands do', () => {
    expect(Object.keys(setupSettingsEnv({ target: 'prod', database: 'app', pool: { max: 10, min: 2, instances: 1 } })).sort()).toEqual(
      ['DB_APP_INSTANCES', 'DB_NAME', 'DB_POOL_MAX', 'DB_POOL_MIN', 'DB_TARGET'],
    );
    expect(rolePasswordVar('readonly')).toBe('DB_READONLY_PASSWORD');
  });

  it('refuses a value an env file cannot hold, naming the variable but not the value', () => {
    let message = '';
    try {
      envFile({ DB_APP_PASSWORD: 'has space#secret' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/DB_APP_PASSWORD contains a character/);
    expect(message).not.toContain('secret');
    expect(() => envFile({ 'bad-name': 'x' })).toThrow(/not valid/);
  });
});
