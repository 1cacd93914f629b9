package files

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/blob"
	"github.com/weupload/weupload/internal/database"
)

// kind says which table an entry (file or folder) lives in.
type kind struct {
	table    string // folders | files
	notFound error
}

func folderKind() kind { return kind{table: "folders", notFound: errFolderNotFound} }
func fileKind() kind   { return kind{table: "files", notFound: errFileNotFound} }

// isFile reports whether the entry is a file.
func (k kind) isFile() bool { return k.table == "files" }

// entry is what rename, move and restore need to know of a file or folder.
type entry struct {
	id, parentID, name string
	updatedAt          time.Time
}

// errStale is the answer to a conditional update of an entry that changed
// since the caller read it.
var errStale = &apperr.Error{
	Code:    apperr.Stale,
	Message: "This item changed since you last read it. Fetch it again, then retry the change.",
}

// checkVersion enforces a conditional update: when versions is not empty,
// the entry's UpdatedAt must be one of them. The caller holds the row lock,
// so the entry cannot change between this check and the update.
func (e entry) checkVersion(versions []time.Time) error {
	if len(versions) == 0 || slices.ContainsFunc(versions, e.updatedAt.Equal) {
		return nil
	}
	return errStale
}

// lockLiveEntry locks a live entry of the owner. Errors: k.notFound.
func lockLiveEntry(ctx context.Context, q database.Querier, k kind, ownerID, id string) (entry, error) {
	if !validIDs(id) {
		return entry{}, k.notFound
	}
	e, err := selectLiveEntry(ctx, q, k, ownerID, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return entry{}, k.notFound
	}
	return e, err
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

// place gives entry e the parent and name, claiming the name in the parent
// (the caller holds lockNames for parent).
func place(ctx context.Context, q database.Querier, k kind, ownerID string, e entry, parentID, name string, onConflict OnConflict, now time.Time) error {
	name, err := claimName(ctx, q, ownerID, parentID, name, e.id, onConflict)
	if err != nil {
		return err
	}
	return updatePlacement(ctx, q, k, ownerID, e.id, parentID, name, now)
}

// RenameInput is a new name for a file or folder.
type RenameInput struct {
	Name       string     `json:"name"`
	OnConflict OnConflict `json:"on_conflict"`
	// IfUpdatedAt makes the rename conditional (HTTP If-Match): when not
	// empty, it fails with Stale unless the entry's UpdatedAt is one of
	// these, so a client cannot overwrite a change it has not seen.
	IfUpdatedAt []time.Time `json:"-"`
}

// RenameFolder renames a folder (the user's, or shared with them as
// editor). Errors: Invalid, NotFound, Forbidden, Conflict, Stale,
// Unavailable.
func (s *Service) RenameFolder(ctx context.Context, userID, id string, in RenameInput) (Folder, error) {
	if err := s.rename(ctx, folderKind(), userID, id, in); err != nil {
		return Folder{}, apperr.Wrap(err, "files: rename folder %s", id)
	}
	return s.FindFolder(ctx, userID, id)
}

// RenameFile renames a file (the user's, or shared with them as editor).
// Errors: Invalid, NotFound, Forbidden, Conflict, Stale, Unavailable.
func (s *Service) RenameFile(ctx context.Context, userID, id string, in RenameInput) (File, error) {
	if err := s.rename(ctx, fileKind(), userID, id, in); err != nil {
		return File{}, apperr.Wrap(err, "files: rename file %s", id)
	}
	return s.FindFile(ctx, userID, id)
}

func (s *Service) rename(ctx context.Context, k kind, userID, id string, in RenameInput) error {
	name, err := CleanName("name", in.Name)
	if err != nil {
		return err
	}
	if err := checkOnConflict(in.OnConflict); err != nil {
		return err
	}
	a, err := s.authorize(ctx, s.pool, userID, k, id, RoleEditor)
	if err != nil {
		return err
	}
	ownerID := a.OwnerID
	return database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		e, err := lockLiveEntry(ctx, tx, k, ownerID, id)
		if err != nil {
			return err
		}
		if err := e.checkVersion(in.IfUpdatedAt); err != nil {
			return err
		}
		if e.name == name {
			return nil
		}
		if err := lockNames(ctx, tx, ownerID, e.parentID); err != nil {
			return err
		}
		return place(ctx, tx, k, ownerID, e, e.parentID, name, in.OnConflict, s.now())
	})
}

