package files

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/database"
)

// CreateFolderInput is a new folder; the HTML form and the JSON API decode
// into it.
type CreateFolderInput struct {
	// ParentID is the folder to create it in; empty for the root.
	ParentID string `json:"parent_id"`
	Name     string `json:"name"`
	// OnConflict says what to do when the name is taken (default: error).
	OnConflict OnConflict `json:"on_conflict"`
}

// MaxFolderDepth is how deep folders nest: a folder at the root is at
// depth 1. Every walk up the tree (breadcrumbs, access checks) stays short.
const MaxFolderDepth = 64

// errTooDeep is the answer for a folder that would be nested deeper than
// MaxFolderDepth. It names no field, so the browser's forms show it whole.
var errTooDeep = &apperr.Error{
	Code:    apperr.Invalid,
	Message: fmt.Sprintf("Folders can be nested at most %d levels deep.", MaxFolderDepth),
}

// CreateFolder makes a folder in the user's folder or in a folder shared
// with them as editor (the owner owns it), at most MaxFolderDepth deep.
// Errors: Invalid (name, on_conflict, depth), NotFound (parent), Forbidden
// (viewer), Conflict (name taken), Unavailable.
func (s *Service) CreateFolder(ctx context.Context, userID string, in CreateFolderInput) (Folder, error) {
	name, err := CleanName("name", in.Name)
	if err != nil {
		return Folder{}, err
	}
	if err := checkOnConflict(in.OnConflict); err != nil {
		return Folder{}, err
	}
	a, err := s.authorizeFolder(ctx, s.pool, userID, in.ParentID, RoleEditor)
	if err != nil {
		return Folder{}, apperr.Wrap(err, "files: create folder")
	}
	ownerID := a.OwnerID
	var f Folder
	err = database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if in.ParentID != "" {
			// Under the lock of folder moves, so none takes the parent
			// deeper while the depth is checked.
			if err := lockTree(ctx, tx, ownerID); err != nil {
				return err
			}
		}
		if err := lockNames(ctx, tx, ownerID, in.ParentID); err != nil {
			return err
		}
		if err := checkTarget(ctx, tx, ownerID, in.ParentID); err != nil {
			return err
		}
		if in.ParentID != "" {
			depth, err := folderDepth(ctx, tx, ownerID, in.ParentID)
			if err != nil {
				return err
			}
			if depth+1 > MaxFolderDepth {
				return errTooDeep
			}
		}
		name, err := claimName(ctx, tx, ownerID, in.ParentID, name, "", in.OnConflict)
		if err != nil {
			return err
		}
		f, err = insertFolder(ctx, tx, ownerID, in.ParentID, name, s.now())
		return err
	})
	return f, apperr.Wrap(err, "files: create folder")
}

// FindFolder returns a folder that is not in the trash, the user's or
// shared with them. Errors: NotFound, Unavailable.
func (s *Service) FindFolder(ctx context.Context, userID, id string) (Folder, error) {
	a, err := s.authorize(ctx, s.pool, userID, folderKind(), id, RoleViewer)
	if err != nil {
		return Folder{}, apperr.Wrap(err, "files: find folder %s", id)
	}
	f, err := findLiveFolder(ctx, s.pool, a.OwnerID, id, false)
	if errors.Is(err, pgx.ErrNoRows) {
		return Folder{}, errFolderNotFound
	}
	return f, apperr.Wrap(err, "files: find folder %s", id)
}

// FolderPath returns the folders from the root down to id (id last), for
// breadcrumbs; empty for the root (""). For a folder shared with the user
// it starts at the shared folder: what lies above is not theirs to see.
// Errors: NotFound, Unavailable.
func (s *Service) FolderPath(ctx context.Context, userID, id string) ([]Folder, error) {
	if id == "" {
		return nil, nil
	}
	a, err := s.authorize(ctx, s.pool, userID, folderKind(), id, RoleViewer)
	if err != nil {
		return nil, apperr.Wrap(err, "files: path of %s", id)
	}
	path, err := folderPath(ctx, s.pool, a.OwnerID, id)
	if err != nil {
		return nil, apperr.Wrap(err, "files: path of %s", id)
	}
	if a.Shared() {
		// Never more than the share: without its root in the path (moved
		// since the check), only the folder itself.
		i := slices.IndexFunc(path, func(f Folder) bool { return f.ID == a.RootID })
		if i < 0 {
			i = len(path) - 1
		}
		path = path[i:]
	}
	return path, nil
}

// checkOnConflict validates an OnConflict from a request.
func checkOnConflict(c OnConflict) error {
	if c.valid() {
		return nil
	}
	return apperr.InvalidFields(map[string]string{"on_conflict": fmt.Sprintf("Use %q or %q.", ConflictError, ConflictRename)})
}
