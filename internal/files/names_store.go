package files

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/weupload/weupload/internal/database"
)

// SQL of the one namespace that files and folders share in a folder.

// lockNames serialises the naming of entries in one folder of one owner
// (files and folders share the namespace, which no single index covers).
func lockNames(ctx context.Context, q database.Querier, ownerID, folderID string) error {
	_, err := q.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('names:' || $1 || ':' || $2, 0))`, ownerID, folderID)
	return err
}

// nameTaken reports whether a live file or folder in the folder has name,
// ignoring the entry with id except (pass "" for none).
func nameTaken(ctx context.Context, q database.Querier, ownerID, folderID, name, except string) (bool, error) {
	var taken bool
	err := q.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM folders WHERE owner_id = $1 AND parent_id IS NOT DISTINCT FROM $2
		                 AND name = $3 AND trashed_at IS NULL AND id IS DISTINCT FROM $4)
		    OR EXISTS (SELECT 1 FROM files WHERE owner_id = $1 AND folder_id IS NOT DISTINCT FROM $2
		                 AND name = $3 AND trashed_at IS NULL AND id IS DISTINCT FROM $4)`,
		ownerID, nullID(folderID), name, nullID(except)).Scan(&taken)
	return taken, err
}

// takenNames returns which of the names live files and folders of the
// folder have.
func takenNames(ctx context.Context, q database.Querier, ownerID, folderID string, names []string) ([]string, error) {
	rows, err := q.Query(ctx, `
		SELECT name FROM folders WHERE owner_id = $1 AND parent_id IS NOT DISTINCT FROM $2
		   AND trashed_at IS NULL AND name = ANY ($3)
		UNION ALL
		SELECT name FROM files WHERE owner_id = $1 AND folder_id IS NOT DISTINCT FROM $2
		   AND trashed_at IS NULL AND name = ANY ($3)`, ownerID, nullID(folderID), names)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
