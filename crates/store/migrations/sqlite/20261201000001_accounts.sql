-- Accounts (SQLite): users and teams, sign-in sessions and API keys, the audit log, daily usage
-- for quotas, sign-in failures for throttling, and each job's owner.
-- Identifiers are UUID v7 BLOBs, times Unix milliseconds (INTEGER), token hashes 32-byte SHA-256
-- BLOBs (the tokens themselves are never stored), days 'YYYY-MM-DD' TEXT.
-- `login_key` and `name_key` hold the name in lower case (folded by the application, the same
-- way on both databases): that is what makes them unique whatever the letter case.

CREATE TABLE users (
    id                          BLOB    PRIMARY KEY NOT NULL,
    login                       TEXT    NOT NULL,
    login_key                   TEXT    NOT NULL,
    display_name                TEXT    NOT NULL,
    email                       TEXT,
    role                        TEXT    NOT NULL CHECK (role IN ('user', 'admin')),
    state                       TEXT    NOT NULL CHECK (state IN ('active', 'disabled')),
    password_hash               TEXT,
    oidc_issuer                 TEXT,
    oidc_subject                TEXT,
    quota_chars_per_day         INTEGER,
    quota_chars_per_month       INTEGER,
    quota_documents_in_progress INTEGER,
    quota_upload_bytes          INTEGER,
    created_at                  INTEGER NOT NULL,
    last_sign_in_at             INTEGER,
    CHECK ((oidc_issuer IS NULL) = (oidc_subject IS NULL))
);

CREATE UNIQUE INDEX users_login_key_unique ON users (login_key);
CREATE UNIQUE INDEX users_oidc_unique ON users (oidc_issuer, oidc_subject);

CREATE TABLE teams (
    id         BLOB    PRIMARY KEY NOT NULL,
    name       TEXT    NOT NULL,
    name_key   TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE UNIQUE INDEX teams_name_key_unique ON teams (name_key);

CREATE TABLE team_members (
    team_id BLOB NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
) WITHOUT ROWID;

CREATE INDEX team_members_user ON team_members (user_id);

CREATE TABLE sessions (
    id           BLOB    PRIMARY KEY NOT NULL,
    user_id      BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   BLOB    NOT NULL,
    csrf_hash    BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);

CREATE UNIQUE INDEX sessions_token_hash_unique ON sessions (token_hash);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE api_keys (
    id           BLOB    PRIMARY KEY NOT NULL,
    user_id      BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    key_hash     BLOB    NOT NULL,
    prefix       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

CREATE UNIQUE INDEX api_keys_key_hash_unique ON api_keys (key_hash);
CREATE INDEX api_keys_user ON api_keys (user_id, id);

-- No foreign key on `actor`: an entry outlives the user it names.
CREATE TABLE audit_log (
    id          BLOB    PRIMARY KEY NOT NULL,
    at          INTEGER NOT NULL,
    actor       BLOB,
    action      TEXT    NOT NULL,
    object_id   TEXT,
    remote_addr TEXT,
    detail      TEXT
);

CREATE INDEX audit_log_at_id ON audit_log (at, id);

CREATE TABLE daily_usage (
    user_id    BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day        TEXT    NOT NULL,
    characters INTEGER NOT NULL,
    PRIMARY KEY (user_id, day)
) WITHOUT ROWID;

CREATE INDEX daily_usage_day ON daily_usage (day);

CREATE TABLE sign_in_failures (
    id          INTEGER PRIMARY KEY,
    login_key   TEXT,
    remote_addr TEXT,
    at          INTEGER NOT NULL
);

CREATE INDEX sign_in_failures_login ON sign_in_failures (login_key, at);
CREATE INDEX sign_in_failures_addr ON sign_in_failures (remote_addr, at);
CREATE INDEX sign_in_failures_at ON sign_in_failures (at);

-- Jobs created before accounts existed have no owner; the first administrator adopts them.
ALTER TABLE jobs ADD COLUMN owner BLOB REFERENCES users (id) ON DELETE CASCADE;

CREATE INDEX jobs_owner_id ON jobs (owner, id);
