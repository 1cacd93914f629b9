package files

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/auth"
	"github.com/weupload/weupload/internal/database"
)

// Grant shares a folder (with everything below it) or a file with another
// registered user, as viewer or editor. Grants live here, not in
// internal/shares, because every read and write of this package consults
// them (authorize).
type Grant struct {
	ID      string
	OwnerID string
	// OwnerName and OwnerEmail: for the grantee's "Shared with me".
	OwnerName    string
	OwnerEmail   string
	GranteeID    string
	GranteeName  string
	GranteeEmail string
	// Exactly one of FolderID and FileID is set.
	FolderID string
	FileID   string
	// Name is the shared entry's current name; Size its size (files).
	Name string
	Size int64
	// ScanState is the shared file's virus scan state ("" for folders).
	ScanState ScanState
	Role      Role
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ShareInput shares one folder or one file by the grantee's email.
type ShareInput struct {
	FolderID string `json:"folder_id"`
	FileID   string `json:"file_id"`
	Email    string `json:"email"`
	Role     Role   `json:"role"`
}

// GrantFilter selects grants an owner made: all of them, or those of one
// folder or file.
type GrantFilter struct {
	FolderID string
	FileID   string
}

// MaxGrants is the most grants a list returns.
const MaxGrants = 1000

var errGrantNotFound = errNotFound("Share")

func checkRole(fields map[string]string, r Role) {
	if r != RoleViewer && r != RoleEditor {
		fields["role"] = "Choose viewer or editor."
	}
}

// Share gives the user with the email a role on the owner's folder or file;
// sharing again with the same person changes the role. Only the owner
// shares. The email lookup is rate-limited per owner (Config.GrantLookups),
// since its answer says whether an account exists. Errors: Invalid (role,
// email, no such user, oneself, neither or both entries), NotFound (the
// entry is not the owner's), TooMany, Unavailable.
func (s *Service) Share(ctx context.Context, ownerID string, in ShareInput) (Grant, error) {
	fields := map[string]string{}
	email := checkShare(fields, in.Email, in.Role)
	if (in.FolderID == "") == (in.FileID == "") {
		fields["folder_id"] = "Share either one folder or one file."
	}
	if len(fields) > 0 {
		return Grant{}, apperr.InvalidFields(fields)
	}
	k, id := folderKind(), in.FolderID
	if in.FileID != "" {
		k, id = fileKind(), in.FileID
	}
	if err := s.checkOwned(ctx, ownerID, k, id); err != nil {
		return Grant{}, apperr.Wrap(err, "files: share %s", id)
	}
	grantee, err := s.lookupGrantee(ctx, ownerID, email)
	if err != nil {
		return Grant{}, apperr.Wrap(err, "files: share %s", id)
	}
	gid, err := upsertGrant(ctx, s.pool, ownerID, grantee, nullID(in.FolderID), nullID(in.FileID), in.Role, s.now())
	if err != nil {
		return Grant{}, apperr.Wrap(err, "files: share %s", id)
	}
	return s.FindGrant(ctx, ownerID, gid)
}

// ShareFiles shares several of the owner's files with one person (the
// share dialog's multi-selection), all or none, with one email lookup. It
// returns the grant of the first file. Errors as Share, and Invalid for an
// empty or too large selection.
func (s *Service) ShareFiles(ctx context.Context, ownerID string, fileIDs []string, email string, role Role) (Grant, error) {
	fields := map[string]string{}
	email = checkShare(fields, email, role)
	fileIDs = dedup(fileIDs)
	if len(fileIDs) == 0 || len(fileIDs) > MaxSelection {
		fields["file_ids"] = fmt.Sprintf("Share 1 to %d files at once.", MaxSelection)
	}
	if len(fields) > 0 {
		return Grant{}, apperr.InvalidFields(fields)
	}
	for _, id := range fileIDs {
		if err := s.checkOwned(ctx, ownerID, fileKind(), id); err != nil {
			return Grant{}, apperr.Wrap(err, "files: share %s", id)
		}
	}
	grantee, err := s.lookupGrantee(ctx, ownerID, email)
	if err != nil {
		return Grant{}, apperr.Wrap(err, "files: share files")
	}
	var first string
	err = database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		now := s.now()
		for i, id := range fileIDs {
			gid, err := upsertGrant(ctx, tx, ownerID, grantee, nil, &id, role, now)
			if err != nil {
				return err
			}
			if i == 0 {
				first = gid
			}
		}
		return nil
	})
	if err != nil {
		return Grant{}, apperr.Wrap(err, "files: share files")
	}
	return s.FindGrant(ctx, ownerID, first)
}

// checkShare validates the role and the email of a share into fields and
// returns the email normalised.
func checkShare(fields map[string]string, email string, role Role) string {
	checkRole(fields, role)
	email = auth.NormalizeEmail(email)
	switch {
	case email == "":
		fields["email"] = "Enter the email address of the person to share with."
	case len(email) > 254 || !strings.Contains(email, "@"):
		fields["email"] = "Enter an email address like name@example.com."
	}
	return email
}

