-- Folders, files, uploads, quotas and the queue of objects to delete.

-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- One row per user, made on first use. used_bytes counts the files the user
-- has (trash included, until purged); reserved_bytes the pending uploads.
-- Initiate reserves with a conditional UPDATE, so concurrent uploads can
-- never together pass the quota.
CREATE TABLE quotas (
    user_id        uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- NULL: the configured default (DEFAULT_QUOTA).
    quota_bytes    bigint CHECK (quota_bytes >= 0),
    used_bytes     bigint NOT NULL DEFAULT 0 CHECK (used_bytes >= 0),
    reserved_bytes bigint NOT NULL DEFAULT 0 CHECK (reserved_bytes >= 0)
);

-- Trash: trashed_at is set on every item of a trashed subtree, trash_id on
-- each of them names the item the user trashed (the Trash shows the rows
-- where trash_id = id). Restore clears the rows with that trash_id, so items
-- trashed earlier on their own stay in the Trash.
CREATE TABLE folders (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    parent_id  uuid REFERENCES folders (id) ON DELETE CASCADE, -- NULL: the root
    name       text NOT NULL CHECK (octet_length(name) BETWEEN 1 AND 255),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    trashed_at timestamptz,
    trash_id   uuid,
    CHECK ((trashed_at IS NULL) = (trash_id IS NULL)),
    CHECK (parent_id <> id)
);
-- Names are unique among the live children of a folder (the service also
-- keeps them unique across files and folders, under an advisory lock).
CREATE UNIQUE INDEX folders_name_key ON folders (owner_id, parent_id, name) NULLS NOT DISTINCT
    WHERE trashed_at IS NULL;
CREATE INDEX folders_list_name_idx ON folders (owner_id, parent_id, lower(name), id) WHERE trashed_at IS NULL;
CREATE INDEX folders_list_created_idx ON folders (owner_id, parent_id, created_at, id) WHERE trashed_at IS NULL;
CREATE INDEX folders_parent_idx ON folders (parent_id);
CREATE INDEX folders_trash_idx ON folders (trash_id) WHERE trash_id IS NOT NULL;
CREATE INDEX folders_search_idx ON folders USING gin (name gin_trgm_ops) WHERE trashed_at IS NULL;

CREATE TABLE files (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- NO ACTION, not CASCADE: a file row goes only through the service,
    -- which queues its object for deletion in the same transaction.
    folder_id    uuid REFERENCES folders (id), -- NULL: the root
    name         text NOT NULL CHECK (octet_length(name) BETWEEN 1 AND 255),
    size         bigint NOT NULL CHECK (size >= 0),
    content_type text NOT NULL,
    -- The store's digest of the stored bytes; NULL when it does not know.
    sha256       bytea CHECK (octet_length(sha256) = 32),
    object_key   text NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    trashed_at   timestamptz,
    trash_id     uuid,
    CHECK ((trashed_at IS NULL) = (trash_id IS NULL))
);
CREATE UNIQUE INDEX files_name_key ON files (owner_id, folder_id, name) NULLS NOT DISTINCT
    WHERE trashed_at IS NULL;
-- Keyset listing: one index per sort order, scanned either way.
CREATE INDEX files_list_name_idx ON files (owner_id, folder_id, lower(name), id) WHERE trashed_at IS NULL;
CREATE INDEX files_list_size_idx ON files (owner_id, folder_id, size, id) WHERE trashed_at IS NULL;
CREATE INDEX files_list_created_idx ON files (owner_id, folder_id, created_at, id) WHERE trashed_at IS NULL;
CREATE INDEX files_folder_idx ON files (folder_id);
CREATE INDEX files_trash_idx ON files (trash_id) WHERE trash_id IS NOT NULL;
CREATE INDEX files_search_idx ON files USING gin (name gin_trgm_ops) WHERE trashed_at IS NULL;

-- An upload from initiate to done (or failed, aborted, expired). The row and
-- the quota reservation are committed before any URL is handed out.
CREATE TABLE uploads (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    folder_id    uuid REFERENCES folders (id) ON DELETE SET NULL,
    name         text NOT NULL CHECK (octet_length(name) BETWEEN 1 AND 255),
    size         bigint NOT NULL CHECK (size >= 0),
    content_type text NOT NULL,
    sha256       bytea CHECK (octet_length(sha256) = 32), -- declared by the client
    object_key   text NOT NULL UNIQUE,                   -- u/<owner-id>/<random>, server-made
    mode         text NOT NULL CHECK (mode IN ('single', 'multipart')),
    part_size    bigint NOT NULL DEFAULT 0 CHECK (part_size >= 0),
    multipart_id text,                                   -- the store's upload id
    state        text NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'done', 'failed', 'aborted', 'expired')),
    file_id      uuid REFERENCES files (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    finished_at  timestamptz
);
CREATE INDEX uploads_owner_idx ON uploads (owner_id, created_at) WHERE state = 'pending';
CREATE INDEX uploads_expiry_idx ON uploads (expires_at) WHERE state = 'pending';

-- Objects (and multipart uploads) to delete from the store, retried until
-- the store confirms. Rows are added in the transaction that drops the
-- file or upload, so nothing is forgotten when the store is down.
CREATE TABLE object_deletions (
    object_key   text PRIMARY KEY,
    multipart_id text,
    attempts     integer NOT NULL DEFAULT 0,
    not_before   timestamptz NOT NULL,
    last_error   text
);
CREATE INDEX object_deletions_due_idx ON object_deletions (not_before);

-- +goose Down
DROP TABLE object_deletions;
DROP TABLE uploads;
DROP TABLE files;
DROP TABLE folders;
DROP TABLE quotas;
