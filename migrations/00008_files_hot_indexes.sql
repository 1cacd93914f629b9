-- Indexes for two hot queries that could not use the existing ones
-- (bench/plans; docs/benchmarks.md, "Hot query plans at 1M files / 1k
-- users").
--
-- The name check of every upload and rename ("is this name taken in the
-- folder?", internal/files/names.go) compares the folder with IS NOT
-- DISTINCT FROM (the root is NULL), which no index can search on: the
-- unique index (owner_id, folder_id, name) was used for owner_id alone and
-- read all of the owner's entries (253 ms in an account of 130,000 files).
-- With the name right after the owner the check reads only the entries of
-- that name (one per folder at most).
--
-- Listing the root (folder_id IS NULL) could not walk the listing indexes
-- in order: PostgreSQL does not treat "folder_id IS NULL" as fixing the
-- column, as it does "folder_id = $2", so (owner_id, folder_id, size, id)
-- did not give the ORDER BY size, and every page of a root with 13,000
-- files sorted all of them (13-54 ms). Partial indexes on the root alone
-- give each order directly; they hold only the root's files.

-- +goose Up
CREATE INDEX files_owner_exact_name_idx ON files (owner_id, name) WHERE trashed_at IS NULL;
CREATE INDEX files_root_name_idx ON files (owner_id, lower(name), id) WHERE folder_id IS NULL AND trashed_at IS NULL;
CREATE INDEX files_root_size_idx ON files (owner_id, size, id) WHERE folder_id IS NULL AND trashed_at IS NULL;
CREATE INDEX files_root_created_idx ON files (owner_id, created_at, id) WHERE folder_id IS NULL AND trashed_at IS NULL;

-- +goose Down
DROP INDEX files_root_created_idx;
DROP INDEX files_root_size_idx;
DROP INDEX files_root_name_idx;
DROP INDEX files_owner_exact_name_idx;
