-- Completing an upload through an upload request takes a claim on the
-- request's limits first: under a short lock on the request, the files and
-- bytes already completed plus those being completed (claimed) plus this
-- one must fit; then the claim is committed and the upload completed
-- without the lock. So no transaction waits on the request's lock while
-- the upload's completion needs a connection of its own. A claim counts
-- while its upload is pending and for a while (a crash between claim and
-- completion); once the upload is done it counts as done.

-- +goose Up
ALTER TABLE upload_request_uploads ADD COLUMN claimed_at timestamptz;

-- +goose Down
ALTER TABLE upload_request_uploads DROP COLUMN claimed_at;
