package files

import (
	"context"
	"errors"
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
		trash := func(k kind, ids []string, mark func(context.Context, database.Querier, string, string, time.Time) error) error {
			for _, id := range ids {
				a, err := s.authorizeRemoval(ctx, tx, userID, k, id)
				if err != nil {
					return err
				}
				if _, err := lockLiveEntry(ctx, tx, k, a.OwnerID, id); err != nil {
					return err
				}
				if err := mark(ctx, tx, a.OwnerID, id, now); err != nil {
					return err
				}
			}
			return nil
		}
		if err := trash(folderKind(), sel.Folders, trashFolderTree); err != nil {
			return err
		}
		return trash(fileKind(), sel.Files, trashFile)
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
	e, trashID, err := lockTrashed(ctx, tx, k, ownerID, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return k.notFound
	}
	if err != nil {
		return err
	}
	if trashID != id {
		return apperr.Errorf(apperr.Conflict, "%q went to the trash with its folder; restore that folder.", e.name)
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
	if err := untrashEntry(ctx, tx, k, ownerID, id, target, name, now); err != nil {
		return err
	}
	if !k.isFile() {
		return untrashContents(ctx, tx, ownerID, id)
	}
	return nil
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
	var err error
	if p.Folders, err = trashRootFolders(ctx, s.pool, ownerID, MaxTrashListing); err != nil {
		return p, apperr.Wrap(err, "files: list trash")
	}
	p.Files, err = trashRootFiles(ctx, s.pool, ownerID, MaxTrashListing)
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
		n, err = purge(ctx, tx, ownerID, nil, s.now(), s.cfg.ExpiryGrace)
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
		owners, err := ownersWithExpiredTrash(ctx, s.pool, cutoff)
		if err != nil {
			return total, apperr.Wrap(err, "files: purge trash")
		}
		if len(owners) == 0 {
			return total, nil
		}
		for _, owner := range owners {
			err := database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
				n, err := purge(ctx, tx, owner, &cutoff, s.now(), s.cfg.ExpiryGrace)
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
// their bytes off the quota. A file whose upload's PUT URL is still valid
// (it could be stored again once deleted) has its deletion queued for grace
// after that URL's expiry. It returns the number of entries.
func purge(ctx context.Context, tx pgx.Tx, ownerID string, cutoff *time.Time, now time.Time, grace time.Duration) (int, error) {
	folderRoots, err := lockTrashRoots(ctx, tx, folderKind(), ownerID, cutoff)
	if err != nil {
		return 0, err
	}
	fileRoots, err := lockTrashRoots(ctx, tx, fileKind(), ownerID, cutoff)
	if err != nil {
		return 0, err
	}
	if len(folderRoots)+len(fileRoots) == 0 {
		return 0, nil
	}
	if err := deleteTrashedFiles(ctx, tx, ownerID, folderRoots, fileRoots, now, grace); err != nil {
		return 0, err
	}
	if err := deleteFolders(ctx, tx, ownerID, folderRoots); err != nil {
		return 0, err
	}
	return len(folderRoots) + len(fileRoots), nil
}
