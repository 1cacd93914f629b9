package files

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/database"
)

// TrashFolder moves a folder and everything in it to the trash. Errors:
// NotFound, Forbidden, Unavailable.
func (s *Service) TrashFolder(ctx context.Context, userID, id string) error {
	return s.Trash(ctx, userID, Selection{Folders: []string{id}})
}

// TrashFile moves a file to the trash. Errors: NotFound, Forbidden,
// Unavailable.
func (s *Service) TrashFile(ctx context.Context, userID, id string) error {
	return s.Trash(ctx, userID, Selection{Files: []string{id}})
}

// Trash moves the selected files and folders (with their contents) to the
// trash, all or none. Trashed entries stop being listed, found and
// downloadable at once, keep counting against the quota, and can be
// restored until the retention period ends. What an editor deletes in a
// shared folder goes to its owner's trash. Errors: Invalid (empty
// selection), NotFound, Forbidden, Unavailable.
func (s *Service) Trash(ctx context.Context, userID string, sel Selection) error {
	sel, err := sel.clean()
	if err != nil {
		return err
	}
	err = database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		now := s.now()
		for _, id := range sel.Folders {
			a, err := s.authorizeRemoval(ctx, tx, userID, folderKind(), id)
			if err != nil {
				return err
			}
			if _, err := lockLiveEntry(ctx, tx, folderKind(), a.OwnerID, id); err != nil {
				return err
			}
			// The subtree stops at folders already in the trash on their
			// own: they stay separate trash entries.
			if _, err := tx.Exec(ctx, `
				WITH RECURSIVE sub AS (
					SELECT id FROM folders WHERE id = $1
					UNION ALL
					SELECT f.id FROM folders f JOIN sub ON f.parent_id = sub.id WHERE f.trashed_at IS NULL
				), fo AS (
					UPDATE folders SET trashed_at = $2, trash_id = $1 WHERE id IN (SELECT id FROM sub)
				)
				UPDATE files SET trashed_at = $2, trash_id = $1
				WHERE folder_id IN (SELECT id FROM sub) AND trashed_at IS NULL`, id, now); err != nil {
				return err
			}
		}
		for _, id := range sel.Files {
			a, err := s.authorizeRemoval(ctx, tx, userID, fileKind(), id)
			if err != nil {
				return err
			}
			if _, err := lockLiveEntry(ctx, tx, fileKind(), a.OwnerID, id); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE files SET trashed_at = $2, trash_id = $1 WHERE id = $1`, id, now); err != nil {
				return err
			}
		}
		return nil
	})
	return apperr.Wrap(err, "files: trash")
}

// Restore takes the selected trash entries out of the trash with their
// contents, back into their folder, or into the root when that folder is
// gone or itself in the trash. A taken name gets a " (n)" suffix, so a
// restore never fails over a name. Errors: Invalid, NotFound (not in the
// trash), Conflict (an entry that went to the trash with its folder:
// restore the folder), Unavailable.
func (s *Service) Restore(ctx context.Context, ownerID string, sel Selection) error {
	sel, err := sel.clean()
	if err != nil {
		return err
	}
	err = database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		now := s.now()
		for _, id := range sel.Folders {
			if err := s.restore(ctx, tx, folderKind(), ownerID, id, now); err != nil {
				return err
			}
		}
		for _, id := range sel.Files {
			if err := s.restore(ctx, tx, fileKind(), ownerID, id, now); err != nil {
				return err
			}
		}
		return nil
	})
	return apperr.Wrap(err, "files: restore")
}

func (s *Service) restore(ctx context.Context, tx pgx.Tx, k kind, ownerID, id string, now time.Time) error {
	if !validIDs(id) {
		return k.notFound
	}
	var e entry
	var parent *string
	var trashID string
	err := tx.QueryRow(ctx, `SELECT id, `+k.parentCol+`, name, trash_id FROM `+k.table+`
		WHERE id = $1 AND owner_id = $2 AND trash_id IS NOT NULL FOR UPDATE`, id, ownerID).Scan(&e.id, &parent, &e.name, &trashID)
	if errors.Is(err, pgx.ErrNoRows) {
		return k.notFound
	}
	if err != nil {
		return err
	}
	if trashID != id {
		return apperr.Errorf(apperr.Conflict, "%q went to the trash with its folder; restore that folder.", e.name)
	}
	if parent != nil {
		e.parentID = *parent
	}
	target := e.parentID
	if err := checkTarget(ctx, tx, ownerID, target); apperr.Is(err, apperr.NotFound) {
		target = ""
	} else if err != nil {
		return err
	}
	if err := lockNames(ctx, tx, ownerID, target); err != nil {
		return err
	}
	name, err := claimName(ctx, tx, ownerID, target, e.name, e.id, ConflictRename)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE `+k.table+` SET trashed_at = NULL, trash_id = NULL, `+k.parentCol+` = $2, name = $3,
		updated_at = greatest($4, updated_at + interval '1 microsecond') WHERE id = $1`, id, nullID(target), name, now); err != nil {
		return err
	}
	if k.table == "folders" {
		_, err = tx.Exec(ctx, `
			WITH fo AS (UPDATE folders SET trashed_at = NULL, trash_id = NULL WHERE trash_id = $1)
			UPDATE files SET trashed_at = NULL, trash_id = NULL WHERE trash_id = $1`, id)
	}
	return err
}

