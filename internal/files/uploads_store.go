package files

import (
	"context"
	"encoding/hex"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weupload/weupload/internal/database"
)

// SQL of uploads: the uploads table, the quota reservation each pending
// upload holds, and the file row a completed upload makes.

const uploadColumns = `id, owner_id, uploader_id, folder_id, name, size, content_type, sha256, mode, part_size, state, file_id,
	created_at, expires_at, object_key, coalesce(multipart_id, '')`

func scanUpload(row pgx.Row) (Upload, error) {
	var u Upload
	var folder, file *string
	var sum []byte
	err := row.Scan(&u.ID, &u.OwnerID, &u.UploaderID, &folder, &u.Name, &u.Size, &u.ContentType, &sum, &u.Mode, &u.PartSize, &u.State, &file,
		&u.CreatedAt, &u.ExpiresAt, &u.objectKey, &u.multipartID)
	if folder != nil {
		u.FolderID = *folder
	}
	if file != nil {
		u.FileID = *file
	}
	if sum != nil {
		u.SHA256 = hex.EncodeToString(sum)
	}
	return u, err
}

func collectUploads(rows pgx.Rows) ([]Upload, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Upload, error) { return scanUpload(r) })
}

// reserveAndInsertUpload reserves u.Size against the owner's quota and
// inserts the pending row in one statement, so concurrent initiates can
// never reserve past the quota, and sets u.ID. urlsExpire is the expiry of
// the URLs initiate hands out. pgx.ErrNoRows when the owner
// has no quota row or the size does not fit.
func reserveAndInsertUpload(ctx context.Context, q database.Querier, u *Upload, sum []byte, defaultQuota int64, urlsExpire time.Time) error {
	return q.QueryRow(ctx, `
		WITH q AS (
			UPDATE quotas SET reserved_bytes = reserved_bytes + $4
			WHERE user_id = $1 AND used_bytes + reserved_bytes + $4 <= coalesce(quota_bytes, $12)
			RETURNING user_id
		)
		INSERT INTO uploads (owner_id, folder_id, name, size, content_type, sha256, object_key, mode, part_size, created_at, expires_at, uploader_id, urls_expire_at)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $13, $14 FROM q
		RETURNING id`,
		u.OwnerID, nullID(u.FolderID), u.Name, u.Size, u.ContentType, sum, u.objectKey, u.Mode, u.PartSize,
		u.CreatedAt, u.ExpiresAt, defaultQuota, u.UploaderID, urlsExpire).Scan(&u.ID)
}

// recordURLs raises the latest URL expiry of the owner's upload to expires
// before URLs valid until then are handed out, and reports whether the
// upload was still pending (and not expired at now): an upload that ended
// meanwhile gets no URL its end did not account for.
func recordURLs(ctx context.Context, q database.Querier, ownerID, id string, expires, now time.Time) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE uploads SET urls_expire_at = greatest(urls_expire_at, $3)
		WHERE id = $1 AND owner_id = $2 AND state = 'pending' AND expires_at > $4`, id, ownerID, expires, now)
	return tag.RowsAffected() == 1, err
}

// ensureQuotaRow makes the owner's quota row if it is missing and reports
// whether it did.
func ensureQuotaRow(ctx context.Context, q database.Querier, ownerID string) (bool, error) {
	tag, err := q.Exec(ctx, `INSERT INTO quotas (user_id) VALUES ($1) ON CONFLICT DO NOTHING`, ownerID)
	return tag.RowsAffected() == 1, err
}

// setMultipartID records the store's id of the owner's multipart upload.
func setMultipartID(ctx context.Context, q database.Querier, ownerID, id, multipartID string) error {
	_, err := q.Exec(ctx, `UPDATE uploads SET multipart_id = $2 WHERE id = $1 AND owner_id = $3`, id, multipartID, ownerID)
	return err
}

// selectUpload reads an upload userID started or owns.
func selectUpload(ctx context.Context, q database.Querier, userID, id string) (Upload, error) {
	return scanUpload(q.QueryRow(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE id = $1 AND (owner_id = $2 OR uploader_id = $2)`, id, userID))
}

// pendingUploadsBy returns the pending uploads the user started, oldest
// first.
func pendingUploadsBy(ctx context.Context, q database.Querier, uploaderID string, limit int) ([]Upload, error) {
	rows, err := q.Query(ctx, `SELECT `+uploadColumns+` FROM uploads
		WHERE uploader_id = $1 AND state = 'pending' ORDER BY created_at, id LIMIT $2`, uploaderID, limit)
	if err != nil {
		return nil, err
	}
	return collectUploads(rows)
}

// expiredUploads returns up to limit pending uploads (of any owner) that
// expired before cutoff, oldest expiry first.
func expiredUploads(ctx context.Context, q database.Querier, cutoff time.Time, limit int) ([]Upload, error) {
	rows, err := q.Query(ctx, `SELECT `+uploadColumns+` FROM uploads
		WHERE state = 'pending' AND expires_at < $1 ORDER BY expires_at LIMIT $2`, cutoff, limit)
	if err != nil {
		return nil, err
	}
	return collectUploads(rows)
}

