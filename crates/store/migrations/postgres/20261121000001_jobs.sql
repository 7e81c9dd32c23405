-- Jobs, their files and their finished segments (PostgreSQL).
-- Times come from the database clock (now()), so replicas with skewed clocks agree on leases.

CREATE TABLE jobs (
    id               UUID        PRIMARY KEY,
    status           TEXT        NOT NULL
                     CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    source_lang      TEXT,
    target_lang      TEXT        NOT NULL,
    model            TEXT,
    error_code       TEXT,
    error_message    TEXT,
    attempts         BIGINT      NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_expires_at TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at       TIMESTAMPTZ,
    finished_at      TIMESTAMPTZ
);

CREATE INDEX jobs_status_id ON jobs (status, id);
CREATE INDEX jobs_finished_at ON jobs (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX jobs_lease_owner ON jobs (lease_owner) WHERE lease_owner IS NOT NULL;

CREATE TABLE job_files (
    job_id        UUID    NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    file_index    BIGINT  NOT NULL,
    name          TEXT    NOT NULL,
    format        TEXT,
    input_blob    TEXT    NOT NULL,
    size          BIGINT  NOT NULL,
    extracted     BOOLEAN NOT NULL DEFAULT FALSE,
    total         BIGINT  NOT NULL DEFAULT 0,
    detected_lang TEXT,
    output_blob   TEXT,
    error_code    TEXT,
    error_message TEXT,
    PRIMARY KEY (job_id, file_index)
);

CREATE TABLE job_segments (
    job_id       UUID    NOT NULL,
    file_index   BIGINT  NOT NULL,
    segment_id   BIGINT  NOT NULL,
    content      TEXT    NOT NULL,
    kept_code    TEXT,
    kept_message TEXT,
    PRIMARY KEY (job_id, file_index, segment_id),
    FOREIGN KEY (job_id, file_index) REFERENCES job_files (job_id, file_index) ON DELETE CASCADE
);
