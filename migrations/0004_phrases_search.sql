-- Phrases with full-text search (a tsvector the database keeps, GIN-indexed) and a trigram
-- index for partial and misspelled matches: no external search engine.

CREATE TABLE phrases (
    id          uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    -- Phrases outlive their author's account.
    created_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    text        text NOT NULL CHECK (length(text) BETWEEN 1 AND 10000),
    search      tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, text)) STORED,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX phrases_created_by_idx ON phrases (created_by);
CREATE INDEX phrases_search_idx ON phrases USING gin (search);
CREATE INDEX phrases_text_trgm_idx ON phrases USING gin (text gin_trgm_ops);

CREATE TRIGGER phrases_set_updated_at BEFORE UPDATE ON phrases
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
