package shares

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/database"
	"github.com/weupload/weupload/internal/files"
)

// The owner's side of share links: every query is scoped by the owner, so
// another user's link ids are simply not found.

// Kinds of link.
const (
	KindFiles  = "files"  // the listed files
	KindFolder = "folder" // a folder's live contents
)

// State is what a link does for recipients right now.
type State string

// The states, in the order they take precedence.
const (
	StateRevoked   State = "revoked"
	StateExpired   State = "expired"
	StateExhausted State = "exhausted" // download limit reached
	StateActive    State = "active"
)

// Link is a share link as its owner sees it.
type Link struct {
	ID      string
	OwnerID string
	// Token is the secret part of the URL; only owner-scoped reads fill it.
	Token  string
	sealed []byte // Token as stored; nil for a row not sealed yet
	// URL is BaseURL/s/<token>; "" when the stored token does not open
	// (the link key is wrong or missing): the link is unavailable to copy.
	URL      string
	Kind     string
	FileIDs  []string // KindFiles: in the order shared
	FolderID string   // KindFolder; empty once the folder is purged
	Title    string
	Note     string
	// HasPassword: recipients must type the password first.
	HasPassword bool
	// ExpiresAt is nil for a link that never expires.
	ExpiresAt *time.Time
	// MaxDownloads is 0 for no limit.
	MaxDownloads int
	Downloads    int
	Views        int
	LastAccessAt *time.Time
	RevokedAt    *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// State is computed at read time from the fields above.
	State State
	// Items summarises what the link holds now.
	Items Items
}

// Items summarises a link's contents for lists: the name of its (first
// live) file or of its folder, and how many shared files are still live.
type Items struct {
	Name string
	// Files is the number of live files of a files link (0 for a folder).
	Files int
	// Available is false when nothing shared is left (all trashed or deleted).
	Available bool
}

// state computes a link's state at now.
func state(revoked, expires *time.Time, maxDownloads, downloads int, now time.Time) State {
	switch {
	case revoked != nil:
		return StateRevoked
	case expires != nil && !expires.After(now):
		return StateExpired
	case maxDownloads > 0 && downloads >= maxDownloads:
		return StateExhausted
	}
	return StateActive
}

// CreateInput is a new link; the share dialog and the JSON API decode into
// it. Give FileIDs or FolderID, not both.
type CreateInput struct {
	FileIDs  []string `json:"file_ids"`
	FolderID string   `json:"folder_id"`
	// Password is empty for none.
	Password string `json:"password"`
	// ExpiresAt is nil for never.
	ExpiresAt *time.Time `json:"expires_at"`
	// MaxDownloads is nil for no limit.
	MaxDownloads *int   `json:"max_downloads"`
	Title        string `json:"title"`
	Note         string `json:"note"`
}

// UpdateInput changes the options of a link; fields not given stay.
type UpdateInput struct {
	Title *string `json:"title"`
	Note  *string `json:"note"`
	// Password: a new password; "" or null removes it.
	Password Optional[string] `json:"password"`
	// ExpiresAt: null for never.
	ExpiresAt Optional[time.Time] `json:"expires_at"`
	// MaxDownloads: null for no limit.
	MaxDownloads Optional[int] `json:"max_downloads"`
}

// Create makes a link to the owner's files or folder and returns it with its
// URL. Errors: Invalid (options, neither or both of files and folder, too
// many files), NotFound (a file or the folder is not the owner's, or in the
// trash), Unavailable.
func (s *Service) Create(ctx context.Context, ownerID string, in CreateInput) (Link, error) {
	fields := map[string]string{}
	in.FileIDs, in.FolderID = lower(in.FileIDs), strings.ToLower(in.FolderID)
	ids := slices.Compact(slices.Sorted(slices.Values(in.FileIDs)))
	kind := KindFiles
	switch {
	case len(ids) > 0 && in.FolderID != "":
		fields["file_ids"] = "Share either files or one folder, not both."
	case len(ids) == 0 && in.FolderID == "":
		fields["file_ids"] = "Choose the files or the folder to share."
	case len(ids) > files.MaxSelection:
		fields["file_ids"] = fmt.Sprintf("Share at most %d files in one link.", files.MaxSelection)
	case in.FolderID != "":
		kind = KindFolder
	}
	o := s.validateOptions(fields, "note", in.Title, in.Note, &in.Password, in.ExpiresAt, in.MaxDownloads)
	if len(fields) > 0 {
		return Link{}, apperr.InvalidFields(fields)
	}
	if kind == KindFolder && !validIDs(in.FolderID) {
		return Link{}, errFolderNotFound
	}
	if !validIDs(ids...) {
		return Link{}, errFileNotFound
	}
	if err := s.hashPassword(ctx, &o, in.Password); err != nil {
		return Link{}, err
	}
	id, hash, sealed, err := s.newItem(links)
	if err != nil {
		return Link{}, err
	}
	// Keep the caller's order (deduplicated) for display.
	ordered := make([]string, 0, len(ids))
	for _, fileID := range in.FileIDs {
		if !slices.Contains(ordered, fileID) {
			ordered = append(ordered, fileID)
		}
	}
	err = database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		// Read on the transaction (not the pool): one connection at a time.
		var folders []string
		if kind == KindFolder {
			folders = []string{in.FolderID}
		}
		found, err := s.files.SharedEntries(ctx, tx, ownerID, ordered, folders)
		if err != nil {
			return err
		}
		for _, e := range found {
			if !e.Live {
				delete(found, e.ID)
			}
		}
		switch {
		case kind == KindFolder && len(found) == 0:
			return errFolderNotFound
		case len(found) != len(ordered)+len(folders):
			return errFileNotFound
		}
		own := []limitUpdate{{column: "kind", value: kind}, {column: "max_downloads", value: o.maxDownloads}}
		if err := insertItem(ctx, tx, links, id, ownerID, hash, sealed, in.FolderID, o, own, s.now()); err != nil {
			return err
		}
		return insertLinkFiles(ctx, tx, id, ordered)
	})
	if err != nil {
		return Link{}, apperr.Wrap(err, "shares: create link")
	}
	return s.Find(ctx, ownerID, id)
}

