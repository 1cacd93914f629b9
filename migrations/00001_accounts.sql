-- Accounts, sessions and throttling: what the foundation needs.

-- +goose Up
CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Stored trimmed and lower-cased by the service, so the plain unique
    -- constraint makes login and "already registered" case-insensitive.
    email         text NOT NULL UNIQUE CHECK (email = lower(email) AND length(email) <= 254),
    display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    password_hash text NOT NULL,
    is_admin      boolean NOT NULL DEFAULT false,
    -- Bumped on password change: sessions carry the epoch they were made in,
    -- and a session with an older epoch is logged out on its next request.
    auth_epoch    integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- The table scs's pgxstore expects.
CREATE TABLE sessions (
    token  text PRIMARY KEY,
    data   bytea NOT NULL,
    expiry timestamptz NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

-- Fixed-window counters shared by every instance (login, share passwords).
CREATE TABLE throttles (
    key        text PRIMARY KEY,
    hits       integer NOT NULL,
    window_end timestamptz NOT NULL
);
CREATE INDEX throttles_window_end_idx ON throttles (window_end);

-- +goose Down
DROP TABLE throttles;
DROP TABLE sessions;
DROP TABLE users;
