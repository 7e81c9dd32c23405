-- A job's glossary and style options (issue 15): the glossary it names (none: the owner's
-- default for the pair applies when it runs; no foreign key, a deleted glossary is skipped),
-- the formality and the free-form instructions. Gone with the job.
CREATE TABLE job_guidance (
    job_id       BLOB PRIMARY KEY NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    glossary_id  BLOB,
    formality    TEXT NOT NULL,
    instructions TEXT
) WITHOUT ROWID;
