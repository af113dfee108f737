import { describe, expect, it } from 'vitest';
import { readName, splitStatements, splitTopLevel, tokenize } from './sql-text.ts';

describe('splitStatements', () => {
  it('splits at top-level semicolons only', () => {
    const sql = `SELECT ';' AS a; -- not ; here
SELECT "x;y" FROM t /* ; nested /* ; */ */;
DO $body$ BEGIN PERFORM 1; END $body$;
CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 2; END;
SELECT E'it\\'s; fine'`;
    const s = splitStatements(sql);
    expect(s.map((x) => x.text.split('\n')[0]!.slice(0, 20).trim())).toEqual(["SELECT ';' AS a", 'SELECT "x;y" FROM t', 'DO $body$ BEGIN PERF', 'CREATE FUNCTION f()', "SELECT E'it\\'s; fine"]);
    expect(s.map((x) => x.line)).toEqual([1, 2, 3, 4, 5]);
  });

  it('gives each statement the comments before it, and a comment trailing its semicolon', () => {
    const s = splitStatements(`-- first\nSELECT 1; -- trails first\n\n-- before second\nSELECT 2;`);
    expect(s[0]!.comments).toEqual(['-- first', '-- trails first']);
    expect(s[1]!.comments).toEqual(['-- before second']);
  });

  it('keeps a statement without a final semicolon', () => {
    expect(splitStatements('SELECT 1;\nSELECT 2').map((x) => x.text)).toEqual(['SELECT 1', 'SELECT 2']);
  });
});

describe('tokens and names', () => {
  it('lower-cases words and unquotes identifiers', () => {
    const t = tokenize('ALTER TABLE "My Table" DROP x').filter((x) => x.kind !== 'comment');
    expect(t.map((x) => x.text)).toEqual(['alter', 'table', 'My Table', 'drop', 'x']);
    expect(readName(tokenize('public.users x'), 0)).toEqual({ parts: ['public', 'users'], next: 3 });
  });

  it('splits lists at depth-zero commas', () => {
    const parts = splitTopLevel(tokenize('a numeric(10, 2), b int'));
    expect(parts.map((p) => p.map((x) => x.raw).join(' '))).toEqual(['a numeric ( 10 , 2 )', 'b int']);
  });
});
