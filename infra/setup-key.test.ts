import { cpSync, mkdtempSync, appendFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readMigrations } from '../core/migrations/files.ts';
import { MIGRATIONS_DIR } from '../core/paths.ts';
import { roleDefinitionSql, setupKey } from './setup-key.ts';

const pool = { max: 10, min: 2, instances: 1 };
const tmp = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-setup-key-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function copyMigrations(name: string): string {
  const dir = path.join(tmp, name);
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

const keyOf = (dir: string, database = 'app', p = pool) => setupKey({ database, pool: p, migrations: readMigrations(dir) });

describe('setup key', () => {
  const base = keyOf(MIGRATIONS_DIR);

  it('is a stable SHA-256 of the same migrations and roles', () => {
    expect(base).toMatch(/^[a-f0-9]{64}$/);
    expect(keyOf(copyMigrations('same'))).toBe(base);
  });

  it('changes when any byte of a migration file changes', () => {
    const dir = copyMigrations('edited');
    appendFileSync(path.join(dir, '0004_phrases_search.sql'), '\n-- one more line\n');
    expect(keyOf(dir)).not.toBe(base);
  });

  it('changes when a migration is added', () => {
    const dir = copyMigrations('added');
    writeFileSync(path.join(dir, '9999_add_sessions.sql'), 'CREATE TABLE sessions (id uuid PRIMARY KEY);\n');
    expect(keyOf(dir)).not.toBe(base);
  });

  it('changes with the role definitions: the database they belong to and the app connection limit', () => {
    expect(keyOf(MIGRATIONS_DIR, 'shop')).not.toBe(base);
    expect(keyOf(MIGRATIONS_DIR, 'app', { ...pool, instances: 2 })).not.toBe(base);
    // pool.min shapes the app's pool, not the role model: it must not re-run setup.
    expect(keyOf(MIGRATIONS_DIR, 'app', { ...pool, min: 5 })).toBe(base);
  });

  it('hashes role SQL without any password or verifier', () => {
    const sql = roleDefinitionSql('app', pool).join('\n');
    expect(sql).toContain('CREATE ROLE "app_migrator" LOGIN');
    expect(sql).toContain('CONNECTION LIMIT 10');
    expect(sql).not.toMatch(/PASSWORD|SCRAM-SHA-256/);
  });
});
