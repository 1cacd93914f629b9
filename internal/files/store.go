package files

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weupload/weupload/internal/database"
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

// entryOwner returns the owner of a live entry (id and display name) and,
// for a file, its folder ("" at the root).
func entryOwner(ctx context.Context, q database.Querier, k kind, id string) (owner, ownerName, folder string, err error) {
	var parent *string
	err = q.QueryRow(ctx, `SELECT e.owner_id, u.display_name, e.`+k.parentCol+` FROM `+k.table+` e
		JOIN users u ON u.id = e.owner_id WHERE e.id = $1 AND e.trashed_at IS NULL`, id).Scan(&owner, &ownerName, &parent)
	if parent != nil {
		folder = *parent
	}
	return owner, ownerName, folder, err
}

// grantedAccess finds the grants that give userID access to a file (fileID,
// in folderID) or a folder (folderID, fileID empty): a grant on the file,
// the folder or any folder above. The role is the strongest of them; the
// root is the highest one, so breadcrumbs show as much of the share as the
// user may see. pgx.ErrNoRows when there is none.
func grantedAccess(ctx context.Context, q database.Querier, userID, fileID, folderID string) (Access, error) {
	rows, err := q.Query(ctx, `
		WITH RECURSIVE up AS (
			SELECT id, parent_id, 0 AS depth FROM folders WHERE id = $2
			UNION ALL
			SELECT f.id, f.parent_id, up.depth + 1 FROM folders f JOIN up ON f.id = up.parent_id
		)
		SELECT g.role, g.folder_id::text, false, up.depth FROM grants g JOIN up ON g.folder_id = up.id
		WHERE g.grantee_id = $1
		UNION ALL
		SELECT role, file_id::text, true, -1 FROM grants WHERE file_id = $3 AND grantee_id = $1`,
		userID, nullID(folderID), nullID(fileID))
	if err != nil {
		return Access{}, err
	}
	var a Access
	top := -2
	var role Role
	var root string
	var isFile bool
	var depth int
	_, err = pgx.ForEachRow(rows, []any{&role, &root, &isFile, &depth}, func() error {
		if role.rank() > a.Role.rank() {
			a.Role = role
		}
		if depth > top {
			top, a.RootID, a.RootIsFile = depth, root, isFile
		}
		return nil
	})
	if err == nil && a.Role == "" {
		err = pgx.ErrNoRows
	}
	return a, err
}

// userIDByEmail finds an account by its (normalised) email.
func userIDByEmail(ctx context.Context, q database.Querier, email string) (string, error) {
	var id string
	err := q.QueryRow(ctx, `SELECT id FROM users WHERE email = $1`, email).Scan(&id)
	return id, err
}

// upsertGrant shares an entry, or changes the role when it is already
// shared with the grantee, and returns the grant's id.
func upsertGrant(ctx context.Context, q database.Querier, ownerID, granteeID string, folderID, fileID *string, role Role, now time.Time) (string, error) {
	conflict := `(folder_id, grantee_id) WHERE folder_id IS NOT NULL`
	if fileID != nil {
		conflict = `(file_id, grantee_id) WHERE file_id IS NOT NULL`
	}
	var id string
	err := q.QueryRow(ctx, `
		INSERT INTO grants (owner_id, grantee_id, folder_id, file_id, role, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6)
		ON CONFLICT `+conflict+` DO UPDATE SET role = EXCLUDED.role, updated_at = EXCLUDED.updated_at
		RETURNING id`, ownerID, granteeID, folderID, fileID, role, now).Scan(&id)
	return id, err
}

// grantQuery selects grants: one by id (made or received by userID), those
// an owner made (optionally of one entry), or those a grantee received.
type grantQuery struct {
	id, userID       string
	ownerID          string
	folderID, fileID string
	granteeID        string
}

