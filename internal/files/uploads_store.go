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
// never reserve past the quota, and sets u.ID. pgx.ErrNoRows when the owner
// has no quota row or the size does not fit.
func reserveAndInsertUpload(ctx context.Context, q database.Querier, u *Upload, sum []byte, defaultQuota int64) error {
	return q.QueryRow(ctx, `
		WITH q AS (
			UPDATE quotas SET reserved_bytes = reserved_bytes + $4
			WHERE user_id = $1 AND used_bytes + reserved_bytes + $4 <= coalesce(quota_bytes, $12)
			RETURNING user_id
		)
		INSERT INTO uploads (owner_id, folder_id, name, size, content_type, sha256, object_key, mode, part_size, created_at, expires_at, uploader_id)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $13 FROM q
		RETURNING id`,
		u.OwnerID, nullID(u.FolderID), u.Name, u.Size, u.ContentType, sum, u.objectKey, u.Mode, u.PartSize,
		u.CreatedAt, u.ExpiresAt, defaultQuota, u.UploaderID).Scan(&u.ID)
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

// claimUpload marks the owner's pending upload done and returns the id its
// file gets; pgx.ErrNoRows when it is no longer pending.
func claimUpload(ctx context.Context, q database.Querier, ownerID, id string, now time.Time) (string, error) {
	var fileID string
	err := q.QueryRow(ctx, `UPDATE uploads SET state = 'done', file_id = gen_random_uuid(), finished_at = $2
		WHERE id = $1 AND owner_id = $3 AND state = 'pending' RETURNING file_id`, id, now, ownerID).Scan(&fileID)
	return fileID, err
}

// insertUploadedFile makes the file row of a completed upload, with the
// digest the store reported (nil when it did not know it).
func insertUploadedFile(ctx context.Context, q database.Querier, fileID string, u Upload, folderID, name string, sum []byte, now time.Time) (File, error) {
	return scanFile(q.QueryRow(ctx, `
		INSERT INTO files (id, owner_id, folder_id, name, size, content_type, sha256, object_key, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
		RETURNING `+fileColumns, fileID, u.OwnerID, nullID(folderID), name, u.Size, u.ContentType, sum, u.objectKey, now))
}

// chargeUpload moves a completed upload's size from reserved to used.
func chargeUpload(ctx context.Context, q database.Querier, ownerID string, size int64) error {
	_, err := q.Exec(ctx, `UPDATE quotas SET reserved_bytes = reserved_bytes - $2, used_bytes = used_bytes + $2 WHERE user_id = $1`,
		ownerID, size)
	return err
}

// endUpload moves the owner's pending upload to state and reports whether
// it was still pending.
func endUpload(ctx context.Context, q database.Querier, ownerID, id, state string, now time.Time) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE uploads SET state = $2, finished_at = $3 WHERE id = $1 AND owner_id = $4 AND state = 'pending'`,
		id, state, now, ownerID)
	return tag.RowsAffected() == 1, err
}

// releaseReservation gives back bytes reserved by an upload that ends
// without a file.
func releaseReservation(ctx context.Context, q database.Querier, ownerID string, size int64) error {
	_, err := q.Exec(ctx, `UPDATE quotas SET reserved_bytes = reserved_bytes - $2 WHERE user_id = $1`, ownerID, size)
	return err
}

// selectOwnedFile reads the owner's file, in the trash or not.
func selectOwnedFile(ctx context.Context, q database.Querier, ownerID, id string) (File, error) {
	return scanFile(q.QueryRow(ctx, `SELECT `+fileColumns+` FROM files WHERE id = $1 AND owner_id = $2`, id, ownerID))
}
