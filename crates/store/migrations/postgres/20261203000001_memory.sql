-- Translation memory (PostgreSQL): see the SQLite migration of the same name for the columns.
-- The fuzzy index is pg_trgm's GIN trigram index. The extension goes into the `public` schema
-- (every statement names it there), so that stores in several schemas of one database share it.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

CREATE TABLE memory_entries (
    id             BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_user     UUID        REFERENCES users (id) ON DELETE CASCADE,
    owner_team     UUID        REFERENCES teams (id) ON DELETE CASCADE,
    scope_id       UUID        NOT NULL,
    source_lang    TEXT        NOT NULL,
    target_lang    TEXT        NOT NULL,
    key_hash       BYTEA       NOT NULL,
    source_key     TEXT        NOT NULL,
    source         TEXT        NOT NULL,
    target         TEXT        NOT NULL,
    origin         TEXT        NOT NULL CHECK (origin IN ('llm', 'edited', 'imported')),
    model          TEXT,
    prompt_version TEXT,
    job_id         UUID        REFERENCES jobs (id) ON DELETE SET NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    CHECK ((owner_user IS NULL) <> (owner_team IS NULL))
);

CREATE UNIQUE INDEX memory_exact ON memory_entries (scope_id, source_lang, target_lang, key_hash);
CREATE INDEX memory_by_job ON memory_entries (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX memory_by_user ON memory_entries (owner_user) WHERE owner_user IS NOT NULL;
CREATE INDEX memory_by_team ON memory_entries (owner_team) WHERE owner_team IS NOT NULL;
CREATE INDEX memory_fuzzy ON memory_entries USING gin (source_key public.gin_trgm_ops);

CREATE TABLE memory_job_options (
    job_id       UUID    PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    memory_scope TEXT    NOT NULL,
    keep_memory  BOOLEAN NOT NULL
);
