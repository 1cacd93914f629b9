-- Share links: an unguessable token that gives people without an account
-- read access to some files or to a folder of the link's owner.

-- +goose Up
CREATE TABLE share_links (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Recipients are looked up by the SHA-256 of the token they present,
    -- through this unique index, so no token is compared byte by byte.
    token_hash       bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    -- The token itself, read only by owner-scoped queries, so the owner can
    -- copy the link again later. Trade-off: whoever can read this table can
    -- use every live link (unlike API tokens, stored as hashes only); the
    -- links are meant to be handed around anyway, and they still need the
    -- password, expiry and limit checks to yield anything.
    token            text NOT NULL,
    -- files: the rows of share_link_files; folder: folder_id's live contents
    -- at download time. A purged folder leaves folder_id NULL: nothing to
    -- share, but the owner keeps the link's history.
    kind             text NOT NULL CHECK (kind IN ('files', 'folder')),
    folder_id        uuid REFERENCES folders (id) ON DELETE SET NULL,
    title            text NOT NULL DEFAULT '' CHECK (length(title) <= 200),
    note             text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    -- argon2id (auth.HashPassword); NULL: no password.
    password_hash    text,
    -- Bumped when the password changes: unlocks remembered under an older
    -- version stop working.
    password_version integer NOT NULL DEFAULT 0,
    expires_at       timestamptz,                               -- NULL: never
    max_downloads    integer CHECK (max_downloads > 0),         -- NULL: no limit
    -- Counted by one conditional UPDATE when a URL or zip is issued.
    downloads        integer NOT NULL DEFAULT 0 CHECK (downloads >= 0),
    views            integer NOT NULL DEFAULT 0 CHECK (views >= 0),
    last_access_at   timestamptz,
    revoked_at       timestamptz,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    CHECK (kind = 'folder' OR folder_id IS NULL)
);
CREATE INDEX share_links_owner_idx ON share_links (owner_id, created_at DESC, id);
CREATE INDEX share_links_folder_idx ON share_links (folder_id) WHERE folder_id IS NOT NULL;

-- The files of a 'files' link, in the order they were shared. A purged file
-- leaves its link (ON DELETE CASCADE); a trashed one is skipped at access.
CREATE TABLE share_link_files (
    link_id  uuid NOT NULL REFERENCES share_links (id) ON DELETE CASCADE,
    file_id  uuid NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    position integer NOT NULL,
    PRIMARY KEY (link_id, file_id)
);
CREATE INDEX share_link_files_file_idx ON share_link_files (file_id);

-- +goose Down
DROP TABLE share_link_files;
DROP TABLE share_links;
