-- Jobs, their files and their finished segments (SQLite).
-- Identifiers are UUID v7 as 16-byte BLOBs (byte order = creation order); times are Unix
-- milliseconds (INTEGER), so comparisons and ordering are plain integer comparisons.

CREATE TABLE jobs (
    id               BLOB    PRIMARY KEY NOT NULL,
    status           TEXT    NOT NULL
                     CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    source_lang      TEXT,
    target_lang      TEXT    NOT NULL,
    model            TEXT,
    error_code       TEXT,
    error_message    TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER
);

CREATE INDEX jobs_status_id ON jobs (status, id);
CREATE INDEX jobs_finished_at ON jobs (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX jobs_lease_owner ON jobs (lease_owner) WHERE lease_owner IS NOT NULL;

CREATE TABLE job_files (
    job_id        BLOB    NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    file_index    INTEGER NOT NULL,
    name          TEXT    NOT NULL,
    format        TEXT,
    input_blob    TEXT    NOT NULL,
    size          INTEGER NOT NULL,
    extracted     INTEGER NOT NULL DEFAULT 0,
    total         INTEGER NOT NULL DEFAULT 0,
    detected_lang TEXT,
    output_blob   TEXT,
    error_code    TEXT,
    error_message TEXT,
    PRIMARY KEY (job_id, file_index)
) WITHOUT ROWID;

CREATE TABLE job_segments (
    job_id       BLOB    NOT NULL,
    file_index   INTEGER NOT NULL,
    segment_id   INTEGER NOT NULL,
    content      TEXT    NOT NULL,
    kept_code    TEXT,
    kept_message TEXT,
    PRIMARY KEY (job_id, file_index, segment_id),
    FOREIGN KEY (job_id, file_index) REFERENCES job_files (job_id, file_index) ON DELETE CASCADE
) WITHOUT ROWID;
