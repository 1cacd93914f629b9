-- Search in name order across the account: with a common fragment the
-- planner walks this index in order and stops after a page of matches,
-- instead of collecting every match from the trigram index and sorting.

-- +goose Up
CREATE INDEX files_owner_name_idx ON files (owner_id, lower(name), id) WHERE trashed_at IS NULL;
CREATE INDEX folders_owner_name_idx ON folders (owner_id, lower(name), id) WHERE trashed_at IS NULL;

-- +goose Down
DROP INDEX folders_owner_name_idx;
DROP INDEX files_owner_name_idx;