// Find returns one of the owner's links. Errors: NotFound, Unavailable.
func (s *Service) Find(ctx context.Context, ownerID, id string) (Link, error) {
	ls, err := s.list(ctx, linkFilter{owned: byID(ownerID, id)}, 1)
	return one(ls, err, errLinkNotFound)
}

// List returns the owner's links, newest first (at most 1000). Errors:
// Unavailable.
func (s *Service) List(ctx context.Context, ownerID string) ([]Link, error) {
	return s.list(ctx, linkFilter{owned: owned{ownerID: ownerID}}, maxLinks)
}

// ListFor returns the owner's links that share exactly these files (in any
// order) or this folder, newest first, for the share dialog. Errors:
// Unavailable.
func (s *Service) ListFor(ctx context.Context, ownerID string, fileIDs []string, folderID string) ([]Link, error) {
	f := linkFilter{owned: owned{ownerID: ownerID}}
	fileIDs, folderID = lower(fileIDs), strings.ToLower(folderID)
	switch {
	case folderID != "" && len(fileIDs) == 0:
		f.folderID = folderID
	case folderID == "" && len(fileIDs) > 0:
		f.fileIDs = slices.Compact(slices.Sorted(slices.Values(fileIDs)))
	default:
		return nil, nil
	}
	if (f.folderID != "" && !validIDs(f.folderID)) || !validIDs(f.fileIDs...) {
		return nil, nil
	}
	return s.list(ctx, f, maxLinks)
}

// list returns the owner's links matching f, at most limit, with their
// Items from the files service's read model.
func (s *Service) list(ctx context.Context, f linkFilter, limit int) ([]Link, error) {
	if !f.valid() {
		return nil, nil
	}
	ls, err := findLinks(ctx, s.pool, f, limit)
	if err != nil {
		return nil, apperr.Wrap(err, "shares: list links")
	}
	var fileIDs []string
	for _, l := range ls {
		fileIDs = append(fileIDs, l.FileIDs...)
	}
	found, err := s.files.SharedEntries(ctx, s.pool, f.ownerID, fileIDs, idsOf(ls, func(l Link) string { return l.FolderID }))
	if err != nil {
		return nil, apperr.Wrap(err, "shares: list links")
	}
	for i := range ls {
		ls[i].Items = items(ls[i], found)
		ls[i] = s.finish(ls[i])
	}
	return ls, nil
}

// items summarises what a link holds now: its folder, or its live files
// and the name of the first (of the first trashed one when none is live).
func items(l Link, found map[string]files.SharedEntry) Items {
	if l.Kind == KindFolder {
		e, ok := found[l.FolderID]
		return Items{Name: e.Name, Available: ok && e.Live}
	}
	var it Items
	trashed := ""
	for _, id := range l.FileIDs {
		e, ok := found[id]
		switch {
		case ok && e.Live:
			if it.Files == 0 {
				it.Name = e.Name
			}
			it.Files++
		case ok && trashed == "":
			trashed = e.Name
		}
	}
	if it.Files == 0 {
		it.Name = trashed
	}
	it.Available = it.Files > 0
	return it
}

// finish fills in what is computed from the stored fields.
func (s *Service) finish(l Link) Link {
	l.Token = s.ownerToken(links, l.ID, l.Token, l.sealed)
	if l.Token != "" {
		l.URL = s.cfg.BaseURL + "/s/" + l.Token
	}
	l.State = state(l.RevokedAt, l.ExpiresAt, l.MaxDownloads, l.Downloads, s.now())
	return l
}

// Update changes a link's options; they apply to the very next request. A
// new or removed password ends every remembered unlock. Errors: Invalid,
// NotFound, Conflict (revoked), Unavailable.
func (s *Service) Update(ctx context.Context, ownerID, id string, in UpdateInput) (Link, error) {
	if !validIDs(id) {
		return Link{}, errLinkNotFound
	}
	u, err := s.checkUpdate(ctx, "note", in.Title, in.Note, in.Password, in.ExpiresAt, in.MaxDownloads.Value, nil)
	if err != nil {
		return Link{}, err
	}
	u.limits = []limitUpdate{{column: "max_downloads", set: in.MaxDownloads.Set, value: in.MaxDownloads.Value}}
	if err := s.update(ctx, links, ownerID, id, u); err != nil {
		return Link{}, err
	}
	return s.Find(ctx, ownerID, id)
}

// Revoke ends a link at once: every later request for it answers as for an
// unknown link. Download URLs already issued stay valid until they expire
// (minutes). Revoking a revoked link does nothing. Errors: NotFound,
// Unavailable.
func (s *Service) Revoke(ctx context.Context, ownerID, id string) (Link, error) {
	if err := s.end(ctx, links, ownerID, id); err != nil {
		return Link{}, err
	}
	return s.Find(ctx, ownerID, id)
}
