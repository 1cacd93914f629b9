// Package blob defines the object store behind uploads and downloads: a small
// interface with two implementations, blob/s3 (presigned S3 URLs, production)
// and blob/disk (local disk with HMAC-signed URLs served by the app, one
// instance only). Both follow the same rules, checked by the conformance
// suite in blob/blobtest: a presigned PUT pins the exact size, the content
// type, "no overwrite" (If-None-Match: *) and, when given, the SHA-256 of the
// body; downloads are always attachments with a safe content type.
//
// Keys are made by the server (KeyPrefix + "<owner-id>/<random>"); nothing a
// client sends goes into a key.
package blob

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"time"
)

// KeyPrefix starts every object key the app makes. The production instance
// role may touch only keys under it (and list only it), so it is fixed: the
// IAM policy in terraform/modules/compute and deploy/aws/iam-contract.json
// spell the same value, and the contract checks prove they agree.
const KeyPrefix = "u/"

// Request is a presigned HTTP request a client (browser/script) performs itself.
type Request struct {
	// Method is "PUT" or "GET".
	Method string
	// URL is the full signed URL.
	URL string
	// Header holds exactly the headers the client must send (e.g.
	// Content-Type, If-None-Match, x-amz-checksum-sha256). Content-Length is
	// implied by the body and is not listed (browsers cannot set it), but it
	// is signed.
	Header map[string]string
	// Expires is when the URL stops being accepted. A store checks it when a
	// request starts, so a slow upload may finish after it.
	Expires time.Time
}

// PutOptions describe the single object a presigned PUT may create.
type PutOptions struct {
	// Size is the exact body length in bytes; any other length is refused.
	Size int64
	// ContentType is stored with the object; empty means
	// application/octet-stream. It is signed: the client must send it as is.
	ContentType string
	// SHA256 is the optional raw 32-byte digest of the body; when set the
	// store refuses a body that does not match.
	SHA256 []byte
	// TTL is how long the URL is valid; zero means DefaultPutTTL.
	TTL time.Duration
}

// MultipartOptions describe an object uploaded in parts.
type MultipartOptions struct {
	// Size is the total object size in bytes (at least 1).
	Size int64
	// PartSize is the size of every part but the last, which holds the rest.
	// It must be between MinPartSize and MaxPartSize, and Size/PartSize may
	// not need more than MaxParts parts.
	PartSize int64
	// ContentType is stored with the object; empty means
	// application/octet-stream.
	ContentType string
}

// Part is one uploaded part of a multipart upload.
type Part struct {
	// Number is the 1-based part number.
	Number int32
	// ETag is the store's entity tag for the part, as returned in the ETag
	// response header of the part PUT (quotes included).
	ETag string
	// Size is the part's length in bytes; zero in CompleteMultipart means
	// "not checked".
	Size int64
}

// Object is what Head reports about a stored object.
type Object struct {
	// Size is the object length in bytes.
	Size int64
	// ContentType is the type stored at upload time (not made safe: use
	// SafeContentType before serving it).
	ContentType string
	// SHA256 is the raw SHA-256 of the whole object, nil when the store does
	// not know it (multipart objects, or single PUTs without a digest on S3).
	SHA256 []byte
	// ETag is the store's entity tag for the object.
	ETag string
}

// ObjectInfo is one object of a listing.
type ObjectInfo struct {
	// Key is the object's key.
	Key string
	// Size is the object length in bytes.
	Size int64
	// Modified is when the object was stored (S3: LastModified; disk: the
	// file's modification time, the end of its upload).
	Modified time.Time
}

// GetOptions describe a presigned download.
type GetOptions struct {
	// Filename is the user's name for the file, sent as an RFC 6266
	// attachment (see ContentDisposition). It never reaches a path or key.
	Filename string
	// ContentType is passed through SafeContentType before use.
	ContentType string
	// TTL is how long the URL is valid; zero means DefaultGetTTL. A GET URL
	// stays valid after a share is revoked, so keep it short.
	TTL time.Duration
}

