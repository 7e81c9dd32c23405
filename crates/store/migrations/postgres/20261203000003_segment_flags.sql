-- What happened to each saved segment on its way (issue 15, the quality report): a JSON array
-- of `tradia_core::SegmentFlag` (`[{"flag":"codes_repaired"}, …]`). Rows saved before have none.
ALTER TABLE job_segments ADD COLUMN flags TEXT NOT NULL DEFAULT '[]';
