-- Virus scanning (internal/scan): each file's scan state.
--
-- unscanned: stored while scanning was off (SCAN_MODE=off), and every file
-- that existed before this migration; pending: waiting for its scan; clean,
-- infected (scan_signature names what was found), failed (the scan gave up
-- after its retries), skipped (larger than the scanner's limit).
-- With SCAN_MODE=required only clean files are served (skipped ones too
-- when SCAN_ALLOW_SKIPPED=true); the catch-up sweep scans unscanned files
-- as well as pending ones, so turning scanning on later holds existing
-- files back until they are scanned (run SCAN_MODE=async until the sweep
-- is through, then required, to avoid that).
--
-- The column's default is a constant, so adding it rewrites nothing; the
-- CHECK is added NOT VALID because every existing row holds that default
-- (new and updated rows are checked all the same), which spares a scan of
-- the whole table under its exclusive lock.

-- +goose Up
ALTER TABLE files
    ADD COLUMN scan_state text NOT NULL DEFAULT 'unscanned',
    ADD COLUMN scan_signature text,
    ADD COLUMN scanned_at timestamptz,
    ADD CONSTRAINT files_scan_state CHECK (scan_state IN ('unscanned', 'pending', 'clean', 'infected', 'failed', 'skipped')) NOT VALID;
-- The catch-up sweep and the admins' list read these few rows only.
CREATE INDEX files_scan_todo ON files (created_at, id) WHERE scan_state IN ('unscanned', 'pending');
CREATE INDEX files_scan_issues ON files (scanned_at DESC, id) WHERE scan_state IN ('infected', 'failed');

-- +goose Down
DROP INDEX files_scan_issues;
DROP INDEX files_scan_todo;
ALTER TABLE files DROP COLUMN scanned_at, DROP COLUMN scan_signature, DROP COLUMN scan_state;
