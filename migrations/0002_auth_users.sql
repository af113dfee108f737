-- Normalized auth: identity in users, and one table per concern so OAuth providers,
-- passwords, display data and settings change independently (and GDPR boundaries are clear).

CREATE TABLE users (
    id          uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    email       text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 320),
    slug        text NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 64),
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_slug_key UNIQUE (slug)
);
-- One account per address, whatever its case.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

-- Password authentication: at most one per user.
CREATE TABLE user_credentials (
    id                   uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    user_id              uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_hash        text NOT NULL,
    password_changed_at  timestamptz NOT NULL DEFAULT now(),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_credentials_user_id_key UNIQUE (user_id)
);

-- OAuth: many providers per user, each provider account linked once.
CREATE TABLE user_external_logins (
    id                uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    user_id           uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider          text NOT NULL CHECK (provider ~ '^[a-z0-9_-]{1,32}$'),
    provider_user_id  text NOT NULL CHECK (length(provider_user_id) BETWEEN 1 AND 255),
    provider_email    text,
    last_login_at     timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_external_logins_provider_account_key UNIQUE (provider, provider_user_id)
);
CREATE INDEX user_external_logins_user_id_idx ON user_external_logins (user_id);

-- Display data, 1:1 with users.
CREATE TABLE user_profiles (
    id            uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    display_name  text CHECK (length(display_name) <= 100),
    avatar_url    text,
    bio           text CHECK (length(bio) <= 2000),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_profiles_user_id_key UNIQUE (user_id)
);

-- Settings, 1:1 with users.
CREATE TABLE user_preferences (
    id                   uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    user_id              uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    locale               text NOT NULL DEFAULT 'en',
    timezone             text NOT NULL DEFAULT 'UTC',
    email_notifications  boolean NOT NULL DEFAULT true,
    settings             jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_preferences_user_id_key UNIQUE (user_id)
);

CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER user_credentials_set_updated_at BEFORE UPDATE ON user_credentials
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER user_external_logins_set_updated_at BEFORE UPDATE ON user_external_logins
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER user_profiles_set_updated_at BEFORE UPDATE ON user_profiles
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER user_preferences_set_updated_at BEFORE UPDATE ON user_preferences
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