// MoveInput is the destination of a move.
type MoveInput struct {
	// FolderID is the destination folder; empty for the root.
	FolderID   string     `json:"folder_id"`
	OnConflict OnConflict `json:"on_conflict"`
	// IfUpdatedAt makes the move conditional, as for RenameInput; it is
	// checked against every entry moved, so it suits single-entry moves.
	IfUpdatedAt []time.Time `json:"-"`
}

// Selection names files and folders for the bulk operations.
type Selection struct {
	Files   []string `json:"files"`
	Folders []string `json:"folders"`
}

// MaxSelection is the most entries one bulk operation takes.
const MaxSelection = 1000

// clean drops duplicates and checks the size: at least one, at most
// MaxSelection. Errors: Invalid.
func (sel Selection) clean() (Selection, error) {
	sel.Files = dedup(sel.Files)
	sel.Folders = dedup(sel.Folders)
	switch n := len(sel.Files) + len(sel.Folders); {
	case n == 0:
		return sel, apperr.Errorf(apperr.Invalid, "Select at least one file or folder.")
	case n > MaxSelection:
		return sel, apperr.Errorf(apperr.Invalid, "Select at most %d items at once.", MaxSelection)
	}
	return sel, nil
}

func dedup(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// MoveFolder moves a folder (with its contents) into another folder.
// Errors: Invalid (into itself or a subfolder, or its deepest subfolder
// would be deeper than MaxFolderDepth), NotFound, Forbidden, Conflict,
// Stale, Unavailable.
func (s *Service) MoveFolder(ctx context.Context, userID, id string, in MoveInput) (Folder, error) {
	if err := s.Move(ctx, userID, Selection{Folders: []string{id}}, in); err != nil {
		return Folder{}, err
	}
	return s.FindFolder(ctx, userID, id)
}

// MoveFile moves a file into another folder. Errors: Invalid, NotFound,
// Forbidden, Conflict, Stale, Unavailable.
func (s *Service) MoveFile(ctx context.Context, userID, id string, in MoveInput) (File, error) {
	if err := s.Move(ctx, userID, Selection{Files: []string{id}}, in); err != nil {
		return File{}, err
	}
	return s.FindFile(ctx, userID, id)
}

// Move moves the selected files and folders into one folder, all or none:
// one missing id (or another user's) fails the whole move. Entries move
// within one owner's folders only: an editor of a shared folder moves
// things inside what is shared with them, never out of it (nor the shared
// folder itself). Errors: Invalid, NotFound, Forbidden, Conflict (a name
// taken, unless OnConflict is rename), Stale (in.IfUpdatedAt),
// Unavailable.
func (s *Service) Move(ctx context.Context, userID string, sel Selection, in MoveInput) error {
	sel, err := sel.clean()
	if err != nil {
		return err
	}
	if err := checkOnConflict(in.OnConflict); err != nil {
		return err
	}
	dest, err := s.authorizeFolder(ctx, s.pool, userID, in.FolderID, RoleEditor)
	if err != nil {
		return apperr.Wrap(err, "files: move")
	}
	ownerID := dest.OwnerID
	err = database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if len(sel.Folders) > 0 {
			// Folder moves of one owner run one at a time, so two concurrent
			// moves cannot make a cycle that neither saw.
			if err := lockTree(ctx, tx, ownerID); err != nil {
				return err
			}
		}
		if err := lockNames(ctx, tx, ownerID, in.FolderID); err != nil {
			return err
		}
		if err := checkTarget(ctx, tx, ownerID, in.FolderID); err != nil {
			return err
		}
		now := s.now()
		for _, id := range sel.Folders {
			if err := s.moveEntry(ctx, tx, folderKind(), userID, ownerID, id, in, now); err != nil {
				return err
			}
		}
		for _, id := range sel.Files {
			if err := s.moveEntry(ctx, tx, fileKind(), userID, ownerID, id, in, now); err != nil {
				return err
			}
		}
		return nil
	})
	return apperr.Wrap(err, "files: move")
}

