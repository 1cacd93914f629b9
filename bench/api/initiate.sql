-- The statements POST /api/v1/uploads runs (go run ./bench/api -log-sql
-- prints them), for pgbench -M prepared. Each pgbench client is one of the
-- benchmark's users, with its session token and client IP.
\if :loaded = 0
SELECT user_id AS uid, session_token AS tok, ip, session_data AS sdata FROM bench_clients WHERE n = :client_id \gset
\set loaded 1
\endif
\set r random(1, 2000000000)
-- scs: load the session; loadUser.
SELECT data FROM sessions WHERE token = :tok AND current_timestamp < expiry;
SELECT id, email, display_name, is_admin, auth_epoch, created_at FROM users WHERE id = :uid;
-- apiAuth: rate limits per caller and per client IP.
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
-- files.InitiateUpload: the name check, then reserve + insert in one statement.
SELECT EXISTS (SELECT 1 FROM folders WHERE owner_id = :uid AND parent_id IS NOT DISTINCT FROM NULL
                 AND name = 'pgb-' || :r::text AND trashed_at IS NULL AND id IS DISTINCT FROM NULL)
    OR EXISTS (SELECT 1 FROM files WHERE owner_id = :uid AND folder_id IS NOT DISTINCT FROM NULL
                 AND name = 'pgb-' || :r::text AND trashed_at IS NULL AND id IS DISTINCT FROM NULL);
WITH q AS (
	UPDATE quotas SET reserved_bytes = reserved_bytes + 1000
	WHERE user_id = :uid AND used_bytes + reserved_bytes + 1000 <= coalesce(quota_bytes, 1099511627776)
	RETURNING user_id
)
INSERT INTO uploads (owner_id, folder_id, name, size, content_type, sha256, object_key, mode, part_size, created_at, expires_at, uploader_id)
SELECT :uid, NULL, 'pgb-' || :r::text, 1000, 'application/octet-stream', NULL, 'u/' || :uid::text || '/pgb-' || :client_id::text || '-' || :r::text || '-' || random(), 'single', 0, now(), now() + interval '1 day', :uid FROM q
RETURNING id;
-- scs: save the session (idle timeout refresh).
INSERT INTO sessions (token, data, expiry) VALUES (:tok, :sdata, now() + interval '1 day')
ON CONFLICT (token) DO UPDATE SET data = EXCLUDED.data, expiry = EXCLUDED.expiry;
