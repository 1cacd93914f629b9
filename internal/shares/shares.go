// Package shares owns share links: an unguessable URL that gives people
// without an account some files, or a folder, of the link's owner, with an
// optional password, expiry and download limit.
//
// The owner's methods (Create, Find, List, Update, Revoke) scope every query
// by the owner, so another user's link ids are simply not found. The
// recipient's methods (Open, Unlock, DownloadURL, Archive) take the token
// from the URL; every one that yields bytes or a URL goes through authorize,
// the one place that decides access: link known and not revoked, owner still
// there, not expired, not used up, unlocked when it has a password. The
// shared files themselves are resolved at each request, scoped by the owner
// and by folder id in the tree, so trashed and deleted files drop out at
// once.
package shares

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/blob"
	"github.com/weupload/weupload/internal/database"
	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/password"
	"github.com/weupload/weupload/internal/ratelimit"
)

// Config holds the settings of the service; zero fields take the defaults
// (see New).
type Config struct {
	// BaseURL is the site's public URL; links are BaseURL/s/<token>.
	BaseURL string
	// DownloadURLTTL is how long an issued download URL is valid: the most a
	// revocation can lag behind for a URL already handed out.
	DownloadURLTTL time.Duration
	// UnlockTTL is how long a typed password is remembered for a link.
	UnlockTTL time.Duration
	// LinkRule and IPRule limit wrong passwords per link and per client IP.
	LinkRule ratelimit.Rule
	IPRule   ratelimit.Rule
	// Argon2 are the cost parameters of new link passwords.
	Argon2 password.Params
	// Hasher runs every hash and check of a link password: the process's
	// one bounded argon2 runner. Nil makes one with Argon2's parameters.
	Hasher *password.Hasher
}

// Defaults for the zero fields of Config.
const (
	DefaultUnlockTTL = time.Hour
	// MaxTitleLen and MaxNoteLen are in characters.
	MaxTitleLen = 200
	MaxNoteLen  = 2000
	// MaxDownloadsLimit is the largest download limit one can set.
	MaxDownloadsLimit = 1_000_000
	// MaxListed caps the files a landing page lists (the zip has them all).
	MaxListed = 1000
	// MaxArchiveFiles caps the files of one zip, so its list fits in memory.
	MaxArchiveFiles = 100_000
	// maxLinks caps List.
	maxLinks = 1000
)

// Service implements share links.
type Service struct {
	pool    *pgxpool.Pool
	store   blob.Store
	files   *files.Service
	limiter *ratelimit.Limiter
	cfg     Config
	// Now is the clock for expiry, unlocks and timestamps; tests replace it.
	Now func() time.Time
}

// New returns the service on pool and store; upload requests use fs for the
// upload protocol, limiter throttles passwords.
func New(pool *pgxpool.Pool, store blob.Store, fs *files.Service, limiter *ratelimit.Limiter, cfg Config) *Service {
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.DownloadURLTTL <= 0 {
		cfg.DownloadURLTTL = blob.DefaultGetTTL
	}
	if cfg.UnlockTTL <= 0 {
		cfg.UnlockTTL = DefaultUnlockTTL
	}
	if cfg.LinkRule.Limit <= 0 {
		cfg.LinkRule = ratelimit.Rule{Limit: 20, Window: 15 * time.Minute}
	}
	if cfg.IPRule.Limit <= 0 {
		cfg.IPRule = ratelimit.Rule{Limit: 10, Window: 15 * time.Minute}
	}
	if cfg.Argon2 == (password.Params{}) {
		cfg.Argon2 = password.Default
	}
	if cfg.Hasher == nil {
		cfg.Hasher = password.NewHasher(cfg.Argon2, password.DefaultSlots())
	}
	return &Service{pool: pool, store: store, files: fs, limiter: limiter, cfg: cfg, Now: time.Now}
}

// now is the clock in microseconds, PostgreSQL's precision.
func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

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
	Token string
	// URL is BaseURL/s/<token>.
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

// Optional is a field of a partial update: Set says it was given (in JSON:
// present, possibly null); Value nil with Set means "clear it".
type Optional[T any] struct {
	Set   bool
	Value *T
}

// Some is an Optional set to v.
func Some[T any](v T) Optional[T] { return Optional[T]{Set: true, Value: &v} }

