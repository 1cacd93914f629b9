package files

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/database"
)

// Role is what a user may do with a folder or file.
type Role string

// The roles, weakest first. Grants give viewer or editor; owner is implied.
const (
	// RoleViewer sees, lists and downloads.
	RoleViewer Role = "viewer"
	// RoleEditor also uploads into shared folders, makes folders, renames,
	// moves within the share and deletes to the owner's trash.
	RoleEditor Role = "editor"
	// RoleOwner does everything, including sharing and the trash.
	RoleOwner Role = "owner"
)

func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleEditor:
		return 2
	case RoleOwner:
		return 3
	}
	return 0
}

// AtLeast reports whether r allows what need allows.
func (r Role) AtLeast(need Role) bool { return r.rank() >= need.rank() }

// CanWrite reports whether r may change entries (editor or owner).
func (r Role) CanWrite() bool { return r.AtLeast(RoleEditor) }

// Access is a user's access to one folder or file.
type Access struct {
	// OwnerID owns the entry; its quota pays for what is uploaded there.
	OwnerID   string
	OwnerName string
	Role      Role
	// RootID is the shared entry the access comes from (the entry itself
	// or a folder above it); empty for the owner.
	RootID string
	// RootIsFile says RootID is a file (a file shared on its own).
	RootIsFile bool
}

// Shared reports whether the access comes from a grant (not ownership).
func (a Access) Shared() bool { return a.Role != RoleOwner }

// errReadOnly answers a write by a user who may only view.
var errReadOnly = apperr.Errorf(apperr.Forbidden, "This is shared with you as a viewer: you can open and download it, not change it.")

// authorize returns the user's access to a live entry and checks it allows
// need. The owner is found by one primary-key read; anyone else needs a
// grant on the entry or a folder above it (checked on every call, so a
// removed grant applies to the very next request). Errors: k.notFound (no
// entry, or no access at all), Forbidden (a viewer asking to write).
func (s *Service) authorize(ctx context.Context, q database.Querier, userID string, k kind, id string, need Role) (Access, error) {
	if !validIDs(id) || !validIDs(userID) {
		return Access{}, k.notFound
	}
	owner, ownerName, folder, err := entryOwner(ctx, q, k, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Access{}, k.notFound
	}
	if err != nil {
		return Access{}, err
	}
	if owner == userID {
		return Access{OwnerID: owner, OwnerName: ownerName, Role: RoleOwner}, nil
	}
	fileID := ""
	if k.isFile() {
		fileID = id
	} else {
		folder = id
	}
	a, err := grantedAccess(ctx, q, userID, fileID, folder)
	if errors.Is(err, pgx.ErrNoRows) {
		return Access{}, k.notFound
	}
	if err != nil {
		return Access{}, err
	}
	a.OwnerID, a.OwnerName = owner, ownerName
	if !a.Role.AtLeast(need) {
		return Access{}, errReadOnly
	}
	return a, nil
}

// authorizeFolder is authorize for a folder where "" is the user's own
// root.
func (s *Service) authorizeFolder(ctx context.Context, q database.Querier, userID, folderID string, need Role) (Access, error) {
	if folderID == "" {
		return Access{OwnerID: userID, Role: RoleOwner}, nil
	}
	return s.authorize(ctx, q, userID, folderKind(), folderID, need)
}

// authorizeRemoval checks that the user may take an entry out of its folder
// (move or trash it): the owner, or an editor of a folder above it. The
// shared entry itself stays where its owner put it. Errors as authorize.
func (s *Service) authorizeRemoval(ctx context.Context, q database.Querier, userID string, k kind, id string) (Access, error) {
	a, err := s.authorize(ctx, q, userID, k, id, RoleEditor)
	if err != nil {
		return Access{}, err
	}
	if a.Shared() && a.RootID == id {
		return Access{}, apperr.Errorf(apperr.Forbidden, "Only the owner can move or delete the shared item itself; you can change what is inside it.")
	}
	return a, nil
}

// FolderAccess returns the user's access to a folder ("" is their root).
// Errors: NotFound, Unavailable.
func (s *Service) FolderAccess(ctx context.Context, userID, folderID string) (Access, error) {
	a, err := s.authorizeFolder(ctx, s.pool, userID, folderID, RoleViewer)
	return a, apperr.Wrap(err, "files: access to folder %s", folderID)
}

// FileAccess returns the user's access to a file. Errors: NotFound,
// Unavailable.
func (s *Service) FileAccess(ctx context.Context, userID, fileID string) (Access, error) {
	a, err := s.authorize(ctx, s.pool, userID, fileKind(), fileID, RoleViewer)
	return a, apperr.Wrap(err, "files: access to file %s", fileID)
}
