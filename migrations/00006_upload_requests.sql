-- Upload requests: a link that lets people without an account upload files
-- into a folder of its owner, charged to the owner's quota.

-- +goose Up
CREATE TABLE upload_requests (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Looked up by SHA-256 like share links; the token itself is kept for
    -- the owner to copy again (same trade-off as share_links.token).
    token_hash       bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    token            text NOT NULL,
    -- Where files go; NULL is the root. No foreign key: a folder purged
    -- for good must not take the request (and its history) with it, nor
    -- silently send uploads elsewhere. Every upload checks that the folder
    -- is still the owner's and live.
    folder_id        uuid,
    title            text NOT NULL DEFAULT '' CHECK (length(title) <= 200),
    message          text NOT NULL DEFAULT '' CHECK (length(message) <= 2000),
    password_hash    text,
    password_version integer NOT NULL DEFAULT 0,
    expires_at       timestamptz,
    max_files        integer CHECK (max_files > 0),
    max_bytes        bigint CHECK (max_bytes > 0),
    views            integer NOT NULL DEFAULT 0,
    closed_at        timestamptz,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
CREATE INDEX upload_requests_owner_idx ON upload_requests (owner_id, created_at DESC, id);

-- One row per upload made through a request. The row is written (with the
-- declared size, upload_id still NULL) under a lock on the request before
-- the upload is initiated, so concurrent uploads can never together pass
-- the request's limits; upload_id is filled in once the upload exists. A
-- row left without an upload (a crash in between) stops counting after a
-- few minutes.
CREATE TABLE upload_request_uploads (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    request_id uuid NOT NULL REFERENCES upload_requests (id) ON DELETE CASCADE,
    upload_id  uuid UNIQUE REFERENCES uploads (id) ON DELETE CASCADE,
    size       bigint NOT NULL CHECK (size >= 0),
    created_at timestamptz NOT NULL
);
CREATE INDEX upload_request_uploads_request_idx ON upload_request_uploads (request_id);

-- +goose Down
DROP TABLE upload_request_uploads;
DROP TABLE upload_requests;
