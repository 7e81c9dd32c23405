-- Translation memory (SQLite): validated translations of segment cores, owned by a user or a
-- team (exactly one), found by the SHA-256 of their exact key or through an FTS5 trigram index
-- of their normalised plain source. `scope_id` is the owner's id, whichever kind it is, so the
-- exact index serves both. `job_id` becomes NULL when the job is purged and its entries kept.

CREATE TABLE memory_entries (
    id             INTEGER PRIMARY KEY,
    owner_user     BLOB    REFERENCES users (id) ON DELETE CASCADE,
    owner_team     BLOB    REFERENCES teams (id) ON DELETE CASCADE,
    scope_id       BLOB    NOT NULL,
    source_lang    TEXT    NOT NULL,
    target_lang    TEXT    NOT NULL,
    key_hash       BLOB    NOT NULL,
    source_key     TEXT    NOT NULL,
    source         TEXT    NOT NULL,
    target         TEXT    NOT NULL,
    origin         TEXT    NOT NULL CHECK (origin IN ('llm', 'edited', 'imported')),
    model          TEXT,
    prompt_version TEXT,
    job_id         BLOB    REFERENCES jobs (id) ON DELETE SET NULL,
    created_at     INTEGER NOT NULL,
    CHECK ((owner_user IS NULL) <> (owner_team IS NULL))
);

CREATE UNIQUE INDEX memory_exact ON memory_entries (scope_id, source_lang, target_lang, key_hash);
CREATE INDEX memory_by_job ON memory_entries (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX memory_by_user ON memory_entries (owner_user) WHERE owner_user IS NOT NULL;
CREATE INDEX memory_by_team ON memory_entries (owner_team) WHERE owner_team IS NOT NULL;

CREATE VIRTUAL TABLE memory_fts USING fts5 (
    source_key,
    content = 'memory_entries',
    content_rowid = 'id',
    tokenize = 'trigram'
);
-- A deleted entry's tokens are removed from the index pages, not only marked deleted.
INSERT INTO memory_fts (memory_fts, rank) VALUES ('secure-delete', 1);

CREATE TRIGGER memory_fts_insert AFTER INSERT ON memory_entries BEGIN
    INSERT INTO memory_fts (rowid, source_key) VALUES (new.id, new.source_key);
END;
CREATE TRIGGER memory_fts_delete AFTER DELETE ON memory_entries BEGIN
    INSERT INTO memory_fts (memory_fts, rowid, source_key) VALUES ('delete', old.id, old.source_key);
END;
CREATE TRIGGER memory_fts_update AFTER UPDATE OF source_key ON memory_entries BEGIN
    INSERT INTO memory_fts (memory_fts, rowid, source_key) VALUES ('delete', old.id, old.source_key);
    INSERT INTO memory_fts (rowid, source_key) VALUES (new.id, new.source_key);
END;

-- Each job's memory options, set when it is created (none: the defaults, own memory, not kept).
CREATE TABLE memory_job_options (
    job_id       BLOB    PRIMARY KEY NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    memory_scope TEXT    NOT NULL,
    keep_memory  INTEGER NOT NULL
) WITHOUT ROWID;
