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