// ErrNotFound is returned by Head, Get and ListParts (and the multipart calls)
// when the object or upload does not exist.
var ErrNotFound = errors.New("blob: not found")

// ErrUnavailable is wrapped around errors meaning the store could not be
// reached or failed on its side (network errors, timeouts, 5xx), so callers
// answer 503 with Retry-After (it is an apperr.Dependency).
var ErrUnavailable error = unavailableError{}

type unavailableError struct{}

func (unavailableError) Error() string { return "blob: unavailable" }

func (unavailableError) UnavailableMessage() string {
	return "File storage is temporarily unavailable. Please try again in a moment."
}

// ErrInvalid is wrapped around errors caused by the caller's input rather
// than the store: bad options, a part list that does not match what was
// uploaded, a part that is too small. Callers answer 400 or mark the upload
// failed.
var ErrInvalid = errors.New("blob: invalid")

// Store is an object store that hands out presigned URLs, so file bytes go
// from the client straight to the store.
type Store interface {
	// PresignPut returns a PUT request that creates key once, with exactly
	// o.Size bytes (and o.SHA256 when given).
	PresignPut(ctx context.Context, key string, o PutOptions) (Request, error)
	// CreateMultipart starts a multipart upload of key and returns its id.
	CreateMultipart(ctx context.Context, key string, o MultipartOptions) (uploadID string, err error)
	// PresignPart returns a PUT request for part number (1-based) of
	// exactly size bytes.
	PresignPart(ctx context.Context, key, uploadID string, number int32, size int64, ttl time.Duration) (Request, error)
	// ListParts lists the parts stored so far, ordered by number; ErrNotFound
	// when the upload does not exist (never started, completed or aborted).
	ListParts(ctx context.Context, key, uploadID string) ([]Part, error)
	// CompleteMultipart assembles the object from parts (ordered by number).
	// A part list that does not match the stored parts wraps ErrInvalid.
	CompleteMultipart(ctx context.Context, key, uploadID string, parts []Part) error
	// AbortMultipart discards an upload and its parts; it is idempotent.
	AbortMultipart(ctx context.Context, key, uploadID string) error
	// Head reports an object's size, type and checksum; ErrNotFound if missing.
	Head(ctx context.Context, key string) (Object, error)
	// Get streams an object server-side (e.g. into a share zip); the caller
	// closes it. ErrNotFound if missing.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// PresignGet returns a GET URL that downloads key as an attachment with
	// a safe content type.
	PresignGet(ctx context.Context, key string, o GetOptions) (string, error)
	// Delete removes an object; deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
	// List yields every object whose key starts with prefix, once each, in
	// no particular order (S3 lists in key order, the disk store in
	// directory order); multipart uploads in progress are not objects.
	// Objects stored or deleted while it runs may be missed or listed. An
	// error (wrapping ErrUnavailable when the store cannot be reached) is
	// yielded last. It reads the store lazily, page by page, so a listing
	// of millions of keys holds one page in memory.
	List(ctx context.Context, prefix string) iter.Seq2[ObjectInfo, error]
	// Ping is a cheap readiness check; it wraps ErrUnavailable when the
	// store cannot be used.
	Ping(ctx context.Context) error
}

// Limits shared by both stores (S3's own limits, so the disk store cannot
// accept what S3 would refuse).
const (
	// MinPartSize is the smallest part but the last (S3: 5 MiB).
	MinPartSize = 5 << 20
	// MaxPartSize is the largest part (S3: 5 GiB).
	MaxPartSize = 5 << 30
	// MaxParts is the largest number of parts (S3: 10000).
	MaxParts = 10000
	// MaxPutSize is the largest single PUT (S3: 5 GiB).
	MaxPutSize = 5 << 30
	// MaxTTL is the longest validity of a presigned URL (S3 SigV4: 7 days).
	MaxTTL = 7 * 24 * time.Hour
	// DefaultPutTTL is the validity of upload URLs when no TTL is given.
	DefaultPutTTL = 15 * time.Minute
	// DefaultGetTTL is the validity of download URLs when no TTL is given.
	DefaultGetTTL = 5 * time.Minute
)