// claimUpload marks the owner's pending upload done (its reservation is
// then charged, see chargeUpload) and returns the id its file gets;
// pgx.ErrNoRows when it is no longer pending.
func claimUpload(ctx context.Context, q database.Querier, ownerID, id string, now time.Time) (string, error) {
	var fileID string
	err := q.QueryRow(ctx, `UPDATE uploads SET state = 'done', file_id = gen_random_uuid(), finished_at = $2, reserved = false
		WHERE id = $1 AND owner_id = $3 AND state = 'pending' RETURNING file_id`, id, now, ownerID).Scan(&fileID)
	return fileID, err
}

// insertUploadedFile makes the file row of a completed upload, with the
// digest the store reported (nil when it did not know it) and its first
// scan state.
func insertUploadedFile(ctx context.Context, q database.Querier, fileID string, u Upload, folderID, name string, sum []byte, scan ScanState, now time.Time) (File, error) {
	return scanFile(q.QueryRow(ctx, `
		INSERT INTO files (id, owner_id, folder_id, name, size, content_type, sha256, object_key, created_at, updated_at, scan_state)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)
		RETURNING `+fileColumns, fileID, u.OwnerID, nullID(folderID), name, u.Size, u.ContentType, sum, u.objectKey, now, scan))
}

// chargeUpload moves a completed upload's size from reserved to used.
func chargeUpload(ctx context.Context, q database.Querier, ownerID string, size int64) error {
	_, err := q.Exec(ctx, `UPDATE quotas SET reserved_bytes = reserved_bytes - $2, used_bytes = used_bytes + $2 WHERE user_id = $1`,
		ownerID, size)
	return err
}

// endUpload moves the owner's pending upload to state, keeping its
// reservation, and returns when the reservation may go: grace after the
// latest expiry of its URLs (or of a URL asked for at its expiry, for a row
// from before that was recorded), and not before now; now itself when no
// URL was handed out (issued false). pgx.ErrNoRows when it was no longer
// pending.
func endUpload(ctx context.Context, q database.Querier, ownerID, id, state string, now time.Time, urlTTL, grace time.Duration, issued bool) (time.Time, error) {
	var releaseAfter time.Time
	err := q.QueryRow(ctx, `UPDATE uploads SET state = $2, finished_at = $3,
			release_after = CASE WHEN $7 THEN greatest(coalesce(urls_expire_at, expires_at + $5 * interval '1 microsecond'), $3) + $6 * interval '1 microsecond'
				ELSE $3 END
		WHERE id = $1 AND owner_id = $4 AND state = 'pending' RETURNING release_after`,
		id, state, now, ownerID, urlTTL.Microseconds(), grace.Microseconds(), issued).Scan(&releaseAfter)
	return releaseAfter, err
}

// releaseUpload gives back the reservation of the owner's ended upload
// once its release time has come; each upload's only once (reserved goes
// false in the same statement). It reports whether it released.
func releaseUpload(ctx context.Context, q database.Querier, ownerID, id string, now time.Time) (bool, error) {
	tag, err := q.Exec(ctx, `
		WITH r AS (
			UPDATE uploads SET reserved = false
			WHERE id = $1 AND owner_id = $2 AND reserved AND state IN ('failed', 'aborted', 'expired') AND release_after <= $3
			RETURNING size
		)
		UPDATE quotas SET reserved_bytes = reserved_bytes - r.size FROM r WHERE user_id = $2`, id, ownerID, now)
	return tag.RowsAffected() == 1, err
}

// uploadOfObject returns the owner and id of the upload that made key;
// pgx.ErrNoRows when none did (an orphan).
func uploadOfObject(ctx context.Context, q database.Querier, key string) (ownerID, id string, err error) {
	err = q.QueryRow(ctx, `SELECT owner_id, id FROM uploads WHERE object_key = $1`, key).Scan(&ownerID, &id)
	return ownerID, id, err
}

// uploadRef names an upload by owner and id.
type uploadRef struct{ ownerID, id string }

// releasableUploads returns up to limit ended uploads that still hold
// their reservation although its time has come and their object's
// deletion is no longer queued.
func releasableUploads(ctx context.Context, q database.Querier, now time.Time, limit int) ([]uploadRef, error) {
	rows, err := q.Query(ctx, `SELECT owner_id, id FROM uploads u
		WHERE reserved AND state <> 'pending' AND release_after <= $1
		  AND NOT EXISTS (SELECT 1 FROM object_deletions d WHERE d.object_key = u.object_key)
		ORDER BY release_after LIMIT $2`, now, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (uploadRef, error) {
		var u uploadRef
		return u, r.Scan(&u.ownerID, &u.id)
	})
}

// selectOwnedFile reads the owner's file, in the trash or not.
func selectOwnedFile(ctx context.Context, q database.Querier, ownerID, id string) (File, error) {
	return scanFile(q.QueryRow(ctx, `SELECT `+fileColumns+` FROM files WHERE id = $1 AND owner_id = $2`, id, ownerID))
}
