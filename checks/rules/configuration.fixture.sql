/* fixture
{
  "findings": ["sales", "public.old_imports", "public.users.mail", "public.phrases.text", "public.docs.tsv", "public.users.nickname", "public.ghosts"],
  "settings": {
    "policies": ["email-case-insensitive", "search"],
    "schemas": ["public", "sales"],
    "ignoreTables": ["public.old_imports", "public._sqlx_migrations"],
    "emailColumns": [{ "table": "public.users", "column": "email" }, { "table": "public.users", "column": "mail" }],
    "search": {
      "fullText": [{ "table": "public.docs", "column": "tsv", "config": "english" }],
      "trigram": [{ "table": "public.phrases", "column": "text" }, { "table": "public.phrases", "column": "body" }],
      "probes": []
    },
    "probeRows": {
      "public.users": { "email": "probe@example.test", "nickname": "probe" },
      "public.ghosts": { "name": "boo" }
    }
  }
}
*/
-- Violates configuration: the settings above name a schema (sales), tables (old_imports, docs,
-- ghosts) and columns (users.mail, users.nickname, phrases.text) this database does not have.
-- Nothing here is wrong with the schema itself, so no fix is SQL: each finding names the key.
CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL);
CREATE TABLE phrases (id int PRIMARY KEY, body text NOT NULL);