// Validate checks o against the S3 limits; errors wrap ErrInvalid.
func (o PutOptions) Validate() error {
	switch {
	case o.Size < 0 || o.Size > MaxPutSize:
		return fmt.Errorf("%w: size %d out of range 0..%d", ErrInvalid, o.Size, int64(MaxPutSize))
	case o.SHA256 != nil && len(o.SHA256) != 32:
		return fmt.Errorf("%w: sha256 must be 32 bytes, got %d", ErrInvalid, len(o.SHA256))
	case o.TTL < 0 || o.TTL > MaxTTL:
		return fmt.Errorf("%w: ttl %s out of range", ErrInvalid, o.TTL)
	}
	return nil
}

// Validate checks o against the S3 limits; errors wrap ErrInvalid.
func (o MultipartOptions) Validate() error {
	switch {
	case o.Size < 1:
		return fmt.Errorf("%w: multipart size %d must be positive", ErrInvalid, o.Size)
	case o.PartSize < MinPartSize || o.PartSize > MaxPartSize:
		return fmt.Errorf("%w: part size %d out of range %d..%d", ErrInvalid, o.PartSize, MinPartSize, int64(MaxPartSize))
	case o.Parts() > MaxParts:
		return fmt.Errorf("%w: %d parts of %d bytes exceed %d", ErrInvalid, o.Parts(), o.PartSize, MaxParts)
	}
	return nil
}

// Parts returns how many parts the upload has (0 when PartSize is not positive).
func (o MultipartOptions) Parts() int64 {
	if o.PartSize <= 0 {
		return 0
	}
	return (o.Size + o.PartSize - 1) / o.PartSize
}

// PartLen returns the size of part number n (1-based), or -1 when n is out
// of range.
func (o MultipartOptions) PartLen(n int32) int64 {
	parts := o.Parts()
	if n < 1 || int64(n) > parts {
		return -1
	}
	if int64(n) == parts {
		return o.Size - (parts-1)*o.PartSize
	}
	return o.PartSize
}

// ValidatePart checks a part number and size against S3's limits (not
// against a particular upload); errors wrap ErrInvalid.
func ValidatePart(number int32, size int64, ttl time.Duration) error {
	switch {
	case number < 1 || number > MaxParts:
		return fmt.Errorf("%w: part number %d out of range 1..%d", ErrInvalid, number, MaxParts)
	case size < 1 || size > MaxPartSize:
		return fmt.Errorf("%w: part size %d out of range 1..%d", ErrInvalid, size, int64(MaxPartSize))
	case ttl < 0 || ttl > MaxTTL:
		return fmt.Errorf("%w: ttl %s out of range", ErrInvalid, ttl)
	}
	return nil
}

// TTL returns ttl, or def when ttl is zero.
func TTL(ttl, def time.Duration) time.Duration {
	if ttl == 0 {
		return def
	}
	return ttl
}

// SortParts returns a copy of parts ordered by number, requiring numbers
// 1..n without gaps or duplicates; errors wrap ErrInvalid.
func SortParts(parts []Part) ([]Part, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("%w: no parts", ErrInvalid)
	}
	parts = slices.Clone(parts)
	slices.SortFunc(parts, func(a, b Part) int { return cmp.Compare(a.Number, b.Number) })
	for i, p := range parts {
		if p.Number != int32(i+1) {
			return nil, fmt.Errorf("%w: parts must be numbered 1..%d without gaps, got %d at %d", ErrInvalid, len(parts), p.Number, i+1)
		}
	}
	return parts, nil
}

// TrimETag drops the quotes around an entity tag, so tags from response
// headers, ListParts and the client compare equal.
func TrimETag(s string) string { return strings.Trim(s, `"`) }
