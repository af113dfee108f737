-- Role-based access control: roles, and the many-to-many user_roles.

CREATE TABLE roles (
    id           uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    name         text NOT NULL CHECK (name ~ '^[a-z][a-z0-9-]{0,62}$'),
    description  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT roles_name_key UNIQUE (name)
);

CREATE TABLE user_roles (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- A role in use cannot be deleted out from under its holders.
    role_id     uuid NOT NULL REFERENCES roles (id) ON DELETE RESTRICT,
    granted_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_role_id_idx ON user_roles (role_id);
CREATE INDEX user_roles_granted_by_idx ON user_roles (granted_by);

CREATE TRIGGER roles_set_updated_at BEFORE UPDATE ON roles
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

INSERT INTO roles (name, description) VALUES
    ('user', 'Base role held by every account'),
    ('email-verified', 'Verified identity'),
    ('trusted-contact', 'Access to personal content'),
    ('admin', 'Full system access');

-- The base role is immutable: the database refuses to rename or delete it, whoever asks.
-- Its search_path is pinned, so a caller's path cannot swap the = it compares with.
CREATE FUNCTION protect_base_role() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    RAISE EXCEPTION 'the roles table cannot be truncated: the base role "user" is immutable'
      USING ERRCODE = 'restrict_violation';
  END IF;
  IF OLD.name = 'user' AND (TG_OP = 'DELETE' OR NEW.name IS DISTINCT FROM OLD.name) THEN
    RAISE EXCEPTION 'the base role "user" is immutable'
      USING ERRCODE = 'restrict_violation', HINT = 'create a new role instead';
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER roles_protect_base_role BEFORE UPDATE OR DELETE ON roles
    FOR EACH ROW EXECUTE FUNCTION protect_base_role();
CREATE TRIGGER roles_protect_truncate BEFORE TRUNCATE ON roles
    FOR EACH STATEMENT EXECUTE FUNCTION protect_base_role();
