import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXTENSIONS_DIR, pgUuidv7 } from './bundled.ts';
import { dollarTag, pgTleInstallBundled, pgTleInstallStatement } from './pgtle.ts';

describe('pg_tle registration SQL', () => {
  it('registers pg_uuidv7 1.6 from the very file share/extension gets, quoted so that no byte changes', () => {
    const sql = pgTleInstallBundled(pgUuidv7());
    const script = readFileSync(path.join(EXTENSIONS_DIR, 'pg_uuidv7', 'pg_uuidv7--1.6.sql'), 'utf8');
    expect(sql.startsWith("SELECT pgtle.install_extension(\n  'pg_uuidv7',\n  '1.6',\n  'pg_uuidv7: create UUIDv7 values in postgres (SQL implementation)',\n  $pgsteward$")).toBe(true);
    expect(sql.endsWith('$pgsteward$\n)')).toBe(true);
    const body = sql.slice(sql.indexOf('$pgsteward$') + '$pgsteward$'.length, sql.lastIndexOf('$pgsteward$'));
    expect(body).toBe(script);
    // No requires: pg_tle adds itself; plpgsql is in every database.
    expect(sql).not.toMatch(/ARRAY\[/);
  });

  it('picks a dollar-quote tag the script does not contain', () => {
    expect(dollarTag('select 1')).toBe('$pgsteward$');
    expect(dollarTag('x $pgsteward$ y')).toBe('$pgsteward_1$');
    expect(dollarTag('x $pgsteward$ $pgsteward_1$ y')).toBe('$pgsteward_2$');
    const sql = pgTleInstallStatement({ name: 'e', version: '1', description: "it's", sql: 'SELECT $pgsteward$a$pgsteward$;' });
    expect(sql).toBe("SELECT pgtle.install_extension(\n  'e',\n  '1',\n  'it''s',\n  $pgsteward_1$SELECT $pgsteward$a$pgsteward$;$pgsteward_1$\n)");
  });

  it('passes requires as a text array', () => {
    const sql = pgTleInstallStatement({ name: 'e', version: '1', description: 'd', sql: 'SELECT 1;', requires: ['pgcrypto', "o'k"] });
    expect(sql).toMatch(/,\n {2}ARRAY\['pgcrypto', 'o''k'\]::text\[\]\n\)$/);
  });

  it("refuses a script with pg_tle's own delimiters, which pg_tle would reject as an injection", () => {
    for (const d of ['$_pgtle_o_$', '$_pgtle_i_$']) {
      expect(() => pgTleInstallStatement({ name: 'e', version: '1', description: 'd', sql: `SELECT ${d}x${d};` })).toThrow(/contains \$_pgtle_/);
    }
  });
});