// TrashPage is the content of the trash: the entries the user trashed
// (their contents are inside them), most recent first.
type TrashPage struct {
	Folders []Folder
	Files   []File
}

// MaxTrashListing caps ListTrash.
const MaxTrashListing = 1000

// ListTrash returns the user's trash, at most MaxTrashListing folders and
// as many files, most recently trashed first. Errors: Unavailable.
func (s *Service) ListTrash(ctx context.Context, ownerID string) (TrashPage, error) {
	var p TrashPage
	if !validIDs(ownerID) {
		return p, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+folderColumns+` FROM folders WHERE owner_id = $1 AND trash_id = id
		ORDER BY trashed_at DESC, id LIMIT $2`, ownerID, MaxTrashListing)
	if err == nil {
		p.Folders, err = collectFolders(rows)
	}
	if err != nil {
		return p, apperr.Wrap(err, "files: list trash")
	}
	rows, err = s.pool.Query(ctx, `SELECT `+fileColumns+` FROM files WHERE owner_id = $1 AND trash_id = id
		ORDER BY trashed_at DESC, id LIMIT $2`, ownerID, MaxTrashListing)
	if err == nil {
		p.Files, err = collectFiles(rows)
	}
	return p, apperr.Wrap(err, "files: list trash")
}

// EmptyTrash deletes everything in the user's trash for good: the rows go
// at once (and the quota is freed), the objects are queued for deletion
// from the store. It returns how many trash entries it deleted. Errors:
// Unavailable.
func (s *Service) EmptyTrash(ctx context.Context, ownerID string) (int, error) {
	if !validIDs(ownerID) {
		return 0, nil
	}
	var n int
	err := database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		n, err = purge(ctx, tx, ownerID, nil, s.now())
		return err
	})
	if err != nil {
		return 0, apperr.Wrap(err, "files: empty trash")
	}
	return n, nil
}

// PurgeExpiredTrash deletes for good the trash entries older than the
// retention period, one owner per transaction, and returns how many it
// deleted. The objects are queued for DeleteObjects. For the jobs runner.
func (s *Service) PurgeExpiredTrash(ctx context.Context) (int, error) {
	cutoff := s.now().Add(-s.cfg.TrashRetention)
	total := 0
	for {
		rows, err := s.pool.Query(ctx, `
			SELECT DISTINCT owner_id FROM (
				(SELECT owner_id FROM folders WHERE trash_id = id AND trashed_at < $1 LIMIT 100)
				UNION ALL
				(SELECT owner_id FROM files WHERE trash_id = id AND trashed_at < $1 LIMIT 100)
			) t`, cutoff)
		if err != nil {
			return total, apperr.Wrap(err, "files: purge trash")
		}
		owners, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return total, apperr.Wrap(err, "files: purge trash")
		}
		if len(owners) == 0 {
			return total, nil
		}
		for _, owner := range owners {
			err := database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
				n, err := purge(ctx, tx, owner, &cutoff, s.now())
				total += n
				return err
			})
			if err != nil {
				return total, apperr.Wrap(err, "files: purge trash of %s", owner)
			}
		}
	}
}

