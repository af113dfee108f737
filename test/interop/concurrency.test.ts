import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connect } from '../../core/db/connect.ts';
import { lockKeyParts } from '../../core/db/advisory-lock.ts';
import { readMigrationFolder, type Migration } from '../../core/migrations/files.ts';
import { sqlxLockKey } from '../../core/migrations/lock.ts';
import { MIGRATIONS_DIR } from '../../core/paths.ts';
import { waitFor } from '../cli.ts';
import { withSql } from '../db.ts';
import { FIXTURE_MIGRATIONS, ledger, rolesFirst, setupDb, sqlxApp, sqlxMigrate, tools, type InteropDatabase, type ProcResult } from './sqlx.ts';

/**
 * Issue 18 §2.5: our setup-db against sqlx's own lock holders and non-holders. To make two
 * clients contend for certain, rather than hope that two process start-ups overlap, the test
 * holds sqlx's migration lock itself, starts both clients, waits until PostgreSQL shows both
 * queued for the lock, and lets go: they are then released into the race at the same moment,
 * in the order they queued.
 */

const ours = readMigrationFolder(MIGRATIONS_DIR).migrations;
const ledgerOf = (ms: readonly Migration[]) => ms.map((m) => ({ version: String(m.version), description: m.description, success: true, checksum: m.checksum.toString('hex') }));
const lastLine = (r: { stdout: string }) => r.stdout.trimEnd().split('\n').at(-1);

beforeEach(() => {
  tools(); // no sqlx toolchain: every test here fails with the one line that says why
});

/** A session holding the database's migration lock (sqlx's key), and a way to watch who waits for it. */
async function lockGate(db: InteropDatabase) {
  const key = sqlxLockKey(db.database);
  const { classid, objid } = lockKeyParts(key);
  const holder = connect(db.as(), { max: 1 });
  const watcher = connect(db.as(), { max: 1 });
  await holder.unsafe(`SELECT pg_advisory_lock(${key})`);
  const waiting = async () =>
    Number(
      (await watcher.unsafe<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = $1 AND objid = $2 AND objsubid = 1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        [classid, objid],
      ))[0]!.n,
    );
  return {
    waiting,
    /** Resolves once `n` sessions are queued for the lock. */
    queued: (n: number, what: string) => waitFor(async () => (await waiting()) === n, 30_000, what),
    release: () => holder.unsafe(`SELECT pg_advisory_unlock(${key})`),
    close: async () => {
      await holder.end();
      await watcher.end();
    },
  };
}

type Client = { name: 'setup-db' | 'sqlx::migrate!()'; start: () => Promise<ProcResult | { code: number | null; stdout: string; stderr: string }> };

/** Queues `first`, then `second`, for the held lock, then releases both into the race. */
async function race(db: InteropDatabase, first: Client, second: Client) {
  const gate = await lockGate(db);
  try {
    const a = first.start();
    await gate.queued(1, `${first.name} queued for the migration lock`);
    const b = second.start();
    await gate.queued(2, `${second.name} queued behind it`);
    await gate.release();
    const [ra, rb] = await Promise.all([a, b]);
    return { [first.name]: ra, [second.name]: rb } as Record<Client['name'], { code: number | null; stdout: string; stderr: string }>;
  } finally {
    await gate.close();
  }
}

