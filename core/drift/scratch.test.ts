import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { pgAdmin, withSql } from '../../test/db.ts';
import { markerText } from '../db/scratch-marker.ts';
import { createScratch, dropScratch, newScratch, sweepAbandonedScratch } from './scratch.ts';

describe('scratch databases on a server', () => {
  it('the sweep removes a dead run\'s scratch and leaves a live run\'s alone', async () => {
    const mine = newScratch();
    const dead = newScratch();
    await withSql(pgAdmin(), async (sql) => {
      await createScratch(sql, mine, 'test');
      await createScratch(sql, dead, 'test');
      await sql.unsafe(`CREATE DATABASE ${dead.database} OWNER ${dead.roles.owner}`);
      // As if the process that made it had died: its marker names a pid that is not running.
      await sql.unsafe(`COMMENT ON ROLE ${dead.roles.owner} IS '${markerText({ purpose: 'test', pid: 2 ** 22 + 17, host: os.hostname(), startedAt: new Date().toISOString() })}'`);
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
