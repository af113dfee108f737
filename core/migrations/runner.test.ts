import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { connect } from '../db/connect.ts';
import { parseMigrationFolder, parseMigrations, readMigrations } from './files.ts';
import { DEFAULT_LOCK_WAIT_TIMEOUT_MS, sqlxLockKey } from './lock.ts';
import { migrate, migrationStatus } from './runner.ts';
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
    expect(() => parseMigrations([m('create_users.sql', '')])).toThrow(/file name "create_users.sql" has no integer version/);
    expect(() => parseMigrations([m('0002_a.sql', ''), m('2_b.sql', '')])).toThrow(/version 2 is used twice: 0002_a\.sql and 2_b\.sql/);
    // sqlx skips a name without "_" (1-users.sql) and runs no down file: neither is a migration
    expect(parseMigrations([m('1-users.sql', ''), m('3_x.down.sql', '')])).toEqual([]);
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

describe('migration runner: what sqlx accepts', () => {
  const entry = (name: string, sql: string) => ({ name, isFile: true, read: () => Buffer.from(sql) });

  it('applies the .up.sql files of a reversible folder with sqlx\'s ReversibleUp ledger rows, and never runs a .down.sql', async () => {
    const db = await createDatabase('mig');
    const up1 = 'CREATE TABLE accounts (id bigint PRIMARY KEY);\n';
    const folder = parseMigrationFolder([
      entry('20240101000000_create_accounts.up.sql', up1),
      entry('20240101000000_create_accounts.down.sql', 'CREATE TABLE down_ran (id int); DROP TABLE accounts;'),
      entry('20240102000000_add_notes.up.sql', 'CREATE TABLE notes (id bigint PRIMARY KEY, account_id bigint REFERENCES accounts);'),
      entry('20240102000000_add_notes.down.sql', 'CREATE TABLE down_ran (id int); DROP TABLE notes;'),
    ]);
    await withSql(pgAdmin(db), async (sql) => {
      const r = await migrate(sql, db, folder);
      expect(r.applied.map((a) => a.file)).toEqual(['20240101000000_create_accounts.up.sql', '20240102000000_add_notes.up.sql']);
      expect(await tables(sql)).toEqual(['_sqlx_migrations', 'accounts', 'notes']);
      const rows = await sql<{ version: bigint; description: string; checksum: Buffer }[]>`select version, description, checksum from _sqlx_migrations order by version`;
      expect(rows.map((x) => [x.version, x.description])).toEqual([[20240101000000n, 'create accounts'], [20240102000000n, 'add notes']]);
      expect(Buffer.from(rows[0]!.checksum).equals(createHash('sha384').update(up1).digest())).toBe(true);
      const again = await migrate(sql, db, folder);
      expect([again.applied.length, again.alreadyApplied]).toEqual([0, 2]);
      expect(await tables(sql)).not.toContain('down_ran');
    });
  });

  it('accepts version 0, as sqlx\'s own tests use 0_setup.sql', async () => {
    const db = await createDatabase('mig');
    await withSql(pgAdmin(db), async (sql) => {
      const r = await migrate(sql, db, parseMigrations([m('0_setup.sql', 'create table setup (id int);'), m('1_next.sql', 'create table next (id int);')]));
      expect(r.applied.map((a) => a.version)).toEqual([0n, 1n]);
      expect((await readLedger(sql)).map((x) => [x.version, x.description])).toEqual([[0n, 'setup'], [1n, 'next']]);
    });
  });

  it('with ignoreMissing applies past an applied version that has no file; without it, refuses and names --ignore-missing', async () => {
    const db = await createDatabase('mig');
    await withSql(pgAdmin(db), async (sql) => {
      await migrate(sql, db, parseMigrations([m('1_a.sql', 'create table a (id int);'), m('2_b.sql', 'create table b (id int);')]));
      const local = parseMigrations([m('1_a.sql', 'create table a (id int);'), m('3_c.sql', 'create table c (id int);')]);
      const refused = (await migrate(sql, db, local).catch((e: unknown) => e)) as { line: string };
      expect(refused.line).toMatch(/migration 2 \(b\) is applied but has no file.*; restore the file from version control.*or pass --ignore-missing/);
      expect(await tables(sql)).not.toContain('c');
      const r = await migrate(sql, db, local, { ignoreMissing: true });
      expect(r.applied.map((a) => a.version)).toEqual([3n]);
      expect(r.ignoredMissing).toEqual([2n]);
      expect(await tables(sql)).toContain('c');
    });
  });

  it('a failed CREATE INDEX CONCURRENTLY: the message names the invalid index it left and how to finish by hand', async () => {
    const db = await createDatabase('mig');
    await withSql(pgAdmin(db), async (sql) => {
      const setup = m('1_t.sql', 'create table t (n int); insert into t values (1), (1);');
      const idx = m('2_t_n_key.sql', '-- no-transaction\ncreate unique index concurrently t_n_key on t (n);');
      const err = (await migrate(sql, db, parseMigrations([setup, idx])).catch((e: unknown) => e)) as { message: string; fix: string };
      expect(err.message).toMatch(/^migration 2 \(2_t_n_key\.sql\) failed: could not create unique index "t_n_key"; it runs outside a transaction \(-- no-transaction\), so it left the invalid index public\.t_n_key$/);
      expect(err.message).not.toMatch(/nothing from it was applied/);
      expect(err.fix).toMatch(/^finish by hand: DROP INDEX CONCURRENTLY IF EXISTS public\.t_n_key; fix the cause, then run again: no ledger row was written, so the whole file runs again/);
      const [left] = await sql`select indisvalid from pg_index where indexrelid = 'public.t_n_key'::regclass`;
      expect(left!.indisvalid).toBe(false);
      expect((await readLedger(sql)).map((r) => r.version)).toEqual([1n]);
      // following the advice finishes the migration
      await sql.unsafe('DROP INDEX CONCURRENTLY IF EXISTS public.t_n_key');
      await sql`delete from t where ctid <> (select min(ctid) from t)`;
      const r = await migrate(sql, db, parseMigrations([setup, idx]));
      expect(r.applied.map((a) => a.version)).toEqual([2n]);
      const [valid] = await sql`select indisvalid from pg_index where indexrelid = 'public.t_n_key'::regclass`;
      expect(valid!.indisvalid).toBe(true);
    });
  });

  it('a -- no-transaction file that fails partway says what it may have left, and an index left by an older failure is not blamed on it', async () => {
    const db = await createDatabase('mig');
    await withSql(pgAdmin(db), async (sql) => {
      // an invalid index from earlier, outside any migration
      await sql.unsafe('create table old (n int); insert into old values (1), (1);');
      await sql.unsafe('create unique index concurrently old_n_key on old (n)').catch(() => {});
      const files = parseMigrations([m('1_part.sql', '-- no-transaction\ncreate table kept (id int);\ncommit;\ninsert into nowhere values (1);')]);
      const err = (await migrate(sql, db, files).catch((e: unknown) => e)) as { message: string; fix: string };
      expect(err.message).toBe('migration 1 (1_part.sql) failed: relation "nowhere" does not exist; it runs outside a transaction (-- no-transaction), so statements before a COMMIT in it stay applied; it left no invalid index');
      expect(err.fix).toMatch(/^finish by hand: undo or complete what it committed, or make those statements re-runnable \(IF NOT EXISTS\); fix the cause, then run again: no ledger row was written, so the whole file runs again/);
      expect(await tables(sql)).toContain('kept');
    });
  });

  it('CREATE INDEX CONCURRENTLY among other statements: PostgreSQL refuses it, and the fix says one statement per -- no-transaction file', async () => {
    const db = await createDatabase('mig');
    await withSql(pgAdmin(db), async (sql) => {
      const files = parseMigrations([m('1_two.sql', '-- no-transaction\ncreate table two (id int);\ncreate index concurrently two_id_idx on two (id);')]);
      const err = (await migrate(sql, db, files).catch((e: unknown) => e)) as { line: string };
      expect(err.line).toMatch(/failed: CREATE INDEX CONCURRENTLY cannot run inside a transaction block; .*put each CREATE INDEX CONCURRENTLY in a -- no-transaction file of its own/);
      expect(await tables(sql)).not.toContain('two');
      const inTx = parseMigrations([m('1_tx.sql', 'create table tx (id int);\ncreate index concurrently tx_id_idx on tx (id);')]);
      const err2 = (await migrate(sql, db, inTx).catch((e: unknown) => e)) as { line: string };
      expect(err2.line).toMatch(/nothing from it was applied; start the file with -- no-transaction and keep the CREATE INDEX CONCURRENTLY alone in it/);
    });
  });

  it('waits for the migration lock at most lockWaitTimeoutMs, then names the holder and says what an idle holder means', async () => {
    const db = await createDatabase('mig');
    const holder = connect(pgAdmin(db), { max: 1, applicationName: 'my-sqlx-app' });
    const held = await holder.reserve();
    try {
      await held.unsafe(`select pg_advisory_lock(${sqlxLockKey(db)})`);
      await withSql(pgAdmin(db), async (sql) => {
        const started = Date.now();
        const err = (await migrate(sql, db, parseMigrations([m('1_a.sql', 'create table a (id int);')]), { lockWaitTimeoutMs: 300 }).catch((e: unknown) => e)) as { message: string; fix: string };
        expect(Date.now() - started).toBeGreaterThanOrEqual(250);
        expect(err.message).toMatch(new RegExp(`^timed out after 300 ms waiting for the migration lock on database ${db}, held by pid \\d+ \\(my-sqlx-app, user postgres, idle since \\d{4}-\\d\\d-\\d\\dT`));
        expect(err.fix).toMatch(/sqlx::migrate!\(\)\.run\(\) returns on an error without releasing this lock/);
        expect(err.fix).toMatch(/--lock-wait-timeout/);
        expect((await sql`select to_regclass('_sqlx_migrations') as t`)[0]!.t).toBe(null);
        await held.unsafe(`select pg_advisory_unlock(${sqlxLockKey(db)})`);
        expect((await migrate(sql, db, parseMigrations([m('1_a.sql', 'create table a (id int);')]), { lockWaitTimeoutMs: 300 })).applied).toHaveLength(1);
      });
    } finally {
      held.release();
      await holder.end();
    }
  });

  it('migrationStatus reports without changing anything: the refusal as one line, or with ignoreMissing what it passes over', async () => {
    const db = await createDatabase('mig');
    await withSql(pgAdmin(db), async (sql) => {
      await migrate(sql, db, parseMigrations([m('1_a.sql', 'create table a (id int);'), m('2_b.sql', 'create table b (id int);')]));
      const folder = parseMigrationFolder([entry('1_a.up.sql', 'create table a (id int);'), entry('1_a.down.sql', 'drop table a;'), entry('3_c.up.sql', 'create table c (id int);')]);
      const strict = await migrationStatus(sql, folder);
      expect(strict.problem).toMatch(/^refusing to migrate: migration 2 \(b\) is applied but has no file in the migrations folder; .*--ignore-missing/);
      expect([strict.applied.map((x) => x.file), strict.pending.map((x) => x.file), strict.missing.map((r) => r.version)]).toEqual([['1_a.up.sql'], ['3_c.up.sql'], [2n]]);
      const lenient = await migrationStatus(sql, folder, { ignoreMissing: true });
      expect(lenient.problem).toBe(undefined);
      expect(lenient.missing.map((r) => r.version)).toEqual([2n]);
      expect(await tables(sql)).toEqual(['_sqlx_migrations', 'a', 'b']);
    });
  });

  it('waits 60 s for the lock unless told otherwise', async () => {
    const db = await createDatabase('mig');
    const sent: string[] = [];
    const sql = connect(pgAdmin(db), { max: 1, onQuery: (q) => sent.push(q) });
    try {
      await migrate(sql, db, parseMigrations([m('1_a.sql', 'create table a (id int);')]));
      expect(DEFAULT_LOCK_WAIT_TIMEOUT_MS).toBe(60_000);
      expect(sent).toContain(`SET lock_timeout = ${DEFAULT_LOCK_WAIT_TIMEOUT_MS}`);
    } finally {
      await sql.end();
    }
  });
});
