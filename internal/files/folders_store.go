package files

import (
	"context"
	"time"

	"github.com/weupload/weupload/internal/database"
)

// SQL of folders: creation, the path up to the root, and the tree lock and
// cycle check of folder moves.

// insertFolder makes a folder of the owner in parentID ("" for the root).
func insertFolder(ctx context.Context, q database.Querier, ownerID, parentID, name string, now time.Time) (Folder, error) {
	return scanFolder(q.QueryRow(ctx, `
		INSERT INTO folders (owner_id, parent_id, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
		RETURNING `+folderColumns, ownerID, nullID(parentID), name, now))
}

// folderPath returns the owner's folder id and the folders above it, from
// the root down (id last).
func folderPath(ctx context.Context, q database.Querier, ownerID, id string) ([]Folder, error) {
	rows, err := q.Query(ctx, `
		WITH RECURSIVE up AS (
			SELECT `+folderColumns+`, 0 AS depth FROM folders WHERE id = $1 AND owner_id = $2
			UNION ALL
			SELECT f.id, f.owner_id, f.parent_id, f.name, f.created_at, f.updated_at, f.trashed_at, up.depth + 1
			FROM folders f JOIN up ON f.id = up.parent_id
		)
		SELECT `+folderColumns+` FROM up ORDER BY depth DESC`, id, ownerID)
	if err != nil {
		return nil, err
	}
	return collectFolders(rows)
}

// folderDepth returns the depth of the owner's folder id (1 at the root).
// The walk stops past MaxFolderDepth: deeper is too deep either way.
func folderDepth(ctx context.Context, q database.Querier, ownerID, id string) (int, error) {
	var depth int
	err := q.QueryRow(ctx, `
		WITH RECURSIVE up AS (
			SELECT id, parent_id, 1 AS depth FROM folders WHERE id = $1 AND owner_id = $2
			UNION ALL
			SELECT f.id, f.parent_id, up.depth + 1 FROM folders f JOIN up ON f.id = up.parent_id
			WHERE up.depth <= $3
		)
		SELECT coalesce(max(depth), 0) FROM up`, id, ownerID, MaxFolderDepth).Scan(&depth)
	return depth, err
}

// subtreeHeight returns how many levels the owner's folder id and the
// folders below it span (1 for a folder without subfolders), trashed ones
// included (they may be restored in place). The walk stops past
// MaxFolderDepth.
func subtreeHeight(ctx context.Context, q database.Querier, ownerID, id string) (int, error) {
	var height int
	err := q.QueryRow(ctx, `
		WITH RECURSIVE down AS (
			SELECT id, 1 AS height FROM folders WHERE id = $1 AND owner_id = $2
			UNION ALL
			SELECT f.id, down.height + 1 FROM folders f JOIN down ON f.parent_id = down.id
			WHERE f.owner_id = $2 AND down.height <= $3
		)
		SELECT coalesce(max(height), 0) FROM down`, id, ownerID, MaxFolderDepth).Scan(&height)
	return height, err
}

// lockTree serialises the folder moves of one owner for the transaction,
// so two concurrent moves cannot make a cycle that neither saw.
func lockTree(ctx context.Context, q database.Querier, ownerID string) error {
	_, err := q.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('tree:' || $1, 0))`, ownerID)
	return err
}

// folderWithin reports whether the owner's folder id is ancestor or the
// folder itself, or lies below it.
func folderWithin(ctx context.Context, q database.Querier, ownerID, id, ancestor string) (bool, error) {
	var within bool
	err := q.QueryRow(ctx, `
		WITH RECURSIVE up AS (
			SELECT id, parent_id FROM folders WHERE id = $1 AND owner_id = $3
			UNION ALL
			SELECT f.id, f.parent_id FROM folders f JOIN up ON f.id = up.parent_id
		)
		SELECT EXISTS (SELECT 1 FROM up WHERE id = $2)`, id, ancestor, ownerID).Scan(&within)
	return within, err
}
