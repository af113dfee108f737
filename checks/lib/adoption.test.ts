import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, REPO_ROOT } from '../../core/paths.ts';
import { setupAdvice } from './adoption.ts';

describe('setupAdvice', () => {
  it('proposes setup-db only where pgsteward set the database up: its ledger and its roles', () => {
    expect(setupAdvice({ ledger: true, roles: true }, 'shop', MIGRATIONS_DIR, 'why')).toBe('npm run setup-db -- --database shop');
    for (const o of [{ ledger: false, roles: false }, { ledger: true, roles: false }, { ledger: false, roles: true }]) {
      const advice = setupAdvice(o, 'shop', MIGRATIONS_DIR, 'its roles are made by setup-db');
      expect(advice).not.toContain('npm run setup-db');
      expect(advice).toContain('docs/adopting-sqlx.md');
    }
    expect(setupAdvice({ ledger: true, roles: false }, 'shop', MIGRATIONS_DIR, 'w')).toMatch(/^this database has none of the shop_\* roles, so pgsteward has not set it up: w; read/);
  });

  it('names the folder the checks compared with when it is not the project default', () => {
    expect(setupAdvice({ ledger: true, roles: true }, 'shop', path.join(REPO_ROOT, 'test/fixtures/app/migrations'), 'w')).toBe('npm run setup-db -- --database shop --migrations test/fixtures/app/migrations');
    expect(setupAdvice({ ledger: true, roles: true }, 'shop', '/srv/app/migrations', 'w')).toBe('npm run setup-db -- --database shop --migrations /srv/app/migrations');
  });
});
