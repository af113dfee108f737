import { beforeAll, describe, expect, it } from 'vitest';
import { provisionDatabase, withSql, type ProvisionedDatabase, sqlstateOf } from '../../test/db.ts';

let db: ProvisionedDatabase;
beforeAll(async () => {
  db = await provisionDatabase('priv');
});

/** The SQLSTATE a statement fails with as `role`, or 'ok'. Each runs in its own rolled-back transaction. */
async function attempt(role: 'app' | 'readonly' | 'backup' | 'migrator', statement: string): Promise<string> {
  return sqlstateOf(db.as(role), statement);
}

describe('least-privilege roles', () => {
  it('lets the app role do DML', async () => {
    expect(await attempt('app', `insert into users (email, slug) values ('dml@example.test', 'dml')`)).toBe('ok');
    expect(await attempt('app', `update roles set description = 'x' where name = 'admin'`)).toBe('ok');
    expect(await attempt('app', `delete from phrases`)).toBe('ok');
    expect(await attempt('app', `select * from users`)).toBe('ok');
  });

  it.each([
    ['DROP', 'drop table phrases'],
    ['ALTER', 'alter table users add column pwned int'],
    ['TRUNCATE', 'truncate user_roles'],
    ['CREATE', 'create table evil (id int)'],
    ['CREATE FUNCTION', 'create function evil() returns int language sql as $$select 1$$'],
    ['TEMP table', 'create temp table scratch (id int)'],
    ['touch the migration ledger', 'delete from _sqlx_migrations'],
  ])('denies the app role %s', async (_what, statement) => {
    expect(await attempt('app', statement)).toBe('42501');
  });

  it('has a connection limit from the pool budget and no special powers', async () => {
    await withSql(db.as(), async (sql) => {
      const [r] = await sql`select rolconnlimit, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, rolreplication from pg_roles where rolname = ${db.report.roles.app}`;
      expect(r).toEqual({ rolconnlimit: 10, rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolbypassrls: false, rolreplication: false });
    });
  });

  it('keeps the read-only role read-only', async () => {
    expect(await attempt('readonly', 'select count(*) from users')).toBe('ok');
    expect(await attempt('readonly', `insert into users (email, slug) values ('ro@example.test', 'ro')`)).toBe('42501');
    expect(await attempt('readonly', `update roles set description = ''`)).toBe('42501');
    expect(await attempt('readonly', 'delete from phrases')).toBe('42501');
  });

  it('lets the backup role read every table, including the ledger, and write none', async () => {
    expect(await attempt('backup', 'select * from _sqlx_migrations')).toBe('ok');
    expect(await attempt('backup', 'select * from user_credentials')).toBe('ok');
    expect(await attempt('backup', `insert into roles (name) values ('x')`)).toBe('42501');
  });

  it('makes the owner role own every object, so migrations never leave objects owned by a login role', async () => {
    await withSql(db.as(), async (sql) => {
      const owners = await sql<{ owner: string }[]>`
        select distinct pg_get_userbyid(c.relowner) as owner from pg_class c
        join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public'`;
      expect(owners.map((o) => o.owner)).toEqual([db.report.roles.owner]);
    });
  });

  it('gives tables created by later migrations the same grants with no extra step (default privileges)', async () => {
    await withSql(db.as('migrator'), async (sql) => {
      await sql.unsafe('create table later_table (id uuid primary key default uuid_generate_v7())');
    });
    expect(await attempt('app', 'insert into later_table default values')).toBe('ok');
    expect(await attempt('readonly', 'select * from later_table')).toBe('ok');
    expect(await attempt('readonly', 'insert into later_table default values')).toBe('42501');
  });

  it('gives PUBLIC no CREATE on the schema and no CONNECT to the database', async () => {
    await withSql(db.as(), async (sql) => {
      const [r] = await sql`select has_schema_privilege('public', 'public', 'CREATE') as create_schema,
        has_database_privilege('public', ${db.database}, 'CONNECT') as connect,
        has_database_privilege('public', ${db.database}, 'TEMP') as temp`;
      expect(r).toEqual({ create_schema: false, connect: false, temp: false });
    });
  });

  it('is idempotent: a second setup changes nothing and reports nothing applied', async () => {
    const { readMigrations } = await import('../migrations/files.ts');
    const { MIGRATIONS_DIR } = await import('../paths.ts');
    const again = await provisionDatabaseAgain();
    expect(again).toBe(`applied 0, ${readMigrations(MIGRATIONS_DIR).length} already applied`);
  });
});

async function provisionDatabaseAgain(): Promise<string> {
  const { setupDatabase, describeSetup } = await import('../setup.ts');
  const { readMigrations } = await import('../migrations/files.ts');
  const { MIGRATIONS_DIR } = await import('../paths.ts');
  const { pgAdmin } = await import('../../test/db.ts');
  const r = await setupDatabase({ admin: pgAdmin(), database: db.database, pool: { max: 10, min: 2, instances: 1 }, passwords: db.passwords, migrations: readMigrations(MIGRATIONS_DIR) });
  return describeSetup(r);
}
