-- A job's brief (issue 15): what the user said the document is (none: each file's own title
-- is the brief), and the title each file records (read at extraction, shown in the job view).
ALTER TABLE job_guidance ADD COLUMN brief TEXT;
ALTER TABLE job_files ADD COLUMN title TEXT;