// Null is an Optional set to "none".
func Null[T any]() Optional[T] { return Optional[T]{Set: true} }

// UnmarshalJSON marks the field as given; null clears it.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Value = nil
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	o.Value = &v
	return nil
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

var (
	errLinkNotFound   = apperr.Errorf(apperr.NotFound, "Link not found.")
	errFileNotFound   = apperr.Errorf(apperr.NotFound, "File not found.")
	errFolderNotFound = apperr.Errorf(apperr.NotFound, "Folder not found.")
)

// options are the validated, normalised options of a link.
type options struct {
	title, note  string
	passwordHash *string // nil: none
	expiresAt    *time.Time
	maxDownloads *int
}

// validateOptions checks title, note (named noteField in messages),
// password, expiry and limit, adding per-field messages to fields.
func (s *Service) validateOptions(fields map[string]string, noteField, title, note string, pw *string, expires *time.Time, maxDownloads *int) options {
	var o options
	o.title = strings.TrimSpace(title)
	switch {
	case utf8.RuneCountInString(o.title) > MaxTitleLen:
		fields["title"] = fmt.Sprintf("A title has at most %d characters.", MaxTitleLen)
	case !printable(o.title, false):
		fields["title"] = "A title cannot contain control characters."
	}
	o.note = strings.TrimSpace(strings.ReplaceAll(note, "\r\n", "\n"))
	switch {
	case utf8.RuneCountInString(o.note) > MaxNoteLen:
		fields[noteField] = fmt.Sprintf("A %s has at most %d characters.", noteField, MaxNoteLen)
	case !printable(o.note, true):
		fields[noteField] = fmt.Sprintf("A %s cannot contain control characters.", noteField)
	}
	if pw != nil && *pw != "" {
		if msg := password.Problem(*pw); msg != "" {
			fields["password"] = msg
		}
	}
	if expires != nil {
		t := expires.UTC().Truncate(time.Microsecond)
		if !t.After(s.now()) {
			fields["expires_at"] = "The expiry must be in the future."
		}
		o.expiresAt = &t
	}
	if maxDownloads != nil {
		if *maxDownloads < 1 || *maxDownloads > MaxDownloadsLimit {
			fields["max_downloads"] = fmt.Sprintf("Allow 1 to %d downloads, or leave it empty for no limit.", MaxDownloadsLimit)
		}
		o.maxDownloads = maxDownloads
	}
	return o
}

// hashPassword sets o.passwordHash from a non-empty password.
func (s *Service) hashPassword(ctx context.Context, o *options, pw string) error {
	if pw == "" {
		return nil
	}
	h, err := s.cfg.Hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	o.passwordHash = &h
	return nil
}