// purge deletes the owner's trash entries (those trashed before the
// cutoff, all when it is nil) with everything inside them: file rows go in
// the same transaction that queues their objects for deletion and takes
// their bytes off the quota. It returns the number of entries.
func purge(ctx context.Context, tx pgx.Tx, ownerID string, cutoff *time.Time, now time.Time) (int, error) {
	// FOR UPDATE: a restore running now either finishes first (and the
	// entry is no longer a trash root) or waits for the purge.
	roots := func(table string) ([]string, error) {
		rows, err := tx.Query(ctx, `SELECT id FROM `+table+`
			WHERE owner_id = $1 AND trash_id = id AND ($2::timestamptz IS NULL OR trashed_at < $2) FOR UPDATE`, ownerID, cutoff)
		if err != nil {
			return nil, fmt.Errorf("trash roots: %w", err)
		}
		return pgx.CollectRows(rows, pgx.RowTo[string])
	}
	folderRoots, err := roots("folders")
	if err != nil {
		return 0, err
	}
	fileRoots, err := roots("files")
	if err != nil {
		return 0, err
	}
	if len(folderRoots)+len(fileRoots) == 0 {
		return 0, nil
	}
	// Everything under the folders, whatever its own trash state.
	_, err = tx.Exec(ctx, `
		WITH RECURSIVE sub AS (
			SELECT id FROM folders WHERE id = ANY ($2) AND owner_id = $1
			UNION ALL
			SELECT f.id FROM folders f JOIN sub ON f.parent_id = sub.id
		), gone AS (
			DELETE FROM files WHERE owner_id = $1 AND (folder_id IN (SELECT id FROM sub) OR id = ANY ($3))
			RETURNING object_key, size
		), queued AS (
			INSERT INTO object_deletions (object_key, not_before) SELECT object_key, $4 FROM gone
			ON CONFLICT (object_key) DO NOTHING
		)
		UPDATE quotas SET used_bytes = used_bytes - (SELECT coalesce(sum(size), 0) FROM gone) WHERE user_id = $1`,
		ownerID, folderRoots, fileRoots, now)
	if err != nil {
		return 0, fmt.Errorf("purge files: %w", err)
	}
	// Subfolders go with their parents (ON DELETE CASCADE).
	if _, err := tx.Exec(ctx, `DELETE FROM folders WHERE owner_id = $1 AND id = ANY ($2)`, ownerID, folderRoots); err != nil {
		return 0, fmt.Errorf("purge folders: %w", err)
	}
	return len(folderRoots) + len(fileRoots), nil
}

// DeleteObjects works through the queue of objects to delete from the
// store (purged files, aborted, expired and failed uploads): each that the
// store confirms leaves the queue; a failure is retried later with backoff.
// It returns how many it deleted. For the jobs runner; the first error is
// returned after the whole batch was tried.
func (s *Service) DeleteObjects(ctx context.Context) (int, error) {
	done := 0
	var firstErr error
	for {
		rows, err := s.pool.Query(ctx, `SELECT object_key, coalesce(multipart_id, ''), attempts FROM object_deletions
			WHERE not_before <= $1 ORDER BY not_before LIMIT 100`, s.now())
		if err != nil {
			return done, apperr.Wrap(err, "files: delete objects")
		}
		type item struct {
			key, multipartID string
			attempts         int
		}
		batch, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (item, error) {
			var it item
			return it, r.Scan(&it.key, &it.multipartID, &it.attempts)
		})
		if err != nil {
			return done, apperr.Wrap(err, "files: delete objects")
		}
		failed := 0
		for _, it := range batch {
			if err := s.deleteObject(ctx, it.key, it.multipartID); err != nil {
				failed++
				if firstErr == nil {
					firstErr = err
				}
				backoff := min(time.Minute<<min(it.attempts, 10), 6*time.Hour)
				if _, err := s.pool.Exec(ctx, `UPDATE object_deletions SET attempts = attempts + 1, not_before = $2, last_error = $3
					WHERE object_key = $1`, it.key, s.now().Add(backoff), truncate(err.Error(), 1000)); err != nil {
					return done, apperr.Wrap(err, "files: delete objects")
				}
				continue
			}
			done++
		}
		if len(batch) < 100 || failed == len(batch) {
			return done, firstErr
		}
	}
}

// deleteObject removes an object (aborting its multipart upload first) and
// then its queue row.
func (s *Service) deleteObject(ctx context.Context, key, multipartID string) error {
	if multipartID != "" {
		if err := s.store.AbortMultipart(ctx, key, multipartID); err != nil {
			return fmt.Errorf("files: abort %s: %w", key, err)
		}
	}
	if err := s.store.Delete(ctx, key); err != nil {
		return fmt.Errorf("files: delete %s: %w", key, err)
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM object_deletions WHERE object_key = $1`, key); err != nil {
		return fmt.Errorf("files: dequeue %s: %w", key, err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
