import { beforeAll, describe, expect, it } from 'vitest';
import { provisionDatabase, withSql, type ProvisionedDatabase } from '../test/db.ts';
import type { Sql } from '../core/db/connect.ts';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CREATE_LEDGER } from '../core/migrations/ledger.ts';
import { REPO_ROOT } from '../core/paths.ts';

let db: ProvisionedDatabase;
beforeAll(async () => {
  db = await provisionDatabase('schema');
});

class Rollback extends Error {}
/** Runs fn as the app role in a transaction that is always rolled back. */
async function asApp<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
  let out: T;
  await withSql(db.as('app'), (sql) =>
    sql
      .begin(async (tx) => {
        out = await fn(tx as unknown as Sql);
        throw new Rollback();
      })
      .catch((e) => {
        if (!(e instanceof Rollback)) throw e;
      }),
  );
  return out!;
}

async function sqlState(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

describe('schema', () => {
  it('gives every table a version-7 id whose embedded time increases with insertion order', async () => {
    const rows = await asApp(async (tx) => {
      const out: { id: string; v: number; variant: number; ms: string }[] = [];
      for (let i = 0; i < 20; i++) {
        const [r] = await tx<{ id: string; v: number; variant: number; ms: string }[]>`
          insert into users (email, slug) values (${`u${i}@example.test`}, ${`u${i}`})
          returning id::text, get_byte(uuid_send(id), 6) >> 4 as v, get_byte(uuid_send(id), 8) >> 6 as variant,
                    ('x' || substr(replace(id::text, '-', ''), 1, 12))::bit(48)::bigint::text as ms`;
        out.push(r!);
      }
      return out;
    });
    for (const r of rows) {
      expect(r.v).toBe(7);
      expect(r.variant).toBe(2); // RFC 9562 variant 10xx
    }
    // ids sort by millisecond the way they were inserted; within a millisecond pg_uuidv7's bits are random
    const ms = rows.map((r) => BigInt(r.ms));
    expect(ms.every((m, i) => i === 0 || m >= ms[i - 1]!)).toBe(true);
    const now = Date.now();
    expect(Math.abs(Number(rows[0]!.ms) - now)).toBeLessThan(60_000);
  });

  it('moves updated_at on every UPDATE and leaves created_at alone', async () => {
    const r = await asApp(async (tx) => {
      const [u] = await tx`insert into users (email, slug, created_at, updated_at) values ('t@example.test', 't', '2001-01-01', '2001-01-01') returning id`;
      const [p] = await tx`insert into user_profiles (user_id, updated_at) values (${u!.id}, '2001-01-01') returning id`;
      // even an explicit value is overridden: the database, not the caller, owns updated_at
      const [a] = await tx`update users set status = 'suspended', updated_at = '1999-01-01' where id = ${u!.id} returning created_at, updated_at`;
      const [b] = await tx`update user_profiles set display_name = 'T' where id = ${p!.id} returning updated_at`;
      return { a: a!, b: b! };
    });
    expect(r.a.created_at.toISOString()).toBe(new Date('2001-01-01').toISOString());
    expect(r.a.updated_at.getFullYear()).toBeGreaterThanOrEqual(2026);
    expect(r.b.updated_at.getFullYear()).toBeGreaterThanOrEqual(2026);
  });

  it('has an updated_at trigger on every table with updated_at', async () => {
    await withSql(db.as(), async (sql) => {
      const missing = await sql`
        select c.table_name from information_schema.columns c
        where c.table_schema = 'public' and c.column_name = 'updated_at'
          and not exists (select 1 from information_schema.triggers t
                          where t.event_object_table = c.table_name and t.action_timing = 'BEFORE'
                            and t.event_manipulation = 'UPDATE' and t.action_statement like '%set_updated_at%')`;
      expect(missing).toEqual([]);
    });
  });

  it('keeps the base role "user" from being renamed, deleted or truncated away', async () => {
    expect(await sqlState(() => asApp((tx) => tx`update roles set name = 'member' where name = 'user'`))).toBe('23001');
    expect(await sqlState(() => asApp((tx) => tx`delete from roles where name = 'user'`))).toBe('23001');
    await withSql(db.as(), async (sql) => {
      expect(await sqlState(() => sql.begin((tx) => tx`truncate roles cascade`))).toBe('23001');
    });
    // other roles stay editable, and the base role's description may change
    expect(await sqlState(() => asApp((tx) => tx`update roles set description = 'Everyone' where name = 'user'`))).toBe('ok');
    expect(await sqlState(() => asApp((tx) => tx`delete from roles where name = 'trusted-contact'`))).toBe('ok');
  });

  it('seeds exactly the four design-record roles', async () => {
    await withSql(db.as('readonly'), async (sql) => {
      const rows = await sql`select name from roles order by name`;
      expect(rows.map((r) => r.name)).toEqual(['admin', 'email-verified', 'trusted-contact', 'user']);
    });
  });

  it('makes email unique regardless of case, and slug unique', async () => {
    const dupEmail = () => asApp(async (tx) => {
      await tx`insert into users (email, slug) values ('Ada@Example.test', 'ada')`;
      await tx`insert into users (email, slug) values ('ada@example.TEST', 'ada2')`;
    });
    expect(await sqlState(dupEmail)).toBe('23505');
    const dupSlug = () => asApp(async (tx) => {
      await tx`insert into users (email, slug) values ('a@example.test', 'same')`;
      await tx`insert into users (email, slug) values ('b@example.test', 'same')`;
    });
    expect(await sqlState(dupSlug)).toBe('23505');
  });

  it('allows one credential per user, many external logins, and each provider account once', async () => {
    const states = await asApp(async (tx) => {
      const [u] = await tx`insert into users (email, slug) values ('c@example.test', 'c') returning id`;
      const [v] = await tx`insert into users (email, slug) values ('d@example.test', 'd') returning id`;
      await tx`insert into user_credentials (user_id, password_hash) values (${u!.id}, 'h1')`;
      await tx`insert into user_external_logins (user_id, provider, provider_user_id) values (${u!.id}, 'github', '1'), (${u!.id}, 'google', '1')`;
      const s: string[] = [];
      for (const stmt of [
        () => tx`insert into user_credentials (user_id, password_hash) values (${u!.id}, 'h2')`,
        () => tx`insert into user_external_logins (user_id, provider, provider_user_id) values (${v!.id}, 'github', '1')`,
      ]) {
        await tx`savepoint s`;
        s.push(await sqlState(stmt));
        await tx`rollback to savepoint s`;
      }
      return s;
    });
    expect(states).toEqual(['23505', '23505']);
  });

  it('deletes credentials, logins, profile, preferences and role grants with the user, but keeps their phrases', async () => {
    const left = await asApp(async (tx) => {
      const [u] = await tx`insert into users (email, slug) values ('gone@example.test', 'gone') returning id`;
      await tx`insert into user_credentials (user_id, password_hash) values (${u!.id}, 'h')`;
      await tx`insert into user_external_logins (user_id, provider, provider_user_id) values (${u!.id}, 'github', 'gone')`;
      await tx`insert into user_profiles (user_id) values (${u!.id})`;
      await tx`insert into user_preferences (user_id) values (${u!.id})`;
      await tx`insert into user_roles (user_id, role_id) select ${u!.id}, id from roles where name = 'user'`;
      await tx`insert into phrases (created_by, text) values (${u!.id}, 'kept after the author leaves')`;
      await tx`delete from users where id = ${u!.id}`;
      const [c] = await tx`select
        (select count(*) from user_credentials)::int + (select count(*) from user_external_logins)::int +
        (select count(*) from user_profiles)::int + (select count(*) from user_preferences)::int +
        (select count(*) from user_roles)::int as children,
        (select count(*) from phrases where created_by is null)::int as orphaned_phrases`;
      return c!;
    });
    expect(left).toEqual({ children: 0, orphaned_phrases: 1 });
  });

  it('finds phrases by full text (stemmed) and by misspelled trigram match', async () => {
    const r = await asApp(async (tx) => {
      await tx`insert into phrases (text) values ('Running with scissors is dangerous'), ('A stitch in time saves nine')`;
      const fts = await tx`select text from phrases where search @@ websearch_to_tsquery('english', 'run scissor')`;
      const fuzzy = await tx`select text from phrases where text % 'a stich in tme saves nine'`;
      const partial = await tx`select text from phrases where text ilike ${'%cisso%'}`;
      return { fts: fts.map((x) => x.text), fuzzy: fuzzy.map((x) => x.text), partial: partial.map((x) => x.text) };
    });
    expect(r).toEqual({
      fts: ['Running with scissors is dangerous'],
      fuzzy: ['A stitch in time saves nine'],
      partial: ['Running with scissors is dangerous'],
    });
  });

  it('pins the search_path of every function the migrations create', async () => {
    await withSql(db.as(), async (sql) => {
      const rows = await sql<{ name: string; config: string[] | null; secdef: boolean }[]>`
        select p.proname as name, p.proconfig as config, p.prosecdef as secdef
          from pg_proc p join pg_namespace n on n.oid = p.pronamespace
         where n.nspname = 'public'
           and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
         order by 1`;
      expect(rows.map((r) => r.name)).toEqual(['protect_base_role', 'set_updated_at']);
      for (const r of rows) expect({ name: r.name, config: r.config }).toEqual({ name: r.name, config: ['search_path=pg_catalog, public'] });
    });
  });

  it('set_updated_at ignores a hostile now() earlier on the caller\'s search_path', async () => {
    const year = await withSql(db.as(), (sql) =>
      sql
        .begin(async (tx) => {
          await tx.unsafe(`create schema evil; create function evil.now() returns timestamptz language sql as $$ select '2000-01-01'::timestamptz $$`);
          await tx.unsafe(`set local search_path = evil, pg_catalog, public`);
          const [u] = await tx.unsafe(`insert into public.users (email, slug) values ('sp@example.test', 'sp') returning id`);
          const [r] = await tx.unsafe(`update public.users set status = 'suspended' where id operator(pg_catalog.=) $1 returning extract(year from updated_at)::int as y`, [u!.id]);
          throw new Rollback(String(r!.y));
        })
        .catch((e: unknown) => {
          if (e instanceof Rollback) return Number(e.message);
          throw e;
        }),
    );
    expect(year).toBeGreaterThanOrEqual(2026);
  });

  it('protect_base_role ignores a hostile = operator earlier on the caller\'s search_path', async () => {
    const state = await withSql(db.as(), (sql) =>
      sqlState(() =>
        sql.begin(async (tx) => {
          await tx.unsafe(`create schema evil;
            create function evil.never(text, text) returns boolean language sql as 'select false';
            create operator evil.= (leftarg = text, rightarg = text, function = evil.never)`);
          await tx.unsafe(`set local search_path = evil, pg_catalog, public`);
          await tx.unsafe(`delete from public.user_roles`);
          await tx.unsafe(`delete from public.roles where name operator(pg_catalog.=) 'user'`);
          throw new Rollback('deleted');
        }),
      ),
    );
    expect(state).toBe('23001');
  });

  it('the app role cannot run sqlx::migrate!() (the error docs/migrations.md quotes), the migrator can', async () => {
    const docs = readFileSync(path.join(REPO_ROOT, 'docs', 'migrations.md'), 'utf8');
    await withSql(db.as('app'), async (sql) => {
      // sqlx's Migrator::run: the lock (allowed), then CREATE TABLE IF NOT EXISTS on a ledger that exists
      await sql.unsafe(`select pg_advisory_lock(42)`);
      const err = (await sql.unsafe(CREATE_LEDGER).catch((e: unknown) => e)) as { code: string; message: string };
      expect([err.code, err.message]).toEqual(['42501', 'permission denied for schema public']);
      expect(docs).toContain(`while executing migrations: error returned from database: ${err.message}`);
      expect(docs).toContain(`code: "${err.code}"`);
    });
    await withSql(db.as('migrator'), async (sql) => {
      await sql.unsafe(CREATE_LEDGER);
      const [r] = await sql`select current_user as u, (select count(*)::int from _sqlx_migrations where success) as n`;
      expect(r).toEqual({ u: `${db.database}_owner`, n: db.report.migrations.applied.length });
    });
  });
});