describe('5. setup-db and sqlx::migrate!() started at the same moment', () => {
  it('10 rounds, each order 5 times: every migration applied exactly once, neither fails, the first in the queue applies them all', async () => {
    for (let round = 0; round < 10; round++) {
      const db = await rolesFirst('cc');
      const app: Client = { name: 'sqlx::migrate!()', start: () => sqlxApp('ours', db.url('migrator')) };
      const setup: Client = { name: 'setup-db', start: () => setupDb(db, MIGRATIONS_DIR) };
      const [first, second] = round % 2 === 0 ? [app, setup] : [setup, app];
      const r = await race(db, first, second);
      // Who applied them is told by setup-db, which reads the ledger under the lock; the app's
      // own count compares the ledger before and after its run, so it counts both clients' work.
      const summary = { setup: lastLine(r['setup-db']), codes: [r['sqlx::migrate!()'].code, r['setup-db'].code], stderr: [r['sqlx::migrate!()'].stderr, r['setup-db'].stderr] };
      const appFirst = first === app;
      expect(summary, `round ${round + 1}, ${first.name} queued first`).toEqual({
        setup: `setup-db (dev/${db.database}): applied ${appFirst ? 0 : ours.length}, ${appFirst ? ours.length : 0} already applied`,
        codes: [0, 0],
        stderr: ['', ''],
      });
      expect(await ledger(db)).toEqual(ledgerOf(ours));
      // The seed rows of 0003 exist once: its SQL ran once.
      expect(await withSql(db.as(), (sql) => sql`select count(*)::int as n from roles`.then((x) => x[0]!.n))).toBe(4);
    }
  });

  it('a CREATE INDEX CONCURRENTLY migration and a client waiting for the lock deadlock: PostgreSQL ends one of them, sqlx against sqlx too', async () => {
    // The waiter's `SELECT pg_advisory_lock(…)` holds a snapshot; CREATE INDEX CONCURRENTLY
    // waits for every older snapshot to go, while the waiter waits for the lock its session holds.
    const fixtureCount = readMigrationFolder(FIXTURE_MIGRATIONS).migrations.length;
    const pairs = [
      ['sqlx::migrate!()', 'setup-db'],
      ['setup-db', 'sqlx::migrate!()'],
      ['sqlx::migrate!()', 'sqlx::migrate!()'],
    ] as const;
    for (const [firstName, secondName] of pairs) {
      const db = await rolesFirst('cd');
      const client = (name: Client['name']): Client => ({ name, start: () => (name === 'setup-db' ? setupDb(db, FIXTURE_MIGRATIONS) : sqlxApp('fixture', db.url('migrator'))) });
      const gate = await lockGate(db);
      let results: Array<{ code: number | null; stdout: string; stderr: string }>;
      try {
        const a = client(firstName).start();
        await gate.queued(1, `${firstName} queued`);
        const b = client(secondName).start();
        await gate.queued(2, `${secondName} queued`);
        await gate.release();
        results = await Promise.all([a, b]);
      } finally {
        await gate.close();
      }
      const failed = results.filter((x) => x.code !== 0);
      expect(failed.map((x) => x.stdout + x.stderr), `${firstName} then ${secondName}`).toEqual([expect.stringMatching(/deadlock detected/)]);
      // Ours says what happened, whichever side PostgreSQL ended: the wait, or the index build.
      const ourFailure = [firstName, secondName].flatMap((name, i) => (name === 'setup-db' && results[i]!.code !== 0 ? [results[i]!.stderr] : []));
      for (const line of ourFailure) {
        expect(line).toMatch(/^error: (deadlock detected while waiting for the migration lock on database \w+(, held by pid \d+ \(.*?\))?: the holder ran a statement that waits for this session \(CREATE INDEX CONCURRENTLY waits for every older snapshot|migration 20240410093000 .*failed: deadlock detected \(CREATE INDEX CONCURRENTLY waits for every older snapshot)/);
        expect(line.trimEnd().split('\n')).toHaveLength(1);
      }
      // What did get applied was applied once, and the survivor finished the folder.
      expect((await ledger(db)).map((l) => l.version)).toHaveLength(fixtureCount);
    }
  });
});

describe('5. the sqlx CLI takes no lock', () => {
  it('sqlx migrate run applies everything while the migration lock is held; setup-db waits for it', async () => {
    const db = await rolesFirst('cl');
    const gate = await lockGate(db);
    try {
      const waiter = setupDb(db, MIGRATIONS_DIR);
      await gate.queued(1, 'setup-db queued for the migration lock');
      const cli = await sqlxMigrate('run', MIGRATIONS_DIR, db.url('migrator'));
      expect(cli.code, cli.stdout).toBe(0);
      expect(cli.stdout.trimEnd().split('\n')).toHaveLength(ours.length);
      expect(await ledger(db)).toEqual(ledgerOf(ours));
      expect(await gate.waiting()).toBe(1);
      await gate.release();
      expect(lastLine(await waiter)).toBe(`setup-db (dev/${db.database}): applied 0, ${ours.length} already applied`);
    } finally {
      await gate.close();
    }
  });

  /**
   * The harm: both find the same version pending. Both are held at the file's first statement
   * by a table lock the test takes; then the lock goes and both run it.
   */
  async function collide(noTransaction: boolean) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-race-'));
    writeFileSync(path.join(dir, '1_events.sql'), 'CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text NOT NULL);\n');
    const db = await rolesFirst('cx');
    expect((await setupDb(db, dir)).code).toBe(0);
    writeFileSync(path.join(dir, '2_backfill.sql'), `${noTransaction ? '-- no-transaction\n' : ''}INSERT INTO events (note) VALUES ('backfilled');\n`);
    const tableLock = connect(db.as(), { max: 1 });
    const blocked = () => withSql(db.as(), (sql) => sql`select count(*)::int as n from pg_locks where relation = 'public.events'::regclass and not granted`.then((x) => x[0]!.n));
    let results: [ProcResult | { code: number | null; stdout: string; stderr: string }, ProcResult];
    try {
      await tableLock.begin(async (tx) => {
        await tx.unsafe('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
        const setup = setupDb(db, dir);
        await waitFor(async () => (await blocked()) === 1, 30_000, 'setup-db blocked in 2_backfill.sql');
        const cli = sqlxMigrate('run', dir, db.url('migrator'));
        await waitFor(async () => (await blocked()) === 2, 30_000, 'sqlx migrate run blocked in the same file');
        results = [setup, cli] as never;
      });
    } finally {
      await tableLock.end();
    }
    const [setup, cli] = await Promise.all(results!);
    const rows = await withSql(db.as(), (sql) => sql`select count(*)::int as n from events`.then((x) => x[0]!.n));
    return { setup, cli, rows, ledger: (await ledger(db)).map((l) => l.version) };
  }

  it('racing setup-db on a -- no-transaction data migration, the file runs twice; one of them then fails on the ledger row', async () => {
    const r = await collide(true);
    expect(r.rows).toBe(2);
    expect(r.ledger).toEqual(['1', '2']);
    const failures = [r.setup, r.cli].filter((x) => x.code !== 0).map((x) => x.stdout + x.stderr);
    expect(failures).toEqual([expect.stringMatching(/duplicate key value violates unique constraint "_sqlx_migrations_pkey"/)]);
    if (r.setup.code !== 0) expect(r.setup.stderr).toMatch(/another client applied it at the same moment; the sqlx CLI \(sqlx migrate run\) takes no migration lock, and this file runs outside a transaction \(-- no-transaction\), so its statements ran twice; check what the file did/);
  });

  it('on a transactional migration, the second to commit fails on the ledger row and its work is rolled back', async () => {
    const r = await collide(false);
    expect(r.rows).toBe(1);
    expect(r.ledger).toEqual(['1', '2']);
    const failures = [r.setup, r.cli].filter((x) => x.code !== 0).map((x) => x.stdout + x.stderr);
    expect(failures).toEqual([expect.stringMatching(/duplicate key value violates unique constraint "_sqlx_migrations_pkey"/)]);
    if (r.setup.code !== 0) expect(r.setup.stderr).toMatch(/another client applied it at the same moment; .*; nothing from this run of it was kept and the migration is applied/);
  });
});
