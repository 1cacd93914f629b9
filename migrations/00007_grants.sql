-- Sharing with registered users: a grant gives one user (the grantee) a
-- role on a folder (and everything below it) or a file of another user.

-- +goose Up
CREATE TABLE grants (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    grantee_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Exactly one of folder_id and file_id. Purging the entry for good
    -- drops its grants; the trash only hides them (queries read live rows).
    folder_id  uuid REFERENCES folders (id) ON DELETE CASCADE,
    file_id    uuid REFERENCES files (id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('viewer', 'editor')),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CHECK ((folder_id IS NULL) <> (file_id IS NULL)),
    CHECK (grantee_id <> owner_id)
);
-- One grant per grantee and entry; the access check walks up a folder's
-- ancestors and probes (folder_id, grantee_id) at each level.
CREATE UNIQUE INDEX grants_folder_key ON grants (folder_id, grantee_id) WHERE folder_id IS NOT NULL;
CREATE UNIQUE INDEX grants_file_key ON grants (file_id, grantee_id) WHERE file_id IS NOT NULL;
-- "Shared with me" and the owner's list of grants.
CREATE INDEX grants_grantee_idx ON grants (grantee_id, created_at DESC, id);
CREATE INDEX grants_owner_idx ON grants (owner_id, created_at DESC, id);

-- Who started an upload: the owner, or an editor uploading into a folder
-- shared with them (the owner's quota pays; the uploader completes it).
ALTER TABLE uploads ADD COLUMN uploader_id uuid REFERENCES users (id) ON DELETE CASCADE;
UPDATE uploads SET uploader_id = owner_id;
ALTER TABLE uploads ALTER COLUMN uploader_id SET NOT NULL;
CREATE INDEX uploads_uploader_idx ON uploads (uploader_id, created_at) WHERE state = 'pending';

-- +goose Down
DROP INDEX uploads_uploader_idx;
ALTER TABLE uploads DROP COLUMN uploader_id;
DROP TABLE grants;
