package files

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/weupload/weupload/internal/database"
)

// SQL of the access check: who owns an entry, and which grants reach it.
// These read across owners on purpose: they are how a grantee's request
// finds the owner whose rows every later query is scoped to.

// entryOwner returns the owner of a live entry (id and display name) and,
// for a file, its folder ("" at the root).
func entryOwner(ctx context.Context, q database.Querier, k kind, id string) (owner, ownerName, folder string, err error) {
	var parent *string
	err = q.QueryRow(ctx, `SELECT e.owner_id, u.display_name, e.`+k.parentCol()+` FROM `+k.table+` e
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
