import { describe, expect, it } from 'vitest';
import { annotationOf, destructiveStatements, typeChangesIn } from './data-preservation.ts';

const kinds = (sql: string, types: Record<string, string> = {}) =>
  destructiveStatements(sql, (t, c) => types[`${t.join('.')}.${c}`]).map((d) => [d.kind, d.object, d.reason ?? null]);

describe('data-preservation policy', () => {
  it('flags every destructive statement', () => {
    expect(
      kinds(`DROP TABLE a, public.b CASCADE;
DROP TABLE IF EXISTS "Odd Name";
DROP SCHEMA old CASCADE;
ALTER TABLE ONLY t DROP COLUMN c, DROP d, DROP CONSTRAINT k, ADD COLUMN e int;
ALTER TABLE t DROP IF EXISTS f;
TRUNCATE TABLE ONLY x, y RESTART IDENTITY;
DELETE FROM z;
WITH moved AS (DELETE FROM q RETURNING *) INSERT INTO q_archive SELECT * FROM moved;`),
    ).toEqual([
      ['drop-table', 'a', null],
      ['drop-table', 'public.b', null],
      ['drop-table', '"Odd Name"', null],
      ['drop-schema', 'old', null],
      ['drop-column', 't.c', null],
      ['drop-column', 't.d', null],
      ['drop-column', 't.f', null],
      ['truncate', 'x', null],
      ['truncate', 'y', null],
      ['delete-all', 'z', null],
      ['delete-all', 'q', null],
    ]);
  });

  it('leaves safe statements alone', () => {
    expect(
      kinds(`DELETE FROM z WHERE id = 1;
WITH d AS (DELETE FROM q WHERE old RETURNING *) SELECT count(*) FROM d;
DROP SCHEMA empty;
DROP INDEX idx;
ALTER TABLE t DROP CONSTRAINT k, ALTER COLUMN c SET DEFAULT 1;
CREATE TABLE c (p int REFERENCES p ON DELETE CASCADE);
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON roles FOR EACH STATEMENT EXECUTE FUNCTION f();
CREATE FUNCTION purge() RETURNS void LANGUAGE sql AS $$ DELETE FROM z $$;
SELECT 'DROP TABLE users';
-- DROP TABLE users;`),
    ).toEqual([]);
  });

  it('judges type changes by the current type, and distrusts unknown ones', () => {
    const types = { 'accounts.name': 'character varying(100)', 'public.accounts.n': 'integer' };
    expect(kinds('ALTER TABLE accounts ALTER COLUMN name TYPE varchar(200);', types)).toEqual([]);
    expect(kinds('ALTER TABLE accounts ALTER name SET DATA TYPE varchar(10) USING left(name, 10);', types)).toEqual([['type-change', 'accounts.name', null]]);
    expect(kinds('ALTER TABLE public.accounts ALTER COLUMN n TYPE smallint;', types)).toEqual([['type-change', 'public.accounts.n', null]]);
    expect(kinds('ALTER TABLE ghosts ALTER COLUMN n TYPE bigint;', types)).toEqual([['type-change', 'ghosts.n', null]]);
    expect(typeChangesIn('ALTER TABLE a ALTER COLUMN b TYPE numeric(10, 2) USING b::numeric;')).toEqual([{ table: ['a'], column: 'b', to: 'numeric(10, 2)' }]);
  });

  it('looks inside DO blocks, including EXECUTE strings', () => {
    expect(kinds(`DO $$ BEGIN IF true THEN DROP TABLE a; END IF; EXECUTE 'TRUNCATE b'; END $$;`)).toEqual([
      ['drop-table', 'a', null],
      ['truncate', 'b', null],
    ]);
  });

  it('accepts a reason given before, inside or after the statement', () => {
    expect(
      kinds(`-- destructive: replaced by accounts_v2 (OPS-1)
DROP TABLE a;
TRUNCATE b; -- destructive: cache table, refilled on start
DELETE /* destructive: demo rows */ FROM c;`),
    ).toEqual([
      ['drop-table', 'a', 'replaced by accounts_v2 (OPS-1)'],
      ['truncate', 'b', 'cache table, refilled on start'],
      ['delete-all', 'c', 'demo rows'],
    ]);
  });

  it('does not accept an annotation without a reason', () => {
    const [d] = destructiveStatements('-- destructive:\nDROP TABLE a;');
    expect(d!.reason).toBeUndefined();
    expect(d!.emptyReason).toBe(true);
    expect(annotationOf(['-- Destructive: because'])).toEqual({ reason: 'because', emptyReason: false });
  });
});
