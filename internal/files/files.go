// Package files owns folders, files, uploads, the trash and quotas.
//
// Every method takes the acting user's id and scopes each query by it, so
// another user's ids (and malformed ids) are simply not found (apperr
// NotFound). Bytes never pass through here: uploads and downloads use
// presigned URLs of a blob.Store, and this package only keeps the metadata,
// the quota and the state of each upload consistent with what the store
// holds.
package files

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/blob"
	"github.com/weupload/weupload/internal/database"
	"github.com/weupload/weupload/internal/ratelimit"
)

// Config holds the limits of the service. Zero fields take the defaults
// below (see New).
type Config struct {
	// MaxFileSize is the largest file a user may upload.
	MaxFileSize int64
	// DefaultQuota is the storage of a user without an override.
	DefaultQuota int64
	// MultipartThreshold is the size from which uploads go in parts.
	MultipartThreshold int64
	// PartSize is the smallest part size of multipart uploads; larger files
	// get larger parts so no upload needs more than blob.MaxParts parts.
	PartSize int64
	// UploadURLTTL is how long an upload URL is valid.
	UploadURLTTL time.Duration
	// DownloadURLTTL is how long a download URL is valid.
	DownloadURLTTL time.Duration
	// UploadExpiry is how long a pending upload may take before the sweeper
	// aborts it and releases its quota.
	UploadExpiry time.Duration
	// ExpiryGrace is how long after its expiry an upload is left alone, so
	// a complete call (or a slow PUT, which the store accepted when it
	// started) in flight at the expiry is not raced by the sweeper.
	ExpiryGrace time.Duration
	// TrashRetention is how long trashed items stay restorable.
	TrashRetention time.Duration
	// Limiter counts the email lookups of Share (GrantLookups per owner);
	// nil counts nothing (tests of other packages).
	Limiter      *ratelimit.Limiter
	GrantLookups ratelimit.Rule
	// Observe, when set, hears each upload state change where it happens
	// (once, whatever the retries): "initiated", "completed", "failed",
	// "aborted" or "expired", with the upload's size. The web layer feeds
	// its metrics with it.
	Observe func(event string, size int64)
	// Scan is the virus-scanning policy: which state new files start in
	// and which states may be downloaded.
	Scan ScanPolicy
}

// Defaults for the zero fields of Config.
const (
	DefaultMaxFileSize        = 5 << 30
	DefaultQuota              = 10 << 30
	DefaultMultipartThreshold = 64 << 20
	DefaultPartSize           = 16 << 20
	DefaultUploadExpiry       = 24 * time.Hour
	DefaultExpiryGrace        = time.Hour
	DefaultTrashRetention     = 30 * 24 * time.Hour
)

// Service implements the files use cases.
type Service struct {
	pool  *pgxpool.Pool
	store blob.Store
	cfg   Config
	// Now is the clock for expiry, trash and timestamps; tests replace it.
	Now func() time.Time
	// FileJobs, when set, inserts the background jobs of every file an
	// upload completes, in the transaction creating it. Set once while
	// wiring, before the service is used.
	FileJobs FileJobs
}

// FileJobs inserts the per-file background jobs (scan, preview) of a file
// that just completed, in tx, the transaction creating the file: a completed
// file always has its jobs, and a rolled-back completion never does.
// internal/jobs implements it.
type FileJobs interface {
	EnqueueFileJobs(ctx context.Context, tx pgx.Tx, f File) error
}

// New returns the service on pool and store.
func New(pool *pgxpool.Pool, store blob.Store, cfg Config) *Service {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.MaxFileSize, DefaultMaxFileSize)
	def(&cfg.DefaultQuota, DefaultQuota)
	def(&cfg.MultipartThreshold, DefaultMultipartThreshold)
	def(&cfg.PartSize, DefaultPartSize)
	cfg.PartSize = max(cfg.PartSize, blob.MinPartSize)
	defDur(&cfg.UploadURLTTL, blob.DefaultPutTTL)
	defDur(&cfg.DownloadURLTTL, blob.DefaultGetTTL)
	defDur(&cfg.UploadExpiry, DefaultUploadExpiry)
	defDur(&cfg.ExpiryGrace, DefaultExpiryGrace)
	defDur(&cfg.TrashRetention, DefaultTrashRetention)
	if cfg.GrantLookups.Limit <= 0 {
		cfg.GrantLookups = ratelimit.Rule{Limit: 60, Window: time.Hour}
	}
	return &Service{pool: pool, store: store, cfg: cfg, Now: time.Now}
}

// observe reports an upload state change to Config.Observe.
func (s *Service) observe(event string, size int64) {
	if s.cfg.Observe != nil {
		s.cfg.Observe(event, size)
	}
}

// Config returns the effective limits (defaults filled in).
func (s *Service) Config() Config { return s.cfg }

// now is the clock in microseconds, PostgreSQL's precision, so a time
// read back compares equal to the one written.
func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// Folder is a folder of a user. ParentID is empty for a folder at the root.
type Folder struct {
	ID        string
	OwnerID   string
	ParentID  string
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
	// TrashedAt is set when the folder is in the trash (itself or with an
	// ancestor).
	TrashedAt *time.Time
}

// File is a stored file. FolderID is empty for a file at the root.
type File struct {
	ID          string
	OwnerID     string
	FolderID    string
	Name        string
	Size        int64
	ContentType string
	// SHA256 is the hex digest the store reported for the bytes, empty when
	// it did not know it (multipart uploads).
	SHA256    string
	CreatedAt time.Time
	UpdatedAt time.Time
	TrashedAt *time.Time
	// ScanState is where its virus scan stands; ScanSignature names what
	// was found when it is ScanInfected (show it to the owner only), and
	// ScannedAt is when the scan ended.
	ScanState     ScanState
	ScanSignature string
	ScannedAt     *time.Time

	objectKey string
}

// OnConflict says what to do when a name is already taken in the folder.
type OnConflict string

// The choices for a taken name. The zero value is ConflictError.
const (
	// ConflictError refuses with an apperr Conflict error.
	ConflictError OnConflict = "error"
	// ConflictRename picks the first free "name (n).ext".
	ConflictRename OnConflict = "rename"
)

// valid reports whether c is a known choice ("" counts as ConflictError).
func (c OnConflict) valid() bool { return c == "" || c == ConflictError || c == ConflictRename }

// errNotFound is the answer for a missing item and for another user's.
func errNotFound(what string) error {
	return apperr.Errorf(apperr.NotFound, "%s not found.", what)
}

var (
	errFolderNotFound = errNotFound("Folder")
	errFileNotFound   = errNotFound("File")
	errUploadNotFound = errNotFound("Upload")
)

// validIDs reports whether every id is a canonical UUID.
func validIDs(ids ...string) bool {
	for _, id := range ids {
		if !database.ValidID(id) {
			return false
		}
	}
	return true
}
