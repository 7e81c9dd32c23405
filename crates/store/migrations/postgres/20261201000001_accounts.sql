-- Accounts (PostgreSQL): users and teams, sign-in sessions and API keys, the audit log, daily
-- usage for quotas, sign-in failures for throttling, and each job's owner.
-- These tables' times are written by the application, not by now() (the statements are shared
-- with SQLite; see the store's `sql` module); token hashes are 32-byte SHA-256 values (the
-- tokens themselves are never stored).
-- `login_key` and `name_key` hold the name in lower case (folded by the application, the same
-- way on both databases): that is what makes them unique whatever the letter case.

CREATE TABLE users (
    id                          UUID        PRIMARY KEY,
    login                       TEXT        NOT NULL,
    login_key                   TEXT        NOT NULL,
    display_name                TEXT        NOT NULL,
    email                       TEXT,
    role                        TEXT        NOT NULL CHECK (role IN ('user', 'admin')),
    state                       TEXT        NOT NULL CHECK (state IN ('active', 'disabled')),
    password_hash               TEXT,
    oidc_issuer                 TEXT,
    oidc_subject                TEXT,
    quota_chars_per_day         BIGINT,
    quota_chars_per_month       BIGINT,
    quota_documents_in_progress BIGINT,
    quota_upload_bytes          BIGINT,
    created_at                  TIMESTAMPTZ NOT NULL,
    last_sign_in_at             TIMESTAMPTZ,
    CHECK ((oidc_issuer IS NULL) = (oidc_subject IS NULL))
);

CREATE UNIQUE INDEX users_login_key_unique ON users (login_key);
CREATE UNIQUE INDEX users_oidc_unique ON users (oidc_issuer, oidc_subject);

CREATE TABLE teams (
    id         UUID        PRIMARY KEY,
    name       TEXT        NOT NULL,
    name_key   TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE UNIQUE INDEX teams_name_key_unique ON teams (name_key);

CREATE TABLE team_members (
    team_id UUID NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
);

CREATE INDEX team_members_user ON team_members (user_id);

CREATE TABLE sessions (
    id           UUID        PRIMARY KEY,
    user_id      UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   BYTEA       NOT NULL,
    csrf_hash    BYTEA       NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL
);

CREATE UNIQUE INDEX sessions_token_hash_unique ON sessions (token_hash);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE api_keys (
    id           UUID        PRIMARY KEY,
    user_id      UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT        NOT NULL,
    key_hash     BYTEA       NOT NULL,
    prefix       TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);

CREATE UNIQUE INDEX api_keys_key_hash_unique ON api_keys (key_hash);
CREATE INDEX api_keys_user ON api_keys (user_id, id);

-- No foreign key on `actor`: an entry outlives the user it names.
CREATE TABLE audit_log (
    id          UUID        PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    actor       UUID,
    action      TEXT        NOT NULL,
    object_id   TEXT,
    remote_addr TEXT,
    detail      JSONB
);

CREATE INDEX audit_log_at_id ON audit_log (at, id);

CREATE TABLE daily_usage (
    user_id    UUID   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day        DATE   NOT NULL,
    characters BIGINT NOT NULL,
    PRIMARY KEY (user_id, day)
);

CREATE INDEX daily_usage_day ON daily_usage (day);

CREATE TABLE sign_in_failures (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login_key   TEXT,
    remote_addr TEXT,
    at          TIMESTAMPTZ NOT NULL
);

CREATE INDEX sign_in_failures_login ON sign_in_failures (login_key, at);
CREATE INDEX sign_in_failures_addr ON sign_in_failures (remote_addr, at);
CREATE INDEX sign_in_failures_at ON sign_in_failures (at);

-- Jobs created before accounts existed have no owner; the first administrator adopts them.
ALTER TABLE jobs ADD COLUMN owner UUID REFERENCES users (id) ON DELETE CASCADE;

CREATE INDEX jobs_owner_id ON jobs (owner, id);
