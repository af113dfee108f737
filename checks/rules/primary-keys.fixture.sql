/* fixture
{
  "findings": ["public.no_key", "public.random_key.id", "public.serial_key.id", "uuid_generate_v7()", "public.fake_v7.id"],
  "remaining": ["public.no_key", "public.serial_key.id", "uuid_generate_v7()", "public.fake_v7.id"],
  "settings": { "probeRows": { "public.fake_v7": { "label": "probe" } } }
}
*/
-- Violates primary-keys: a table without a key, a random (v4) uuid key, an identity key,
-- and a "uuid_generate_v7()" that really returns v4 (only the probe can tell).
CREATE FUNCTION uuid_generate_v7() RETURNS uuid LANGUAGE sql VOLATILE AS 'SELECT gen_random_uuid()';

CREATE TABLE no_key (name text NOT NULL);
CREATE UNIQUE INDEX no_key_name_key ON no_key (name);

CREATE TABLE random_key (id uuid PRIMARY KEY DEFAULT gen_random_uuid());
CREATE TABLE serial_key (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
CREATE TABLE fake_v7 (id uuid PRIMARY KEY DEFAULT uuid_generate_v7(), label text NOT NULL);

-- Not surrogate keys, so not judged: a composite key, and a key that is also a foreign key.
CREATE TABLE pairs (a int, b int, PRIMARY KEY (a, b));
CREATE TABLE fake_v7_extra (id uuid PRIMARY KEY REFERENCES fake_v7 (id));
