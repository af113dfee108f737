import { describe, expect, it } from 'vitest';
import { splitToc } from './toc.ts';

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
});
