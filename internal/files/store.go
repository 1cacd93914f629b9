package files

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/weupload/weupload/internal/database"
	"time"

	"github.com/jackc/pgx/v5"
)

// SQL shared by the service methods. Helpers take a database.Querier (pool or
// transaction) and return pgx.ErrNoRows unwrapped for a missing row; the
// exported methods turn that into apperr NotFound.

const folderColumns = `id, owner_id, parent_id, name, created_at, updated_at, trashed_at`

func scanFolder(row pgx.Row) (Folder, error) {
	var f Folder
	var parent *string
	err := row.Scan(&f.ID, &f.OwnerID, &parent, &f.Name, &f.CreatedAt, &f.UpdatedAt, &f.TrashedAt)
	if parent != nil {
		f.ParentID = *parent
	}
	return f, err
}

func collectFolders(rows pgx.Rows) ([]Folder, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Folder, error) { return scanFolder(r) })
}

const fileColumns = `id, owner_id, folder_id, name, size, content_type, sha256, object_key, created_at, updated_at, trashed_at`

func scanFile(row pgx.Row) (File, error) {
	var f File
	var folder *string
	var sum []byte
	err := row.Scan(&f.ID, &f.OwnerID, &folder, &f.Name, &f.Size, &f.ContentType, &sum, &f.objectKey, &f.CreatedAt, &f.UpdatedAt, &f.TrashedAt)
	if folder != nil {
		f.FolderID = *folder
	}
	if sum != nil {
		f.SHA256 = hex.EncodeToString(sum)
	}
	return f, err
}

func collectFiles(rows pgx.Rows) ([]File, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (File, error) { return scanFile(r) })
}

// findLiveFolder returns the owner's folder when it is not in the trash;
// lock adds FOR SHARE, so the folder cannot be trashed, purged or moved
// until the transaction ends (entries created in it cannot end up live in
// a trashed folder).
func findLiveFolder(ctx context.Context, q database.Querier, ownerID, id string, lock bool) (Folder, error) {
	if !validIDs(id) {
		return Folder{}, pgx.ErrNoRows
	}
	sql := `SELECT ` + folderColumns + ` FROM folders WHERE id = $1 AND owner_id = $2 AND trashed_at IS NULL`
	if lock {
		sql += ` FOR SHARE`
	}
	return scanFolder(q.QueryRow(ctx, sql, id, ownerID))
}

// checkTarget verifies that folderID ("" for the root) is a live folder of
// the owner, locking it for the transaction. Errors: NotFound.
func checkTarget(ctx context.Context, q database.Querier, ownerID, folderID string) error {
	if folderID == "" {
		return nil
	}
	_, err := findLiveFolder(ctx, q, ownerID, folderID, true)
	if errors.Is(err, pgx.ErrNoRows) {
		return errFolderNotFound
	}
	return err
}

// findLiveFile returns the owner's file when it is not in the trash; lock
// adds FOR UPDATE.
func findLiveFile(ctx context.Context, q database.Querier, ownerID, id string, lock bool) (File, error) {
	if !validIDs(id) {
		return File{}, pgx.ErrNoRows
	}
	sql := `SELECT ` + fileColumns + ` FROM files WHERE id = $1 AND owner_id = $2 AND trashed_at IS NULL`
	if lock {
		sql += ` FOR UPDATE`
	}
	return scanFile(q.QueryRow(ctx, sql, id, ownerID))
}

// enqueueDeletion records that key (and its multipart upload, if any) must
// be removed from the store; the row goes when the store confirms.
func enqueueDeletion(ctx context.Context, q database.Querier, key, multipartID string, now time.Time) error {
	_, err := q.Exec(ctx, `
		INSERT INTO object_deletions (object_key, multipart_id, not_before) VALUES ($1, $2, $3)
		ON CONFLICT (object_key) DO UPDATE SET multipart_id = coalesce(EXCLUDED.multipart_id, object_deletions.multipart_id)`,
		key, nullID(multipartID), now)
	if err != nil {
		return fmt.Errorf("queue deletion of %s: %w", key, err)
	}
	return nil
}

// ensureQuotaRow makes the owner's quota row if it is missing and reports
// whether it did.
func ensureQuotaRow(ctx context.Context, q database.Querier, ownerID string) (bool, error) {
	tag, err := q.Exec(ctx, `INSERT INTO quotas (user_id) VALUES ($1) ON CONFLICT DO NOTHING`, ownerID)
	return tag.RowsAffected() == 1, err
}

// releaseReservation gives back bytes reserved by an upload that ends
// without a file.
func releaseReservation(ctx context.Context, q database.Querier, ownerID string, size int64) error {
	_, err := q.Exec(ctx, `UPDATE quotas SET reserved_bytes = reserved_bytes - $2 WHERE user_id = $1`, ownerID, size)
	return err
}
