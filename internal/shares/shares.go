// Package shares owns share links (an unguessable URL that gives people
// without an account some files, or a folder, of the link's owner) and
// upload requests (one that lets them upload into a folder of the owner).
//
// Both are one stack (access.go): a token found by its hash (and stored only
// sealed, for its owner to copy again: seal.go), an owner, an
// optional password with throttled unlocks remembered in the visitor's
// session, an expiry and an end (revoked, closed); each resource adds only
// its own limits (downloads; files, bytes and uploads in progress). The
// owner's methods scope every query by the owner, so another user's ids are
// simply not found. The visitor's methods take the token from the URL, and
// every one that yields bytes, URLs or uploads goes through one decision
// (authorize, authorizeRequest). What they show of the owner's files,
// folders and uploads comes from the files service's shared read model, at
// each request, so trashed and deleted files drop out at once; no method
// holds a transaction while it calls another service.
package shares

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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
	// LimitedDownloadURLTTL is how long a download URL of a link with a
	// download limit is valid: the limit counts URLs handed out, and each
	// can be fetched again until it expires, so it is kept short. At most
	// DownloadURLTTL.
	LimitedDownloadURLTTL time.Duration
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
	// LinkKey seals the stored tokens (LinkKeySize bytes); nil makes a
	// random one, which only suits tests: links made under it show no URL
	// to their owner after a restart. LinkKeyPrevious, when set, still
	// opens tokens sealed before a rotation.
	LinkKey, LinkKeyPrevious []byte
	// Log receives tokens that do not open; nil is slog.Default().
	Log *slog.Logger
}

// Defaults for the zero fields of Config.
const (
	DefaultUnlockTTL = time.Hour
	// DefaultLimitedDownloadURLTTL is the lifetime of a limited link's
	// download URLs.
	DefaultLimitedDownloadURLTTL = time.Minute
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
	sealer  *sealer
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
	if cfg.LimitedDownloadURLTTL <= 0 {
		cfg.LimitedDownloadURLTTL = DefaultLimitedDownloadURLTTL
	}
	cfg.LimitedDownloadURLTTL = min(cfg.LimitedDownloadURLTTL, cfg.DownloadURLTTL)
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
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Service{pool: pool, store: store, files: fs, limiter: limiter, cfg: cfg,
		sealer: newSealer(cfg.LinkKey, cfg.LinkKeyPrevious), Now: time.Now}
}

// now is the clock in microseconds, PostgreSQL's precision.
func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

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

// liveFolder returns the name of the owner's folder while it is live (ok
// false when it is gone or trashed).
func (s *Service) liveFolder(ctx context.Context, ownerID, folderID string) (name string, ok bool, err error) {
	if folderID == "" {
		return "", false, nil
	}
	found, err := s.files.SharedEntries(ctx, s.pool, ownerID, nil, []string{folderID})
	e := found[folderID]
	return e.Name, e.Live, err
}

// one is the item of a listing by id: notFound when there is none.
func one[T any](items []T, err error, notFound error) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	if len(items) == 0 {
		return zero, notFound
	}
	return items[0], nil
}

// idsOf returns the non-empty ids id gives of the items.
func idsOf[T any](items []T, id func(T) string) []string {
	var ids []string
	for _, it := range items {
		if v := id(it); v != "" {
			ids = append(ids, v)
		}
	}
	return ids
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
