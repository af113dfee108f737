/* fixture
{
  "findings": [
    "public.forgotten", "public.stuck", "public.switched_off.switched_off_set_updated_at",
    "public.tags.tags_set_updated_at", "public.too_late.too_late_set_updated_at"
  ],
  "remaining": [],
  "settings": { "probeRows": { "public.good": { "id": "1", "name": "a" }, "public.stuck": { "id": "1", "name": "a" } } }
}
*/
-- Violates updated-at-triggers in every way it knows.
CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END $$;

-- Looks right, but writes the old value back: only the probe can tell.
CREATE FUNCTION keep_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at = OLD.updated_at;
  RETURN NEW;
END $$;

CREATE TABLE good (id int PRIMARY KEY, name text, updated_at timestamptz NOT NULL DEFAULT now());
CREATE TRIGGER good_set_updated_at BEFORE UPDATE ON good FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE forgotten (id int PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT now());

CREATE TABLE too_late (id int PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT now());
CREATE TRIGGER too_late_set_updated_at AFTER UPDATE ON too_late FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE switched_off (id int PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT now());
CREATE TRIGGER switched_off_set_updated_at BEFORE UPDATE ON switched_off FOR EACH ROW EXECUTE FUNCTION set_updated_at();
ALTER TABLE switched_off DISABLE TRIGGER switched_off_set_updated_at;

-- No updated_at column, yet the trigger: every UPDATE fails.
CREATE TABLE tags (id int PRIMARY KEY, label text);
CREATE TRIGGER tags_set_updated_at BEFORE UPDATE ON tags FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE stuck (id int PRIMARY KEY, name text, updated_at timestamptz NOT NULL DEFAULT now());
CREATE TRIGGER stuck_set_updated_at BEFORE UPDATE ON stuck FOR EACH ROW EXECUTE FUNCTION keep_updated_at();
