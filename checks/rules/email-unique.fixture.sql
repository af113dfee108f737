/* fixture
{
  "findings": ["public.users.email", "public.members.email"],
  "remaining": ["public.members.email"],
  "settings": {
    "emailColumns": [{ "table": "public.users", "column": "email" }, { "table": "public.members", "column": "email" }],
    "probeRows": { "public.users": { "id": "1", "email": "Probe@Example.test" } }
  }
}
*/
-- Violates email-unique: unique, but only case-sensitively; and a configured column that is missing.
CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL UNIQUE);
CREATE TABLE members (id int PRIMARY KEY, contact text);
