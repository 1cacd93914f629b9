package files

import (
	"context"
	"encoding/hex"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weupload/weupload/internal/database"
)

// SQL on the rows of folders and files that several services share: the
// columns and scans, the owner-scoped reads and locks, and the one update
// that places an entry (rename, move). Helpers take a database.Querier
// (pool or transaction) and return pgx.ErrNoRows unwrapped for a missing
// row; the services turn that into apperr NotFound.

// nullID maps the root ("") to SQL NULL.
func nullID(id string) *string {
	if id == "" {
		return nil
	}
	return &id
}

// parentCol is the column holding an entry's folder.
func (k kind) parentCol() string {
	if k.isFile() {
		return "folder_id"
	}
	return "parent_id"
}

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

const fileColumns = `id, owner_id, folder_id, name, size, content_type, sha256, object_key, created_at, updated_at, trashed_at, scan_state, scan_signature, scanned_at`

func scanFile(row pgx.Row) (File, error) {
	var f File
	var folder *string
	var sum []byte
	var sig *string
	err := row.Scan(&f.ID, &f.OwnerID, &folder, &f.Name, &f.Size, &f.ContentType, &sum, &f.objectKey, &f.CreatedAt, &f.UpdatedAt, &f.TrashedAt,
		&f.ScanState, &sig, &f.ScannedAt)
	if sig != nil {
		f.ScanSignature = *sig
	}
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

// selectLiveEntry reads and locks (FOR UPDATE) a live entry of the owner.
func selectLiveEntry(ctx context.Context, q database.Querier, k kind, ownerID, id string) (entry, error) {
	var e entry
	var parent *string
	err := q.QueryRow(ctx, `SELECT id, `+k.parentCol()+`, name, updated_at FROM `+k.table+`
		WHERE id = $1 AND owner_id = $2 AND trashed_at IS NULL FOR UPDATE`, id, ownerID).Scan(&e.id, &parent, &e.name, &e.updatedAt)
	if parent != nil {
		e.parentID = *parent
	}
	return e, err
}

// updatePlacement sets an entry's folder and name. updated_at is the
// entry's version (checkVersion), so it always moves forward, even when two
// updates share a clock reading or an instance's clock lags another's.
func updatePlacement(ctx context.Context, q database.Querier, k kind, ownerID, id, parentID, name string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE `+k.table+` SET `+k.parentCol()+` = $3, name = $4,
		updated_at = greatest($5, updated_at + interval '1 microsecond') WHERE id = $1 AND owner_id = $2`,
		id, ownerID, nullID(parentID), name, now)
	return err
}
