import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { pgAdmin, withSql } from '../../test/db.ts';
import { createScratch, dropScratch, isAbandoned, markerText, newScratch, parseMarker, sweepAbandonedScratch, type ScratchMarker } from './scratch.ts';

const marker: ScratchMarker = { purpose: 'drift reference', pid: 4242, host: 'ci-1', createdAt: '2026-12-01T10:00:00.000Z' };

describe('scratch markers', () => {
  it('round-trip, and anything else is not a marker', () => {
    expect(parseMarker(markerText(marker))).toEqual(marker);
    expect(parseMarker('pgsteward scratch {broken')).toBeUndefined();
    expect(parseMarker('a comment someone wrote')).toBeUndefined();
    expect(parseMarker(null)).toBeUndefined();
  });

  it('a scratch is abandoned when its process is gone on this host; another host\'s only after a day', () => {
    const now = new Date('2026-12-01T12:00:00.000Z');
    expect(isAbandoned(marker, { host: 'ci-1', now, alive: () => false })).toBe(true);
    expect(isAbandoned(marker, { host: 'ci-1', now, alive: () => true })).toBe(false);
    expect(isAbandoned(marker, { host: 'ci-2', now, alive: () => false })).toBe(false);
    expect(isAbandoned(marker, { host: 'ci-2', now: new Date('2026-12-02T10:00:01.000Z'), alive: () => true })).toBe(true);
  });
});

describe('scratch databases on a server', () => {
  it('the sweep removes a dead run\'s scratch and leaves a live run\'s alone', async () => {
    const mine = newScratch();
    const dead = newScratch();
    await withSql(pgAdmin(), async (sql) => {
      await createScratch(sql, mine, 'test');
      await createScratch(sql, dead, 'test');
      await sql.unsafe(`CREATE DATABASE ${dead.database} OWNER ${dead.roles.owner}`);
      // As if the process that made it had died: its marker names a pid that is not running.
      await sql.unsafe(`COMMENT ON ROLE ${dead.roles.owner} IS '${markerText({ purpose: 'test', pid: 2 ** 22 + 17, host: os.hostname(), createdAt: new Date().toISOString() })}'`);
    });
    try {
      const swept = await withSql(pgAdmin(), (sql) => sweepAbandonedScratch(sql));
      expect(swept).toContain(dead.database);
      expect(swept).not.toContain(mine.database);
      const left = await withSql(pgAdmin(), (sql) => sql<{ name: string }[]>`
        select rolname::text as name from pg_roles where rolname in (${mine.roles.owner}, ${dead.roles.owner})
        union all select datname::text from pg_database where datname = ${dead.database}`);
      expect(left.map((r) => r.name)).toEqual([mine.roles.owner]);
    } finally {
      await withSql(pgAdmin(), (sql) => dropScratch(sql, mine.database));
    }
  });

  it('refuses to drop a database that is not a scratch one', async () => {
    await expect(withSql(pgAdmin(), (sql) => dropScratch(sql, 'app'))).rejects.toThrow(/not a scratch database/);
  });
});
