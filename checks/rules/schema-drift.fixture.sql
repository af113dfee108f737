/* fixture
{
  "migrated": true,
  "repair": "restore",
  "findings": [
    "public.users",
    "public.user_profiles.avatar_url",
    "public.users_created_at_idx",
    "public.phrases_created_by_idx",
    "users_set_updated_at on public.users"
  ],
  "remaining": []
}
*/
-- Violates schema-drift: the database is first set up by setup-db with the project's
-- migrations; these are the changes then made by hand, as a console or an incident makes them.

-- extra: an index no migration creates.
CREATE INDEX users_created_at_idx ON users (created_at);
-- missing: an index the migrations create, dropped.
DROP INDEX phrases_created_by_idx;
-- changed: a column default.
ALTER TABLE user_profiles ALTER COLUMN avatar_url SET DEFAULT 'https://example.test/a.png';
-- changed: a privilege granted from a console.
GRANT TRUNCATE ON users TO __DB___app;
-- changed: a trigger disabled during an incident and never re-enabled.
ALTER TABLE users DISABLE TRIGGER users_set_updated_at;