// findGrants returns the grants on live entries matching gq, newest first.
func findGrants(ctx context.Context, q database.Querier, gq grantQuery) ([]Grant, error) {
	var where string
	var args []any
	switch {
	case gq.id != "":
		where, args = `g.id = $1 AND (g.owner_id = $2 OR g.grantee_id = $2)`, []any{gq.id, gq.userID}
	case gq.granteeID != "":
		where, args = `g.grantee_id = $1`, []any{gq.granteeID}
	default:
		where, args = `g.owner_id = $1`, []any{gq.ownerID}
		if gq.folderID != "" {
			where, args = where+` AND g.folder_id = $2`, append(args, gq.folderID)
		} else if gq.fileID != "" {
			where, args = where+` AND g.file_id = $2`, append(args, gq.fileID)
		}
	}
	rows, err := q.Query(ctx, `
		SELECT g.id, g.owner_id, o.display_name, o.email, g.grantee_id, u.display_name, u.email,
			coalesce(g.folder_id::text, ''), coalesce(g.file_id::text, ''), coalesce(fo.name, fi.name),
			coalesce(fi.size, 0), g.role, g.created_at, g.updated_at
		FROM grants g
		JOIN users o ON o.id = g.owner_id
		JOIN users u ON u.id = g.grantee_id
		LEFT JOIN folders fo ON fo.id = g.folder_id
		LEFT JOIN files fi ON fi.id = g.file_id
		WHERE `+where+` AND coalesce(fo.trashed_at, fi.trashed_at) IS NULL
		ORDER BY g.created_at DESC, g.id DESC LIMIT `+fmt.Sprint(MaxGrants), args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Grant, error) {
		var g Grant
		err := r.Scan(&g.ID, &g.OwnerID, &g.OwnerName, &g.OwnerEmail, &g.GranteeID, &g.GranteeName, &g.GranteeEmail,
			&g.FolderID, &g.FileID, &g.Name, &g.Size, &g.Role, &g.CreatedAt, &g.UpdatedAt)
		return g, err
	})
}

// setGrantRole changes the role of one of the owner's grants and reports
// whether there was one.
func setGrantRole(ctx context.Context, q database.Querier, ownerID, id string, role Role, now time.Time) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE grants SET role = $3, updated_at = $4 WHERE id = $1 AND owner_id = $2`, id, ownerID, role, now)
	return tag.RowsAffected() == 1, err
}

// deleteGrant removes a grant its owner or its grantee names.
func deleteGrant(ctx context.Context, q database.Querier, userID, id string) (bool, error) {
	tag, err := q.Exec(ctx, `DELETE FROM grants WHERE id = $1 AND (owner_id = $2 OR grantee_id = $2)`, id, userID)
	return tag.RowsAffected() == 1, err
}

// The SQL of Reconcile. reconcile_objects is a temporary table (one
// session) holding what the store listed.

func createReconcileTable(ctx context.Context, q database.Querier) error {
	_, err := q.Exec(ctx, `CREATE TEMPORARY TABLE reconcile_objects (object_key text NOT NULL, modified timestamptz NOT NULL)`)
	return err
}

// copyReconcileKeys adds listed objects ({key, modified} rows).
func copyReconcileKeys(ctx context.Context, conn *pgxpool.Conn, rows [][]any) error {
	_, err := conn.CopyFrom(ctx, pgx.Identifier{"reconcile_objects"}, []string{"object_key", "modified"}, pgx.CopyFromRows(rows))
	return err
}

// analyzeReconcileTable gives the planner statistics autovacuum never
// gathers for a temporary table.
func analyzeReconcileTable(ctx context.Context, q database.Querier) error {
	_, err := q.Exec(ctx, `ANALYZE reconcile_objects`)
	return err
}

func dropReconcileTable(ctx context.Context, q database.Querier) error {
	_, err := q.Exec(ctx, `DROP TABLE IF EXISTS pg_temp.reconcile_objects`)
	return err
}

// queueOrphans queues for deletion the listed objects modified before
// `before` that no file, pending upload or queued deletion refers to
// (uploads in any other state had their object queued when they ended, so
// a row of theirs protects nothing), and returns how many.
func queueOrphans(ctx context.Context, q database.Querier, before, now time.Time) (int64, error) {
	tag, err := q.Exec(ctx, `
		INSERT INTO object_deletions (object_key, not_before)
		SELECT o.object_key, $2 FROM reconcile_objects o
		WHERE o.modified < $1
		  AND NOT EXISTS (SELECT 1 FROM files f WHERE f.object_key = o.object_key)
		  AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.object_key = o.object_key AND u.state = 'pending')
		  AND NOT EXISTS (SELECT 1 FROM object_deletions d WHERE d.object_key = o.object_key)
		ON CONFLICT (object_key) DO NOTHING`, before, now)
	return tag.RowsAffected(), err
}

// missingObjects lists the keys of file rows made before started (so their
// object was stored before the listing began) that the listing did not
// see. A row deleted since is not counted: its object may be gone with
// reason.
func missingObjects(ctx context.Context, q database.Querier, started time.Time) (pgx.Rows, error) {
	return q.Query(ctx, `
		SELECT f.object_key FROM files f
		WHERE f.created_at < $1
		  AND NOT EXISTS (SELECT 1 FROM reconcile_objects o WHERE o.object_key = f.object_key)
		ORDER BY f.object_key`, started)
}