// printable reports whether s has no control or format characters (bidi
// overrides); multiline allows newlines and tabs.
func printable(s string, multiline bool) bool {
	for _, r := range s {
		if multiline && (r == '\n' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || (unicode.Is(unicode.Cf, r) && r != '\u200d') {
			return false
		}
	}
	return utf8.ValidString(s)
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
	token, hash, err := newToken()
	if err != nil {
		return Link{}, err
	}
	// Keep the caller's order (deduplicated) for display.
	ordered := make([]string, 0, len(ids))
	for _, id := range in.FileIDs {
		if !slices.Contains(ordered, id) {
			ordered = append(ordered, id)
		}
	}
	var id string
	err = database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		switch kind {
		case KindFolder:
			ok, err := liveFolder(ctx, tx, ownerID, in.FolderID)
			if err != nil {
				return err
			}
			if !ok {
				return errFolderNotFound
			}
		default:
			n, err := countLiveFiles(ctx, tx, ownerID, ordered)
			if err != nil {
				return err
			}
			if n != len(ordered) {
				return errFileNotFound
			}
		}
		id, err = insertLink(ctx, tx, ownerID, token, hash, kind, in.FolderID, o, s.now())
		if err != nil {
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
	if !validIDs(id) {
		return Link{}, errLinkNotFound
	}
	ls, err := findLinks(ctx, s.pool, linkFilter{ownerID: ownerID, id: id}, 1)
	if err != nil {
		return Link{}, apperr.Wrap(err, "shares: find link %s", id)
	}
	if len(ls) == 0 {
		return Link{}, errLinkNotFound
	}
	return s.finish(ls[0]), nil
}

// List returns the owner's links, newest first (at most 1000). Errors:
// Unavailable.
func (s *Service) List(ctx context.Context, ownerID string) ([]Link, error) {
	return s.list(ctx, linkFilter{ownerID: ownerID})
}

// ListFor returns the owner's links that share exactly these files (in any
// order) or this folder, newest first, for the share dialog. Errors:
// Unavailable.
func (s *Service) ListFor(ctx context.Context, ownerID string, fileIDs []string, folderID string) ([]Link, error) {
	f := linkFilter{ownerID: ownerID}
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
	return s.list(ctx, f)
}

func (s *Service) list(ctx context.Context, f linkFilter) ([]Link, error) {
	if !validIDs(f.ownerID) {
		return nil, nil
	}
	ls, err := findLinks(ctx, s.pool, f, maxLinks)
	if err != nil {
		return nil, apperr.Wrap(err, "shares: list links")
	}
	for i := range ls {
		ls[i] = s.finish(ls[i])
	}
	return ls, nil
}

// finish fills in what is computed from the stored fields.
func (s *Service) finish(l Link) Link {
	l.URL = s.cfg.BaseURL + "/s/" + l.Token
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
	fields := map[string]string{}
	var pw *string
	if in.Password.Set {
		pw = in.Password.Value
	}
	title, note := "", ""
	if in.Title != nil {
		title = *in.Title
	}
	if in.Note != nil {
		note = *in.Note
	}
	o := s.validateOptions(fields, "note", title, note, pw, in.ExpiresAt.Value, in.MaxDownloads.Value)
	if len(fields) > 0 {
		return Link{}, apperr.InvalidFields(fields)
	}
	if pw != nil {
		if err := s.hashPassword(ctx, &o, *pw); err != nil {
			return Link{}, err
		}
	}
	err := database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		revoked, err := lockLink(ctx, tx, ownerID, id)
		if errors.Is(err, pgx.ErrNoRows) {
			return errLinkNotFound
		}
		if err != nil {
			return err
		}
		if revoked {
			return apperr.Errorf(apperr.Conflict, "This link has been revoked; create a new one instead.")
		}
		u := linkUpdate{}
		if in.Title != nil {
			u.title = &o.title
		}
		if in.Note != nil {
			u.note = &o.note
		}
		if in.Password.Set {
			u.setPassword, u.passwordHash = true, o.passwordHash
		}
		if in.ExpiresAt.Set {
			u.setExpiry, u.expiresAt = true, o.expiresAt
		}
		if in.MaxDownloads.Set {
			u.setMax, u.maxDownloads = true, o.maxDownloads
		}
		return updateLink(ctx, tx, id, u, s.now())
	})
	if err != nil {
		return Link{}, apperr.Wrap(err, "shares: update link %s", id)
	}
	return s.Find(ctx, ownerID, id)
}

// Revoke ends a link at once: every later request for it answers as for an
// unknown link. Download URLs already issued stay valid until they expire
// (minutes). Revoking a revoked link does nothing. Errors: NotFound,
// Unavailable.
func (s *Service) Revoke(ctx context.Context, ownerID, id string) (Link, error) {
	if !validIDs(id) {
		return Link{}, errLinkNotFound
	}
	ok, err := revokeLink(ctx, s.pool, ownerID, id, s.now())
	if err != nil {
		return Link{}, apperr.Wrap(err, "shares: revoke link %s", id)
	}
	if !ok {
		return Link{}, errLinkNotFound
	}
	return s.Find(ctx, ownerID, id)
}

// tokenBytes is the entropy of a token: 192 bits, 32 URL-safe characters.
const tokenBytes = 24

// newToken returns a fresh token and its SHA-256.
func newToken() (string, []byte, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("shares: token: %w", err)
	}
	t := base64.RawURLEncoding.EncodeToString(b)
	return t, hashToken(t), nil
}

func hashToken(t string) []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}

// wellFormed reports whether t could be a token (so junk never reaches the
// database).
func wellFormed(t string) bool {
	if len(t) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(t)
	return err == nil
}

// lower returns the ids in lower case: UUIDs compare equal in any case, the
// strings that deduplicate them do not.
func lower(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strings.ToLower(id)
	}
	return out
}

// validIDs reports whether every id is a canonical UUID.
func validIDs(ids ...string) bool {
	for _, id := range ids {
		if !database.ValidID(id) {
			return false
		}
	}
	return true
}
