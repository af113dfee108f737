import { describe, expect, it } from 'vitest';
import { ident } from '../db/connect.ts';
import { pgAdmin, provisionDatabase, uniqueName, withSql } from '../../test/db.ts';
import { seed } from '../../test/backups.ts';
import { checksumDifferences, ledgerRows, rowChecksumSql, tableRowChecksums } from './row-checksums.ts';

describe('row checksum queries (pure)', () => {
  it('orders by the primary key in key order, quoting every name; whole rows order a table without one', () => {
    expect(rowChecksumSql({ schema: 'public', name: 'user_roles', key: ['user_id', 'role_id'] })).toBe(
      `select 'public.user_roles' as t, count(*)::bigint as n, md5(coalesce(string_agg((r.*)::text, E'\\n' order by r."user_id", r."role_id"), '')) as h from "public"."user_roles" r`,
    );
    expect(rowChecksumSql({ schema: 'Odd Schema', name: `it's`, key: [] })).toBe(
      `select 'Odd Schema.it''s' as t, count(*)::bigint as n, md5(coalesce(string_agg((r.*)::text, E'\\n' order by (r.*)::text), '')) as h from "Odd Schema"."it's" r`,
    );
  });

  it('names every table whose count or md5 differs, or that only one side has', () => {
    const a = { 'public.a': { rows: 1, md5: 'x' }, 'public.b': { rows: 2, md5: 'y' }, 'public.c': { rows: 0, md5: 'z' } };
    expect(checksumDifferences(a, { ...a })).toEqual([]);
    expect(checksumDifferences(a, { ...a, 'public.b': { rows: 2, md5: 'Y' } })).toEqual(['public.b']);
    expect(checksumDifferences(a, { ...a, 'public.a': { rows: 2, md5: 'x' }, 'public.d': { rows: 0, md5: 'z' } })).toEqual(['public.a', 'public.d']);
    const { ['public.c']: _gone, ...less } = a;
    expect(checksumDifferences(a, less)).toEqual(['public.c']);
  });
});

describe('row checksums on PostgreSQL 17', () => {
  it('equal for equal data whatever the physical order and the time zone; a one-character change shows in its table only', async () => {
    const db = await provisionDatabase('rcs');
    await seed(db.as(), 8);
    // A table without a primary key, with duplicate rows and a column named like the row alias.
    await withSql(db.as(), (sql) => sql.unsafe(`create table notes (r text, at timestamptz); insert into notes values ('x', '2026-01-02 03:04:05+00'), ('x', '2026-01-02 03:04:05+00'), (null, null)`));
    const copy = uniqueName('rcs_copy');
    await withSql(pgAdmin(), (sql) => sql.unsafe(`create database ${ident(copy)} template ${ident(db.database)}`));
    try {
      const original = await withSql(db.as(), tableRowChecksums);
      expect(Object.keys(original)).toEqual(expect.arrayContaining(['public.users', 'public.user_roles', 'public._sqlx_migrations', 'public.notes']));
      expect(original['public.users']!.rows).toBe(8);
      expect(original['public.notes']!.rows).toBe(3);
      expect(checksumDifferences(original, await withSql(pgAdmin(copy), tableRowChecksums))).toEqual([]);

      // Rows rewritten (their physical order changes) and a session time zone far from UTC: still equal.
      // (user_roles rows taken out and put back unchanged land at the end of the heap)
      await withSql(pgAdmin(copy), (sql) => sql.unsafe(`with gone as (delete from user_roles where user_id = (select user_id from user_roles limit 1) returning *) insert into user_roles select * from gone; update notes set r = r`));
      await withSql(pgAdmin(), (sql) => sql.unsafe(`alter database ${ident(copy)} set timezone = 'Pacific/Chatham'`));
      const firstRow = (settings: ReturnType<typeof pgAdmin>) => withSql(settings, async (sql) => (await sql.unsafe<{ r: string }[]>(`select r::text from user_roles r`))[0]!.r);
      expect(await firstRow(pgAdmin(copy))).not.toBe(await firstRow(db.as()));
      expect(checksumDifferences(original, await withSql(pgAdmin(copy), tableRowChecksums))).toEqual([]);

      await withSql(pgAdmin(copy), (sql) => sql.unsafe(`update user_profiles set bio = bio || '.' where display_name = 'User user-3'`));
      expect(checksumDifferences(original, await withSql(pgAdmin(copy), tableRowChecksums))).toEqual(['public.user_profiles']);
      await withSql(pgAdmin(copy), (sql) => sql.unsafe(`delete from notes where ctid = (select ctid from notes where r = 'x' limit 1)`));
      expect(checksumDifferences(original, await withSql(pgAdmin(copy), tableRowChecksums))).toEqual(['public.notes', 'public.user_profiles']);
    } finally {
      await withSql(pgAdmin(), (sql) => sql.unsafe(`drop database if exists ${ident(copy)} with (force)`));
    }
  });

  it('the ledger: every migration with its checksum, equal in a copy, different once a row changes; empty without one', async () => {
    const db = await provisionDatabase('ledg');
    const rows = await withSql(db.as(), ledgerRows);
    expect(rows.length).toBeGreaterThanOrEqual(4);
    expect(rows[0]).toEqual({ version: '1', description: expect.any(String), installedOn: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/), success: true, checksum: expect.stringMatching(/^[0-9a-f]{96}$/), executionTime: expect.stringMatching(/^\d+$/) });
    const copy = uniqueName('ledg_copy');
    await withSql(pgAdmin(), (sql) => sql.unsafe(`create database ${ident(copy)} template ${ident(db.database)}`));
    try {
      await withSql(pgAdmin(), (sql) => sql.unsafe(`alter database ${ident(copy)} set timezone = 'America/St_Johns'`));
      expect(await withSql(pgAdmin(copy), ledgerRows)).toEqual(rows);
      await withSql(pgAdmin(copy), (sql) => sql.unsafe(`update _sqlx_migrations set checksum = '\\x00'::bytea || checksum where version = 2`));
      expect(await withSql(pgAdmin(copy), ledgerRows)).not.toEqual(rows);
    } finally {
      await withSql(pgAdmin(), (sql) => sql.unsafe(`drop database if exists ${ident(copy)} with (force)`));
    }
    const empty = uniqueName('ledg_none');
    await withSql(pgAdmin(), (sql) => sql.unsafe(`create database ${ident(empty)}`));
    try {
      expect(await withSql(pgAdmin(empty), ledgerRows)).toEqual([]);
    } finally {
      await withSql(pgAdmin(), (sql) => sql.unsafe(`drop database if exists ${ident(empty)} with (force)`));
    }
  });
});
