package files

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weupload/weupload/internal/database"
)

// SQL of the trash. An entry trashed by the user is a trash root
// (trash_id = id); what went with it carries the root's id in trash_id.

// trashFolderTree puts the owner's folder id and everything live under it
// in the trash, as trash root id. The subtree stops at folders already in
// the trash on their own: they stay separate trash entries.
func trashFolderTree(ctx context.Context, q database.Querier, ownerID, id string, now time.Time) error {
	_, err := q.Exec(ctx, `
		WITH RECURSIVE sub AS (
			SELECT id FROM folders WHERE id = $1 AND owner_id = $3
			UNION ALL
			SELECT f.id FROM folders f JOIN sub ON f.parent_id = sub.id WHERE f.trashed_at IS NULL
		), fo AS (
			UPDATE folders SET trashed_at = $2, trash_id = $1 WHERE id IN (SELECT id FROM sub) AND owner_id = $3
		)
		UPDATE files SET trashed_at = $2, trash_id = $1
		WHERE folder_id IN (SELECT id FROM sub) AND owner_id = $3 AND trashed_at IS NULL`, id, now, ownerID)
	return err
}

// trashFile puts the owner's file id in the trash.
func trashFile(ctx context.Context, q database.Querier, ownerID, id string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE files SET trashed_at = $2, trash_id = $1 WHERE id = $1 AND owner_id = $3`, id, now, ownerID)
	return err
}

// lockTrashed reads and locks an entry of the owner that is in the trash,
// and returns it with the trash root it went with.
func lockTrashed(ctx context.Context, q database.Querier, k kind, ownerID, id string) (e entry, trashID string, err error) {
	var parent *string
	err = q.QueryRow(ctx, `SELECT id, `+k.parentCol()+`, name, trash_id FROM `+k.table+`
		WHERE id = $1 AND owner_id = $2 AND trash_id IS NOT NULL FOR UPDATE`, id, ownerID).Scan(&e.id, &parent, &e.name, &trashID)
	if parent != nil {
		e.parentID = *parent
	}
	return e, trashID, err
}

// untrashEntry takes the owner's trash root id out of the trash, into
// parentID under name.
func untrashEntry(ctx context.Context, q database.Querier, k kind, ownerID, id, parentID, name string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE `+k.table+` SET trashed_at = NULL, trash_id = NULL, `+k.parentCol()+` = $3, name = $4,
		updated_at = greatest($5, updated_at + interval '1 microsecond') WHERE id = $1 AND owner_id = $2`,
		id, ownerID, nullID(parentID), name, now)
	return err
}

// untrashContents takes out of the trash what went there with the owner's
// folder trashID.
func untrashContents(ctx context.Context, q database.Querier, ownerID, trashID string) error {
	_, err := q.Exec(ctx, `
		WITH fo AS (UPDATE folders SET trashed_at = NULL, trash_id = NULL WHERE trash_id = $1 AND owner_id = $2)
		UPDATE files SET trashed_at = NULL, trash_id = NULL WHERE trash_id = $1 AND owner_id = $2`, trashID, ownerID)
	return err
}

// trashRootFolders returns the owner's trashed folders (roots), most
// recently trashed first.
func trashRootFolders(ctx context.Context, q database.Querier, ownerID string, limit int) ([]Folder, error) {
	rows, err := q.Query(ctx, `SELECT `+folderColumns+` FROM folders WHERE owner_id = $1 AND trash_id = id
		ORDER BY trashed_at DESC, id LIMIT $2`, ownerID, limit)
	if err != nil {
		return nil, err
	}
	return collectFolders(rows)
}

// trashRootFiles returns the owner's trashed files (roots), most recently
// trashed first.
func trashRootFiles(ctx context.Context, q database.Querier, ownerID string, limit int) ([]File, error) {
	rows, err := q.Query(ctx, `SELECT `+fileColumns+` FROM files WHERE owner_id = $1 AND trash_id = id
		ORDER BY trashed_at DESC, id LIMIT $2`, ownerID, limit)
	if err != nil {
		return nil, err
	}
	return collectFiles(rows)
}

// ownersWithExpiredTrash returns some owners with trash roots trashed
// before cutoff (a batch; call again until it is empty).
func ownersWithExpiredTrash(ctx context.Context, q database.Querier, cutoff time.Time) ([]string, error) {
	rows, err := q.Query(ctx, `
		SELECT DISTINCT owner_id FROM (
			(SELECT owner_id FROM folders WHERE trash_id = id AND trashed_at < $1 LIMIT 100)
			UNION ALL
			(SELECT owner_id FROM files WHERE trash_id = id AND trashed_at < $1 LIMIT 100)
		) t`, cutoff)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// lockTrashRoots returns and locks (FOR UPDATE) the ids of the owner's
// trash roots in a table, those trashed before cutoff or all when it is
// nil: a restore running now either finishes first (and the entry is no
// longer a trash root) or waits for the purge.
func lockTrashRoots(ctx context.Context, q database.Querier, k kind, ownerID string, cutoff *time.Time) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT id FROM `+k.table+`
		WHERE owner_id = $1 AND trash_id = id AND ($2::timestamptz IS NULL OR trashed_at < $2) FOR UPDATE`, ownerID, cutoff)
	if err != nil {
		return nil, fmt.Errorf("trash roots: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// deleteTrashedFiles deletes the owner's files in or under folderRoots
// (whatever their own trash state) and the files fileRoots, queues their
// objects for deletion (at now, or grace after the latest expiry of the
// URLs of the upload that made the object, whichever is later) and takes
// their bytes off the owner's quota, in one statement.
func deleteTrashedFiles(ctx context.Context, q database.Querier, ownerID string, folderRoots, fileRoots []string, now time.Time, grace time.Duration) error {
	_, err := q.Exec(ctx, `
		WITH RECURSIVE sub AS (
			SELECT id FROM folders WHERE id = ANY ($2) AND owner_id = $1
			UNION ALL
			SELECT f.id FROM folders f JOIN sub ON f.parent_id = sub.id
		), gone AS (
			DELETE FROM files WHERE owner_id = $1 AND (folder_id IN (SELECT id FROM sub) OR id = ANY ($3))
			RETURNING object_key, size
		), queued AS (
			INSERT INTO object_deletions (object_key, not_before)
			SELECT g.object_key, greatest($4, u.urls_expire_at + $5 * interval '1 microsecond')
			FROM gone g LEFT JOIN uploads u ON u.object_key = g.object_key AND u.owner_id = $1
			ON CONFLICT (object_key) DO NOTHING
		)
		UPDATE quotas SET used_bytes = used_bytes - (SELECT coalesce(sum(size), 0) FROM gone) WHERE user_id = $1`,
		ownerID, folderRoots, fileRoots, now, grace.Microseconds())
	if err != nil {
		return fmt.Errorf("purge files: %w", err)
	}
	return nil
}

// deleteFolders deletes the owner's folders ids; their subfolders go with
// them (ON DELETE CASCADE).
func deleteFolders(ctx context.Context, q database.Querier, ownerID string, ids []string) error {
	if _, err := q.Exec(ctx, `DELETE FROM folders WHERE owner_id = $1 AND id = ANY ($2)`, ownerID, ids); err != nil {
		return fmt.Errorf("purge folders: %w", err)
	}
	return nil
}