func (s *Service) moveEntry(ctx context.Context, tx pgx.Tx, k kind, userID, ownerID, id string, in MoveInput, now time.Time) error {
	a, err := s.authorizeRemoval(ctx, tx, userID, k, id)
	if err != nil {
		return err
	}
	if a.OwnerID != ownerID {
		return apperr.InvalidFields(map[string]string{"folder_id": "Items can only be moved between folders of the same owner."})
	}
	e, err := lockLiveEntry(ctx, tx, k, ownerID, id)
	if err != nil {
		return err
	}
	if err := e.checkVersion(in.IfUpdatedAt); err != nil || e.parentID == in.FolderID {
		return err
	}
	if !k.isFile() && in.FolderID != "" {
		cycle, err := folderWithin(ctx, tx, ownerID, in.FolderID, id)
		if err != nil {
			return err
		}
		if cycle {
			return apperr.InvalidFields(map[string]string{"folder_id": "A folder cannot be moved into itself or one of its subfolders."})
		}
		depth, err := folderDepth(ctx, tx, ownerID, in.FolderID)
		if err != nil {
			return err
		}
		height, err := subtreeHeight(ctx, tx, ownerID, id)
		if err != nil {
			return err
		}
		if depth+height > MaxFolderDepth {
			return errTooDeep
		}
	}
	return place(ctx, tx, k, ownerID, e, in.FolderID, e.name, in.OnConflict, now)
}

// FindFile returns a file that is not in the trash, the user's or shared
// with them. Errors: NotFound, Unavailable.
func (s *Service) FindFile(ctx context.Context, userID, id string) (File, error) {
	a, err := s.authorize(ctx, s.pool, userID, fileKind(), id, RoleViewer)
	if err != nil {
		return File{}, apperr.Wrap(err, "files: find file %s", id)
	}
	f, err := findLiveFile(ctx, s.pool, a.OwnerID, id, false)
	if errors.Is(err, pgx.ErrNoRows) {
		return File{}, errFileNotFound
	}
	return f, apperr.Wrap(err, "files: find file %s", id)
}

// Download is a short-lived URL that downloads a file as an attachment.
type Download struct {
	URL       string
	ExpiresAt time.Time
	File      File
}

// DownloadURL checks that the user may read the file (theirs or shared
// with them, and not in the trash) and returns a presigned GET URL, valid for the configured
// download TTL, that answers with an RFC 6266 attachment disposition and a
// safe content type. With scanning required, only a clean file is served.
// Errors: NotFound, Conflict (not clean: see Servable), Unavailable.
func (s *Service) DownloadURL(ctx context.Context, userID, id string) (Download, error) {
	f, err := s.FindFile(ctx, userID, id)
	if err != nil {
		return Download{}, err
	}
	if err := s.Servable(f.ScanState); err != nil {
		return Download{}, err
	}
	expires := s.Now().Add(s.cfg.DownloadURLTTL)
	u, err := s.store.PresignGet(ctx, f.objectKey, blob.GetOptions{Filename: f.Name, ContentType: f.ContentType, TTL: s.cfg.DownloadURLTTL})
	if err != nil {
		return Download{}, apperr.Wrap(err, "files: download %s", id)
	}
	return Download{URL: u, ExpiresAt: expires.Truncate(time.Second), File: f}, nil
}
