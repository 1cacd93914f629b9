-- Share-link and upload-link tokens are no longer stored readable: a
-- database dump, backup or replica alone must not hold every live link.
-- Visitors are still found by token_hash; the owner's copy of the link is
-- token_sealed, AES-256-GCM under LINK_KEY with the table and row id as
-- additional data (internal/shares/seal.go), which only the service can open.
--
-- SQL cannot encrypt, so existing rows keep their plain token here until
-- the service seals them: `weupload serve` (with or without --no-migrate)
-- seals at start every row whose token is not NULL, in batches, and sets
-- token to NULL (shares.Service.SealPlainTokens; rows locked with SKIP
-- LOCKED, so instances starting together share the work). The CHECK keeps one form per row, so
-- a row never holds both, and the code written from here on stores only
-- token_sealed.

-- +goose Up
ALTER TABLE share_links
    ADD COLUMN token_sealed bytea,
    ALTER COLUMN token DROP NOT NULL,
    ADD CONSTRAINT share_links_token_one_form CHECK ((token IS NULL) <> (token_sealed IS NULL));
ALTER TABLE upload_requests
    ADD COLUMN token_sealed bytea,
    ALTER COLUMN token DROP NOT NULL,
    ADD CONSTRAINT upload_requests_token_one_form CHECK ((token IS NULL) <> (token_sealed IS NULL));

-- +goose Down
-- A sealed token cannot be opened in SQL, and the code before this needs
-- the plain one: refuse rather than leave links whose owner sees a broken
-- URL. Revoke or delete such rows first if going back is really needed.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM share_links WHERE token IS NULL)
       OR EXISTS (SELECT 1 FROM upload_requests WHERE token IS NULL) THEN
        RAISE EXCEPTION 'sealed link tokens cannot be unsealed in SQL; delete the rows with token IS NULL first';
    END IF;
END
$$;
-- +goose StatementEnd
ALTER TABLE upload_requests
    DROP CONSTRAINT upload_requests_token_one_form,
    DROP COLUMN token_sealed,
    ALTER COLUMN token SET NOT NULL;
ALTER TABLE share_links
    DROP CONSTRAINT share_links_token_one_form,
    DROP COLUMN token_sealed,
    ALTER COLUMN token SET NOT NULL;
