-- One row that `Store::check_writable` rewrites to find out whether a write works now (the
-- readiness probe while a disk is full or read-only).
CREATE TABLE storage_probe (
    id         INTEGER PRIMARY KEY NOT NULL,
    checked_at BIGINT  NOT NULL
);
