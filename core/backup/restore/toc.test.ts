import { describe, expect, it } from 'vitest';
import { splitToc, tocExtensions } from './toc.ts';

describe('splitToc', () => {
  it('puts schemas, extensions and their comments on the administrator, the rest on the owner', () => {
    const list = [
      ';',
      '; Archive created at 2026-12-01 22:33:01 UTC',
      '6; 2615 16390 SCHEMA - audit app_owner',
      '3400; 0 0 COMMENT - SCHEMA audit app_owner',
      '2; 3079 16386 EXTENSION - pg_trgm ',
      '3395; 0 0 COMMENT - EXTENSION pg_trgm ',
      '215; 1259 16467 TABLE public t app_owner',
      '3396; 0 0 COMMENT public TABLE t app_owner',
      '3387; 0 16467 TABLE DATA public t app_owner',
      '3401; 0 0 ACL - SCHEMA audit app_owner',
    ].join('\n');
    const s = splitToc(list);
    expect(s.admin).toEqual(['6; 2615 16390 SCHEMA - audit app_owner', '3400; 0 0 COMMENT - SCHEMA audit app_owner', '2; 3079 16386 EXTENSION - pg_trgm', '3395; 0 0 COMMENT - EXTENSION pg_trgm']);
    expect(s.owner).toEqual(['215; 1259 16467 TABLE public t app_owner', '3396; 0 0 COMMENT public TABLE t app_owner', '3387; 0 16467 TABLE DATA public t app_owner', '3401; 0 0 ACL - SCHEMA audit app_owner']);
    expect(s.schemas).toEqual(['audit']);
  });

  it("restores pg_tle's registration functions as the administrator, before the extension they register", () => {
    const list = [
      '2; 3079 16386 EXTENSION - pg_tle ',
      '219; 1255 16386 FUNCTION pgtle pg_uuidv7.control() rds_admin',
      '220; 1255 16387 FUNCTION pgtle pg_uuidv7--1.6.sql() rds_admin',
      '3; 3079 16388 EXTENSION - pg_uuidv7 ',
      '230; 1255 16402 FUNCTION public touch_updated_at() app_owner',
    ].join('\n');
    const s = splitToc(list);
    expect(s.admin).toEqual(['2; 3079 16386 EXTENSION - pg_tle', '219; 1255 16386 FUNCTION pgtle pg_uuidv7.control() rds_admin', '220; 1255 16387 FUNCTION pgtle pg_uuidv7--1.6.sql() rds_admin', '3; 3079 16388 EXTENSION - pg_uuidv7']);
    expect(s.owner).toEqual(['230; 1255 16402 FUNCTION public touch_updated_at() app_owner']);
  });
});

describe('tocExtensions', () => {
  it('names the extensions a dump creates and those whose pg_tle registration it carries', () => {
    expect(tocExtensions(['; Archive created at 2026-12-01', '2; 3079 16388 EXTENSION - pg_uuidv7 ', '3280; 0 0 COMMENT - EXTENSION pg_uuidv7 ', '4; 3079 1 EXTENSION - pg_trgm '].join('\n'))).toEqual({
      created: ['pg_uuidv7', 'pg_trgm'],
      registeredViaPgTle: [],
    });
    expect(
      tocExtensions(['2; 3079 16386 EXTENSION - pg_tle ', '219; 1255 16386 FUNCTION pgtle pg_uuidv7.control() rds_admin', '220; 1255 16387 FUNCTION pgtle pg_uuidv7--1.6.sql() rds_admin', '3; 3079 16388 EXTENSION - pg_uuidv7 '].join('\n')),
    ).toEqual({ created: ['pg_tle', 'pg_uuidv7'], registeredViaPgTle: ['pg_uuidv7'] });
    // A function that merely looks like one, outside pg_tle's schema, registers nothing.
    expect(tocExtensions('219; 1255 16386 FUNCTION public pg_uuidv7.control() app_owner').registeredViaPgTle).toEqual([]);
  });
});
