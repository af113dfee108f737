/* fixture
{
  "findings": ["public.events_kind_again_idx", "public.events_kind_idx", "public.events_code_idx"]
}
*/
-- Violates duplicate-indexes: an exact duplicate, a plain index duplicating a unique
-- constraint, and a plain index whose columns lead a wider one.
CREATE TABLE events (id int PRIMARY KEY, kind text, happened_at timestamptz, code text);
CREATE INDEX events_kind_idx ON events (kind);
CREATE INDEX events_kind_again_idx ON events (kind);
CREATE INDEX events_kind_time_idx ON events (kind, happened_at);

ALTER TABLE events ADD CONSTRAINT events_code_key UNIQUE (code);
CREATE INDEX events_code_idx ON events (code);

-- Not redundant: different predicate, different method, and a unique index that is not a prefix.
CREATE INDEX events_recent_kind_idx ON events (kind) WHERE happened_at > '2024-01-01';
CREATE INDEX events_code_hash_idx ON events USING hash (code);
