/* fixture
{
  "findings": ["public.users.email"],
  "settings": {
    "emailColumns": [{ "table": "public.users", "column": "email" }, { "table": "public.members", "column": "email" }, { "table": "public.admins", "column": "email" }],
    "probeRows": { "public.users": { "id": "1", "email": "Probe@Example.test" } }
  }
}
*/
-- Violates email-unique: unique, but only case-sensitively. members.email is configured but
-- missing, which is the configuration check's finding, not this one's; admins.email is
-- guarded and has no probe row, so it is judged by the catalog alone.
CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL UNIQUE);
CREATE TABLE members (id int PRIMARY KEY, contact text);
CREATE TABLE admins (id int PRIMARY KEY, email text NOT NULL);
CREATE UNIQUE INDEX admins_email_lower_key ON admins (lower(email));
