import { describe, expect, it } from 'vitest';
import { pgAdmin, uniqueName, withSql } from '../../test/db.ts';
import { withConnection } from './connect.ts';
import { copyDatabase, createDatabase, databaseComment, databaseExists, dropDatabase, dropSchema, swapDatabases, validateDatabaseIdentifier } from './databases.ts';

const admin = () => pgAdmin();

describe('database primitives (PostgreSQL 17)', () => {
  it('create (with a comment), exists, copy, drop', async () => {
    const a = uniqueName('dbp');
    await withConnection(admin(), {}, async (sql) => {
      await createDatabase(sql, a, { owner: 'postgres', comment: 'made by a test' });
      expect(await databaseExists(sql, a)).toBe(true);
      expect(await databaseComment(sql, a)).toBe('made by a test');
      await expect(createDatabase(sql, a, { owner: 'postgres' })).rejects.toThrow(`database ${a} already exists`);
      await withSql(pgAdmin(a), (db) => db.unsafe('create table t (id int); insert into t values (7)'));
      await copyDatabase(sql, a, `${a}_copy`, 'postgres');
      expect((await withSql(pgAdmin(`${a}_copy`), (db) => db`select id from t`)).map((r) => r.id)).toEqual([7]);
      await dropDatabase(sql, a);
      await dropDatabase(sql, `${a}_copy`);
      await dropDatabase(sql, `${a}_copy`); // nothing happens the second time
      expect(await databaseExists(sql, a)).toBe(false);
    });
    expect(() => validateDatabaseIdentifier('Bad-Name')).toThrow(/invalid database name "Bad-Name"/);
  });

  it('swap: both renames or neither; a connected session refuses it, naming the session, with nothing changed', async () => {
    const live = uniqueName('swl');
    const next = uniqueName('swn');
    await withConnection(admin(), {}, async (sql) => {
      await createDatabase(sql, live, { owner: 'postgres', comment: 'the live one' });
      await createDatabase(sql, next, { owner: 'postgres', comment: 'scratch marker' });
      await withConnection(pgAdmin(live), { applicationName: 'busy-app' }, async () => {
        const err = (await swapDatabases(sql, { live, replacement: next, keepAs: `${live}_before` }, 300).catch((e: Error) => e)) as Error;
        expect(err.message).toMatch(new RegExp(`^database ${live} has 1 other open connection\\(s\\), so it cannot be replaced: pid \\d+ \\(busy-app, user postgres\\)$`));
      });
      expect([await databaseExists(sql, live), await databaseExists(sql, next), await databaseExists(sql, `${live}_before`)]).toEqual([true, true, false]);
      await swapDatabases(sql, { live, replacement: next, keepAs: `${live}_before` });
      expect([await databaseExists(sql, live), await databaseExists(sql, next), await databaseExists(sql, `${live}_before`)]).toEqual([true, false, true]);
      // the comment stays with the name: the marker of the replacement is gone
      expect(await databaseComment(sql, live)).toBe('the live one');
      await dropDatabase(sql, live);
      await dropDatabase(sql, `${live}_before`);
    });
  });

  it('dropSchema rebuilds the schema empty, owned as asked, and refuses while others are connected', async () => {
    const d = uniqueName('dsc');
    await withConnection(admin(), {}, (sql) => createDatabase(sql, d, { owner: 'postgres' }));
    await withSql(pgAdmin(d), (db) => db.unsafe('create table t (id int)'));
    await withConnection(pgAdmin(d), { applicationName: 'other' }, async () => {
      await expect(dropSchema(admin(), d, { owner: 'postgres' })).rejects.toThrow(/has 1 other open connection\(s\), so it cannot be reset/);
    });
    await dropSchema(admin(), d, { owner: 'pg_database_owner' });
    const [r] = await withSql(pgAdmin(d), (db) => db`select count(*)::int as n, (select pg_get_userbyid(nspowner) from pg_namespace where nspname = 'public') as owner from pg_class where relnamespace = 'public'::regnamespace`);
    expect(r).toEqual({ n: 0, owner: 'pg_database_owner' });
    await withConnection(admin(), {}, (sql) => dropDatabase(sql, d));
  });
});
