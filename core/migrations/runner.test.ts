import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { connect } from '../db/connect.ts';
import { parseMigrations, readMigrations } from './files.ts';
import { migrate } from './runner.ts';
import { readLedger } from './ledger.ts';
import { MIGRATIONS_DIR } from '../paths.ts';
import { createDatabase, pgAdmin, withSql } from '../../test/db.ts';

const m = (name: string, sql: string) => ({ name, bytes: Buffer.from(sql) });

async function tables(sql: ReturnType<typeof connect>): Promise<string[]> {
  const rows = await sql<{ t: string }[]>`select tablename as t from pg_tables where schemaname = 'public' order by 1`;
  return rows.map((r) => r.t);
}

describe('migration runner (sqlx-compatible)', () => {
  it('migrates a fresh database, then a second run is a no-op', async () => {
    const db = await createDatabase('mig');
    const migrations = readMigrations(MIGRATIONS_DIR);
    await withSql(pgAdmin(db), async (sql) => {
      const first = await migrate(sql, db, migrations);
      expect(first.applied.map((a) => a.version)).toEqual(migrations.map((x) => x.version));
      expect(first.alreadyApplied).toBe(0);
      const second = await migrate(sql, db, migrations);
      expect(second.applied).toEqual([]);
      expect(second.alreadyApplied).toBe(migrations.length);
    });
  });

  it('writes ledger rows in sqlx format: SHA-384 of the exact bytes, description, nanoseconds', async () => {
    const db = await createDatabase('mig');
    const migrations = readMigrations(MIGRATIONS_DIR);
    await withSql(pgAdmin(db), async (sql) => {
      await migrate(sql, db, migrations);
      const rows = await sql<{ version: bigint; description: string; checksum: Buffer; success: boolean; execution_time: bigint }[]>`
        select version, description, checksum, success, execution_time from _sqlx_migrations order by version`;
      expect(rows).toHaveLength(migrations.length);
      for (const row of rows) {
        const file = migrations.find((x) => x.version === row.version)!.file;
        const bytes = readFileSync(path.join(MIGRATIONS_DIR, file));
        expect(Buffer.from(row.checksum).equals(createHash('sha384').update(bytes).digest())).toBe(true);
        expect(row.description).toBe(file.replace(/^\d+_/, '').replace(/\.sql$/, '').replace(/_/g, ' '));
        expect(row.success).toBe(true);
        expect(row.execution_time > 0n).toBe(true);
      }
      const cols = await sql`select column_name, data_type, is_nullable from information_schema.columns where table_name = '_sqlx_migrations' order by ordinal_position`;
      expect(cols.map((c) => `${c.column_name}:${c.data_type}:${c.is_nullable}`)).toEqual([
        'version:bigint:NO',
        'description:text:NO',
        'installed_on:timestamp with time zone:NO',
        'success:boolean:NO',
        'checksum:bytea:NO',
        'execution_time:bigint:NO',
      ]);
    });
  });

  it('refuses checksum drift, naming the version and file, with nothing applied', async () => {
    const db = await createDatabase('mig');
    await withSql(pgAdmin(db), async (sql) => {
      await migrate(sql, db, parseMigrations([m('1_a.sql', 'create table a (id int primary key);')]));
      const changed = parseMigrations([m('1_a.sql', 'create table a (id bigint primary key);'), m('2_b.sql', 'create table b (id int primary key);')]);
      await expect(migrate(sql, db, changed)).rejects.toThrow(/migration 1 \(1_a\.sql\) was changed after it was applied/);
      expect(await tables(sql)).toEqual(['_sqlx_migrations', 'a']);
    });
  });

  it('refuses an applied version that is missing locally, with nothing applied', async () => {
    const db = await createDatabase('mig');
    await withSql(pgAdmin(db), async (sql) => {
      await migrate(sql, db, parseMigrations([m('1_a.sql', 'create table a (id int);'), m('2_b.sql', 'create table b (id int);')]));
      const missing = parseMigrations([m('1_a.sql', 'create table a (id int);'), m('3_c.sql', 'create table c (id int);')]);
      await expect(migrate(sql, db, missing)).rejects.toThrow(/migration 2 \(b\) is applied but has no file/);
      expect(await tables(sql)).not.toContain('c');
    });
  });

  it('refuses a dirty ledger row (success = false), with nothing applied', async () => {
    const db = await createDatabase('mig');
    await withSql(pgAdmin(db), async (sql) => {
      const files = [m('1_a.sql', 'create table a (id int);')];
      await migrate(sql, db, parseMigrations(files));
      await sql`update _sqlx_migrations set success = false where version = 1`;
      await expect(migrate(sql, db, parseMigrations([...files, m('2_b.sql', 'create table b (id int);')]))).rejects.toThrow(/migration 1 \(1_a\.sql\) is marked failed/);
      expect(await tables(sql)).not.toContain('b');
    });
  });

  it('refuses malformed names and duplicate versions before touching the database', () => {
    expect(() => parseMigrations([m('create_users.sql', '')])).toThrow(/file name "create_users.sql" is malformed/);
    expect(() => parseMigrations([m('1-users.sql', '')])).toThrow(/malformed/);
    expect(() => parseMigrations([m('0002_a.sql', ''), m('2_b.sql', '')])).toThrow(/version 2 is used twice: 0002_a\.sql and 2_b\.sql/);
    expect(() => parseMigrations([m('3_x.down.sql', '')])).toThrow(/reversible/);
  });

  it('a failing migration leaves no partial schema and no ledger row', async () => {
    const db = await createDatabase('mig');
    await withSql(pgAdmin(db), async (sql) => {
      const files = parseMigrations([
        m('1_ok.sql', 'create table ok (id int);'),
        m('2_bad.sql', 'create table half (id int);\ninsert into nowhere values (1);'),
      ]);
      await expect(migrate(sql, db, files)).rejects.toThrow(/migration 2 \(2_bad\.sql\) failed: relation "nowhere" does not exist/);
      expect(await tables(sql)).toEqual(['_sqlx_migrations', 'ok']);
      expect((await readLedger(sql)).map((r) => r.version)).toEqual([1n]);
    });
  });

  it('runs a -- no-transaction file outside a transaction, as sqlx does', async () => {
    const db = await createDatabase('mig');
    await withSql(pgAdmin(db), async (sql) => {
      const files = parseMigrations([
        m('1_t.sql', 'create table t (id int);'),
        m('2_idx.sql', '-- no-transaction\ncreate index concurrently t_id_idx on t (id);'),
      ]);
      const r = await migrate(sql, db, files);
      expect(r.applied).toHaveLength(2);
      const idx = await sql`select 1 from pg_indexes where indexname = 't_id_idx'`;
      expect(idx).toHaveLength(1);
    });
  });

  it('two runners started at once apply each migration exactly once', async () => {
    const db = await createDatabase('mig');
    // The sleep keeps the first runner inside its lock long enough for the second to queue.
    const files = parseMigrations([
      m('1_slow.sql', 'select pg_sleep(0.5); create table counter (n int); insert into counter values (1);'),
      m('2_more.sql', 'insert into counter values (2);'),
    ]);
    const a = connect(pgAdmin(db), { max: 1 });
    const b = connect(pgAdmin(db), { max: 1 });
    try {
      const [ra, rb] = await Promise.all([migrate(a, db, files), migrate(b, db, files)]);
      expect(ra.applied.length + rb.applied.length).toBe(2);
      expect([ra.applied.length, rb.applied.length].sort()).toEqual([0, 2]);
      const rows = await a`select n from counter order by n`;
      expect(rows.map((r) => r.n)).toEqual([1, 2]);
    } finally {
      await a.end();
      await b.end();
    }
  });
});