// checkOwned checks that a live entry is the owner's: only the owner
// shares. Errors: k.notFound.
func (s *Service) checkOwned(ctx context.Context, ownerID string, k kind, id string) error {
	if !validIDs(id) {
		return k.notFound
	}
	owner, _, _, err := entryOwner(ctx, s.pool, k, id)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && owner != ownerID) {
		return k.notFound
	}
	return err
}

// lookupGrantee finds the account to share with, counting the lookup
// against the owner's limit. Errors: Invalid (no such user, oneself),
// TooMany.
func (s *Service) lookupGrantee(ctx context.Context, ownerID, email string) (string, error) {
	if s.cfg.Limiter != nil {
		if err := s.cfg.Limiter.Take(ctx, "grant-lookup:"+ownerID, s.cfg.GrantLookups); err != nil {
			return "", err
		}
	}
	grantee, err := userIDByEmail(ctx, s.pool, email)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", apperr.InvalidFields(map[string]string{"email": "No user has this email address. Ask them to create an account, or share a link instead."})
	}
	if err == nil && grantee == ownerID {
		return "", apperr.InvalidFields(map[string]string{"email": "This is your own email address: you already have access."})
	}
	return grantee, err
}

// FindGrant returns a grant the user made or received. Errors: NotFound,
// Unavailable.
func (s *Service) FindGrant(ctx context.Context, userID, id string) (Grant, error) {
	if !validIDs(id, userID) {
		return Grant{}, errGrantNotFound
	}
	gs, err := findGrants(ctx, s.pool, grantQuery{userID: userID, id: id})
	if err != nil {
		return Grant{}, apperr.Wrap(err, "files: find share %s", id)
	}
	if len(gs) == 0 {
		return Grant{}, errGrantNotFound
	}
	return gs[0], nil
}

// ListGrants returns the grants the owner made, newest first, optionally
// of one folder or file (which must be the owner's). Entries in the trash
// are left out. Errors: NotFound (the entry), Unavailable.
func (s *Service) ListGrants(ctx context.Context, ownerID string, f GrantFilter) ([]Grant, error) {
	k, id := folderKind(), f.FolderID
	if f.FileID != "" {
		k, id = fileKind(), f.FileID
	}
	if !validIDs(ownerID) {
		return nil, nil
	}
	if id != "" {
		if err := s.checkOwned(ctx, ownerID, k, id); err != nil {
			return nil, apperr.Wrap(err, "files: list shares")
		}
	}
	gs, err := findGrants(ctx, s.pool, grantQuery{ownerID: ownerID, folderID: f.FolderID, fileID: f.FileID})
	return gs, apperr.Wrap(err, "files: list shares")
}

// SharedWithMe returns what others shared with the user, newest first
// (entries in the trash left out). Errors: Unavailable.
func (s *Service) SharedWithMe(ctx context.Context, userID string) ([]Grant, error) {
	if !validIDs(userID) {
		return nil, nil
	}
	gs, err := findGrants(ctx, s.pool, grantQuery{granteeID: userID})
	return gs, apperr.Wrap(err, "files: shared with %s", userID)
}

// SetGrantRole changes the role of a grant the owner made; the next request
// of the grantee sees it. Errors: Invalid, NotFound, Unavailable.
func (s *Service) SetGrantRole(ctx context.Context, ownerID, id string, role Role) (Grant, error) {
	fields := map[string]string{}
	if checkRole(fields, role); len(fields) > 0 {
		return Grant{}, apperr.InvalidFields(fields)
	}
	if !validIDs(id, ownerID) {
		return Grant{}, errGrantNotFound
	}
	ok, err := setGrantRole(ctx, s.pool, ownerID, id, role, s.now())
	if err != nil {
		return Grant{}, apperr.Wrap(err, "files: change share %s", id)
	}
	if !ok {
		return Grant{}, errGrantNotFound
	}
	return s.FindGrant(ctx, ownerID, id)
}

// Party says which side of a grant may end it.
type Party int

// The sides: the owner removes someone's access, the grantee leaves.
const (
	AsOwner Party = iota + 1
	AsGrantee
	AsEither
)

// RemoveGrant ends a grant the user is a party to as `as` says, and
// returns it as it was. It applies to the very next request. Errors:
// NotFound (no such grant, or the user is not that party), Unavailable.
func (s *Service) RemoveGrant(ctx context.Context, userID, id string, as Party) (Grant, error) {
	g, err := s.FindGrant(ctx, userID, id)
	if err != nil {
		return Grant{}, err
	}
	if (as == AsOwner && g.OwnerID != userID) || (as == AsGrantee && g.GranteeID != userID) {
		return Grant{}, errGrantNotFound
	}
	ok, err := deleteGrant(ctx, s.pool, g.OwnerID, userID, id)
	if err != nil {
		return Grant{}, apperr.Wrap(err, "files: remove share %s", id)
	}
	if !ok {
		return Grant{}, errGrantNotFound
	}
	return g, nil
}
