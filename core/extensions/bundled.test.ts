import { describe, expect, it } from 'vitest';
import { parseControl, pgUuidv7 } from './bundled.ts';

describe('bundled extensions', () => {
  it('parses control files: quoted values, comments, booleans, requires', () => {
    expect(parseControl("# c\ncomment = 'it''s = here'  \ndefault_version = '2.0'\nrelocatable = false\ntrusted = true\nrequires = 'a, b'\n")).toEqual({
      comment: "it's = here",
      defaultVersion: '2.0',
      relocatable: false,
      trusted: true,
      requires: ['a', 'b'],
    });
    expect(() => parseControl('what is this')).toThrow(/not a control-file line/);
  });

  it('pg_uuidv7 is version 1.6, relocatable like the C one, trusted, pure SQL (no module_pathname)', () => {
    const e = pgUuidv7();
    expect(e.version).toBe('1.6');
    expect(e.control).toMatchObject({ defaultVersion: '1.6', relocatable: true, trusted: true, requires: [] });
    expect(e.files.map((f) => f.name)).toEqual(['pg_uuidv7.control', 'pg_uuidv7--1.6.sql']);
    expect(e.script).not.toMatch(/MODULE_PATHNAME|LANGUAGE\s+c\b|LANGUAGE\s+internal/i);
    // A SET clause would stop the planner from inlining the SQL bodies.
    expect(e.script).not.toMatch(/\bSET\s+search_path/i);
  });
});
