import { describe, expect, it } from 'vitest';
import { isUserError } from '../errors.ts';
import { parseMigrations } from '../migrations/files.ts';
import type { AppliedRow } from '../migrations/plan.ts';
import { createDatabase, pgAdmin } from '../../test/db.ts';
import { detectDrift, migrationsForReference } from './detect.ts';

const files = parseMigrations([
  { name: '0001_a.sql', bytes: Buffer.from('select 1') },
  { name: '0002_b.sql', bytes: Buffer.from('select 2') },
  { name: '0003_c.sql', bytes: Buffer.from('select 3') },
]);
const row = (i: number, over: Partial<AppliedRow> = {}): AppliedRow => ({ version: files[i]!.version, checksum: files[i]!.checksum, success: true, ...over });

describe('migrationsForReference', () => {
  it('builds the reference from what the live ledger applied, and says which files wait', () => {
    const r = migrationsForReference(files, [row(0), row(1)]);
    expect(r.migrations.map((m) => m.file)).toEqual(['0001_a.sql', '0002_b.sql']);
    expect(r.notes).toEqual(['1 migration(s) not applied yet (0003_c.sql) are not part of the comparison; setup-db applies them']);
  });

  it('notes a file changed after it was applied, and a failed row, and leaves the failed one out', () => {
    const r = migrationsForReference(files, [row(0, { checksum: Buffer.from('other') }), row(1, { success: false })]);
    expect(r.migrations.map((m) => m.file)).toEqual(['0001_a.sql']);
    expect(r.notes).toEqual([
      'migration 2 is marked failed in _sqlx_migrations and was left out of the reference',
      'migration 0001_a.sql changed after it was applied; the reference uses the file as it is now',
      '1 migration(s) not applied yet (0003_c.sql) are not part of the comparison; setup-db applies them',
    ]);
  });

  it('refuses when the ledger names a migration the folder lacks', () => {
    expect(() => migrationsForReference(files, [row(0), { version: 9n, checksum: Buffer.from(''), success: true }])).toThrow(/migration 9 applied to the database but not in the migrations folder/);
  });
});

describe('detectDrift', () => {
  it('refuses a database no migration ever ran on, with a one-line fix, before building anything', async () => {
    const database = await createDatabase('drnone');
    const e = await detectDrift({ kind: 'local', admin: pgAdmin(), database, migrations: files }).catch((x: unknown) => x);
    expect(isUserError(e)).toBe(true);
    expect((e as Error).message).toBe(`database ${database} has no migration ledger (_sqlx_migrations)`);
  });

  it('names the server, not the password, when it cannot connect', async () => {
    const e = await detectDrift({ kind: 'prod', admin: { ...pgAdmin(), password: 'wrong-secret' }, database: 'postgres', migrations: files }).catch((x: unknown) => x);
    expect(isUserError(e)).toBe(true);
    expect((e as Error).message).toMatch(/authentication failed/);
    expect((e as Error).message).not.toContain('wrong-secret');
  });
});
