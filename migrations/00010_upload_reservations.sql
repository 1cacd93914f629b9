-- An upload that ends without a file (aborted, expired, failed) keeps its
-- quota reservation until no URL handed out for it can still store bytes:
-- a presigned PUT stays valid until its own expiry, whatever happens to the
-- upload, so freeing the reservation at once let a client abort and then
-- store the file anyway, outside the quota.
--
-- urls_expire_at is the latest expiry of a URL handed out for the upload
-- (initiate, and every later request for URLs). When the upload ends,
-- release_after is set to that expiry plus a grace (a PUT started before the
-- expiry may still finish), the object's deletion is queued for that time,
-- and the reservation is released once the deletion is done.
--
-- reserved says the upload's size is counted in quotas.reserved_bytes:
-- true from initiate until the upload completes (the size moves to
-- used_bytes) or its reservation is released. Each change of it is a
-- conditional UPDATE, so the size is charged or released exactly once.

-- +goose Up
ALTER TABLE uploads
    ADD COLUMN urls_expire_at timestamptz,
    ADD COLUMN release_after  timestamptz,
    ADD COLUMN reserved       boolean NOT NULL DEFAULT false;
-- Until now only pending uploads held a reservation.
UPDATE uploads SET reserved = true WHERE state = 'pending';
ALTER TABLE uploads ALTER COLUMN reserved SET DEFAULT true;
CREATE INDEX uploads_release_idx ON uploads (release_after) WHERE reserved AND state <> 'pending';

-- +goose Down
-- The code before this releases at the end of an upload: give back what
-- ended uploads still hold.
UPDATE quotas q SET reserved_bytes = q.reserved_bytes - r.size
FROM (SELECT owner_id, sum(size) AS size FROM uploads WHERE reserved AND state <> 'pending' GROUP BY owner_id) r
WHERE q.user_id = r.owner_id;
DROP INDEX uploads_release_idx;
ALTER TABLE uploads DROP COLUMN reserved, DROP COLUMN release_after, DROP COLUMN urls_expire_at;
