-- The statements POST /api/v1/uploads/{id}/complete runs (go run ./bench/api
-- -log-sql prints them), for pgbench -M prepared. The upload is the client's
-- oldest pending one (the app looks it up by id and owner: a primary-key
-- lookup, slightly cheaper than this index scan).
\if :loaded = 0
SELECT user_id AS uid, session_token AS tok, ip, session_data AS sdata FROM bench_clients WHERE n = :client_id \gset
\set loaded 1
\endif
SELECT data FROM sessions WHERE token = :tok AND current_timestamp < expiry;
SELECT id, email, display_name, is_admin, auth_epoch, created_at FROM users WHERE id = :uid;
INSERT INTO throttles (key, hits, window_end) VALUES ('api:' || 'user:' || :uid::text, 1, now() + interval '1 minute')
ON CONFLICT (key) DO UPDATE SET
	hits = CASE WHEN throttles.window_end <= now() THEN 1 ELSE throttles.hits + 1 END,
	window_end = CASE WHEN throttles.window_end <= now() THEN now() + interval '1 minute' ELSE throttles.window_end END
RETURNING hits, window_end;
INSERT INTO throttles (key, hits, window_end) VALUES ('api:' || 'ip:' || :ip::text, 1, now() + interval '1 minute')
ON CONFLICT (key) DO UPDATE SET
	hits = CASE WHEN throttles.window_end <= now() THEN 1 ELSE throttles.hits + 1 END,
	window_end = CASE WHEN throttles.window_end <= now() THEN now() + interval '1 minute' ELSE throttles.window_end END
RETURNING hits, window_end;
-- files.CompleteUpload: find the upload...
SELECT id AS upid, name AS upname, object_key AS upkey, owner_id, folder_id, size, content_type, sha256, mode, part_size, state, file_id,
	created_at, expires_at, coalesce(multipart_id, '') AS mpid
FROM uploads WHERE owner_id = :uid AND state = 'pending' ORDER BY created_at LIMIT 1 \gset
-- ...and, after HEAD on the object, the transaction that makes the file.
BEGIN;
UPDATE uploads SET state = 'done', file_id = gen_random_uuid(), finished_at = now()
WHERE id = :upid AND owner_id = :uid AND state = 'pending' RETURNING file_id \gset
SELECT pg_advisory_xact_lock(hashtextextended('names:' || :uid::text || ':' || '', 0));
SELECT EXISTS (SELECT 1 FROM folders WHERE owner_id = :uid AND parent_id IS NOT DISTINCT FROM NULL
                 AND name = :upname AND trashed_at IS NULL AND id IS DISTINCT FROM NULL)
    OR EXISTS (SELECT 1 FROM files WHERE owner_id = :uid AND folder_id IS NOT DISTINCT FROM NULL
                 AND name = :upname AND trashed_at IS NULL AND id IS DISTINCT FROM NULL);
INSERT INTO files (id, owner_id, folder_id, name, size, content_type, sha256, object_key, created_at, updated_at)
VALUES (:file_id, :uid, NULL, :upname, 1000, 'application/octet-stream', NULL, :upkey, now(), now())
RETURNING id, owner_id, folder_id, name, size, content_type, sha256, object_key, created_at, updated_at, trashed_at;
UPDATE quotas SET reserved_bytes = reserved_bytes - 1000, used_bytes = used_bytes + 1000 WHERE user_id = :uid;
COMMIT;
INSERT INTO sessions (token, data, expiry) VALUES (:tok, :sdata, now() + interval '1 day')
ON CONFLICT (token) DO UPDATE SET data = EXCLUDED.data, expiry = EXCLUDED.expiry;
