import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureRun, objects, runOne } from '../test-support.ts';
import type { CheckResult } from '../types.ts';
import { fullTextIndex, indexesInPlan, judgeSearchColumns, probeQuery, trigramIndex } from './search.ts';

const FOX = 'The quick brown fox jumps over the lazy dog';

describe('search', () => {
  let r: CheckResult;
  beforeAll(async () => {
    // The fixture configures docs.tsv and notes.body for full-text, docs.title and notes.body
    // for trigram search, and probes on both tables.
    const { opts } = await fixtureRun(new URL('./search.fixture.sql', import.meta.url));
    r = await runOne('search', opts);
  });

  it('fails and names the unindexed columns and the probe that found nothing', () => {
    expect(r.status).toBe('failed');
    expect(objects(r)).toEqual(['public.docs.tsv', 'public.docs.title', 'public.docs.tsv']);
    expect(r.findings[0]!.fix).toBe('CREATE INDEX CONCURRENTLY IF NOT EXISTS docs_tsv_idx ON public.docs USING gin (tsv);');
    expect(r.findings[1]!.fix).toContain('USING gin (title gin_trgm_ops)');
    expect(r.findings[2]!.message).toMatch(/full-text "jumping foxes" .* did not find "fox"/);
  });

  it('passes a correctly indexed table: the planner uses its indexes and the probes hit, misspelling included', () => {
    expect(r.passed).toEqual(
      expect.arrayContaining([
        'public.notes.body: the planner uses public.notes_body_fts_idx for @@',
        "public.notes.body: the planner uses public.notes_body_trgm_idx for ILIKE '%…%'",
        `public.notes.body: full-text "jumping foxes" finds "${FOX}"`,
        'public.notes.body: similarity to misspelled "quartz judje" finds "Sphinx of black quartz, judge my vow"',
      ]),
    );
  });
});

describe('search helpers', () => {
  const ix = (am: string, keys: string[], classes: string[], usable = true) => ({ name: `public.${keys[0]}`, relname: keys[0]!, am, keys, classes, usable });
  it('finds GIN full-text indexes on the column or a to_tsvector expression', () => {
    expect(fullTextIndex([ix('gin', ['search'], ['tsvector_ops'])], 'search')?.expression).toBe('search');
    expect(fullTextIndex([ix('gin', ["to_tsvector('english'::regconfig, body)"], ['tsvector_ops'])], 'body')?.expression).toBe("to_tsvector('english'::regconfig, body)");
    expect(fullTextIndex([ix('btree', ['search'], ['tsvector_ops'])], 'search')).toBeUndefined();
    expect(fullTextIndex([ix('gin', ['search'], ['tsvector_ops'], false)], 'search')).toBeUndefined();
  });
  it('finds trigram indexes by operator class', () => {
    expect(trigramIndex([ix('gin', ['text'], ['gin_trgm_ops'])], 'text')).toBeTruthy();
    expect(trigramIndex([ix('gist', ['text'], ['gist_trgm_ops'])], 'text')).toBeTruthy();
    expect(trigramIndex([ix('btree', ['text'], ['text_ops'])], 'text')).toBeUndefined();
  });
  it('reads index names out of an EXPLAIN plan', () => {
    const plan = [{ Plan: { 'Node Type': 'Bitmap Heap Scan', Plans: [{ 'Node Type': 'Bitmap Index Scan', 'Index Name': 'phrases_search_idx' }] } }];
    expect(indexesInPlan(plan)).toEqual(['phrases_search_idx']);
  });
});

describe('search SQL', () => {
  it('quotes identifiers with ident() and literals with literal(), never by hand', () => {
    const q = probeQuery({ kind: 'ilike', column: 'Body "text"', term: '50%_off', expect: 'x' }, 'public."Docs"', 'Title', undefined, 'english');
    expect(q.text).toBe('SELECT "Title"::text AS hit FROM public."Docs" WHERE "Body ""text""" ILIKE $1');
    expect(q.params).toEqual(['%50\\%\\_off%']);
    const out = judgeSearchColumns(
      [{ kind: 'full-text', key: 'public.docs', raw_table: 'docs', raw_column: 'body', tbl: 'public.docs', table_exists: true, column: 'body', type: 'text', indexes: [] }],
      { search: { fullText: [{ table: 'public.docs', column: 'body', config: "o'brien" }], trigram: [], probes: [] } },
    );
    expect(out.findings[0]!.fix).toBe("CREATE INDEX CONCURRENTLY IF NOT EXISTS docs_body_idx ON public.docs USING gin (to_tsvector('o''brien', body));");
  });
});
