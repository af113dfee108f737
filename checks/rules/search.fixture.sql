/* fixture
{
  "findings": ["public.docs.tsv", "public.docs.title", "public.docs.tsv"],
  "remaining": ["public.docs.tsv"],
  "settings": {
    "search": {
      "fullText": [{ "table": "public.docs", "column": "tsv", "config": "english" }, { "table": "public.notes", "column": "body", "config": "english" }],
      "trigram": [{ "table": "public.docs", "column": "title" }, { "table": "public.notes", "column": "body" }],
      "probes": [
        {
          "table": "public.docs",
          "rows": [{ "title": "fox", "body": "The quick brown fox jumps over the lazy dog" }],
          "key": "title",
          "queries": [{ "kind": "full-text", "column": "tsv", "term": "jumping foxes", "expect": "fox" }]
        },
        {
          "table": "public.notes",
          "rows": [{ "body": "The quick brown fox jumps over the lazy dog" }, { "body": "Sphinx of black quartz, judge my vow" }],
          "key": "body",
          "queries": [
            { "kind": "full-text", "column": "body", "term": "jumping foxes", "expect": "The quick brown fox jumps over the lazy dog" },
            { "kind": "ilike", "column": "body", "term": "LAZY D", "expect": "The quick brown fox jumps over the lazy dog" },
            { "kind": "similarity", "column": "body", "term": "quartz judje", "expect": "Sphinx of black quartz, judge my vow" }
          ]
        }
      ]
    }
  }
}
*/
-- Violates search: the tsvector has no GIN index and is built with the 'simple' configuration
-- (so "jumping foxes" never matches "jumps … fox"), and the trigram column has only a btree index.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE docs (
    id     int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title  text NOT NULL,
    body   text NOT NULL,
    tsv    tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, body)) STORED
);
CREATE INDEX docs_title_idx ON docs (title);

-- Configured correctly, for contrast: a GIN index on the expression, and a trigram index.
CREATE TABLE notes (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text NOT NULL);
CREATE INDEX notes_body_fts_idx ON notes USING gin (to_tsvector('english'::regconfig, body));
CREATE INDEX notes_body_trgm_idx ON notes USING gin (body gin_trgm_ops);
