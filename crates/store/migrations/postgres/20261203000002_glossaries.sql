-- Glossaries (PostgreSQL): term bases for one language pair, owned by a user or a team, and
-- their entries in order. Deleting the owner (user or team) deletes its glossaries, and a
-- glossary its entries (ON DELETE CASCADE). Times are written by the application.

CREATE TABLE glossaries (
    id          UUID        PRIMARY KEY,
    owner_user  UUID        REFERENCES users (id) ON DELETE CASCADE,
    owner_team  UUID        REFERENCES teams (id) ON DELETE CASCADE,
    name        TEXT        NOT NULL,
    source_lang TEXT        NOT NULL,
    target_lang TEXT        NOT NULL,
    is_default  BOOLEAN     NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    CHECK ((owner_user IS NULL) <> (owner_team IS NULL))
);

CREATE INDEX glossaries_owner_user ON glossaries (owner_user);
CREATE INDEX glossaries_owner_team ON glossaries (owner_team);

CREATE TABLE glossary_entries (
    glossary_id      UUID    NOT NULL REFERENCES glossaries (id) ON DELETE CASCADE,
    position         BIGINT  NOT NULL,
    source_term      TEXT    NOT NULL,
    target_term      TEXT    NOT NULL,
    do_not_translate BOOLEAN NOT NULL,
    case_sensitive   BOOLEAN NOT NULL,
    note             TEXT,
    PRIMARY KEY (glossary_id, position)
);
