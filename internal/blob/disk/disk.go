// Package disk is the blob.Store on a local directory, the default for
// development. Its "presigned" URLs point at the app itself (BaseURL +
// "/blob/...") and carry an HMAC-SHA256 signature with the same rules as S3:
// exact size, signed Content-Type, no overwrite (If-None-Match: *), SHA-256
// checked while streaming when a digest was signed (and, as on S3, only
// then known to Head), expiry. Handler serves them; this adapter package
// is the one place outside web/ that uses net/http, because it is the
// server side of its own URLs.
//
// One instance only: the directory, the in-process locks and the upload
// state are not shared between app instances. Use blob/s3 to scale out.
//
// Layout under Dir (keys map to paths, so objects/ mirrors a bucket):
//
//	objects/<key>               object bytes
//	meta/<key>.json             size, content type, sha256, etag
//	uploads/<id>/info.json      multipart upload: key, size, part size, type
//	uploads/<id>/data.partial   the object being assembled, preallocated
//	uploads/<id>/part-NNNNN.json part receipts: number, size, etag
//	tmp/                        files being written (same filesystem)
//
// All file access goes through an os.Root, so no key can reach outside Dir.
package disk

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/weupload/weupload/internal/blob"
)

// Config says where objects live and how URLs are made.
type Config struct {
	// Dir is the data directory; it is created if missing.
	Dir string
	// BaseURL is the app's external origin, e.g. http://localhost:8080;
	// URLs are BaseURL + "/blob/<key>?...".
	BaseURL string
	// Secret is the HMAC key for URL signatures, at least 32 bytes. Keep it
	// stable across restarts or outstanding URLs stop working.
	Secret []byte
	// Now is the clock for expiry; nil means time.Now.
	Now func() time.Time
	// Log receives errors the handler answers with 500; nil means
	// slog.Default().
	Log *slog.Logger
}

// Store is a blob.Store on a local directory. It is safe for concurrent use
// within one process.
type Store struct {
	root    *os.Root
	baseURL string
	secret  []byte
	now     func() time.Time
	log     *slog.Logger
	locks   lockTable
	pipes   sync.Pool // *pipe: the buffers of one PUT, bounding memory per request
}

var _ blob.Store = (*Store)(nil)

// Directory names under Dir.
const (
	objectsDir = "objects"
	metaDir    = "meta"
	uploadsDir = "uploads"
	tmpDir     = "tmp"
)

// File permissions: the app's user only, group may read (backups).
const (
	dirPerm  = 0o750
	filePerm = 0o640
)

// staleTemp is the age after which New removes files left in tmp/ by a
// crash.
const staleTemp = time.Hour

// New opens (creating if needed) the data directory.
func New(cfg Config) (*Store, error) {
	if cfg.Dir == "" {
		return nil, errors.New("blob/disk: dir is required")
	}
	if len(cfg.Secret) < 32 {
		return nil, errors.New("blob/disk: secret must be at least 32 bytes")
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("blob/disk: base URL %q must be an absolute http(s) URL", cfg.BaseURL)
	}
	if err := os.MkdirAll(cfg.Dir, dirPerm); err != nil {
		return nil, fmt.Errorf("blob/disk: %w", err)
	}
	root, err := os.OpenRoot(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("blob/disk: %w", err)
	}
	for _, d := range []string{objectsDir, metaDir, uploadsDir, tmpDir} {
		if err := root.MkdirAll(d, dirPerm); err != nil {
			root.Close()
			return nil, fmt.Errorf("blob/disk: %w", err)
		}
	}
	s := &Store{
		root:    root,
		baseURL: strings.TrimRight(cfg.BaseURL, "/"),
		secret:  slices.Clone(cfg.Secret),
		now:     cfg.Now,
		log:     cfg.Log,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.pipes.New = func() any { return newPipe() }
	s.sweepTemp()
	return s, nil
}

// Close releases the data directory.
func (s *Store) Close() error { return s.root.Close() }

// sweepTemp removes what a crash can leave behind and nothing refers to:
// temporary files, and upload directories whose info.json was never
// written, once older than staleTemp. (Uploads that were created are
// aborted by the app's sweeper, which knows their ids.)
func (s *Store) sweepTemp() {
	if entries, err := fs.ReadDir(s.root.FS(), tmpDir); err == nil {
		for _, e := range entries {
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleTemp {
				s.root.Remove(path.Join(tmpDir, e.Name()))
			}
		}
	}
	if entries, err := fs.ReadDir(s.root.FS(), uploadsDir); err == nil {
		for _, e := range entries {
			fi, err := e.Info()
			if err != nil || !e.IsDir() || time.Since(fi.ModTime()) <= staleTemp {
				continue
			}
			if _, err := s.root.Stat(infoPath(e.Name())); notFound(err) {
				s.root.RemoveAll(uploadPath(e.Name()))
			}
		}
	}
}

// objectMeta is the sidecar of an object.
type objectMeta struct {
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	SHA256      string `json:"sha256,omitempty"` // hex; empty when unknown
	ETag        string `json:"etag"`
}

// uploadInfo describes a multipart upload.
type uploadInfo struct {
	Key         string    `json:"key"`
	Size        int64     `json:"size"`
	PartSize    int64     `json:"part_size"`
	ContentType string    `json:"content_type"`
	Created     time.Time `json:"created"`
}

// options returns the upload as blob.MultipartOptions (for part sizes).
func (u uploadInfo) options() blob.MultipartOptions {
	return blob.MultipartOptions{Size: u.Size, PartSize: u.PartSize, ContentType: u.ContentType}
}

// partReceipt records a stored part.
type partReceipt struct {
	Number int32  `json:"number"`
	Size   int64  `json:"size"`
	ETag   string `json:"etag"`
}

// Paths of an object and its sidecar, and of an upload's files, relative
// to the root.
func objectPath(key string) string { return path.Join(objectsDir, key) }
func metaPath(key string) string   { return path.Join(metaDir, key+".json") }
func uploadPath(id string) string  { return path.Join(uploadsDir, id) }
func infoPath(id string) string    { return path.Join(uploadsDir, id, "info.json") }
func dataPath(id string) string    { return path.Join(uploadsDir, id, "data.partial") }
func receiptPath(id string, n int32) string {
	return path.Join(uploadsDir, id, fmt.Sprintf("part-%05d.json", n))
}

// isReceipt reports whether a file name in an upload directory is a part
// receipt.
func isReceipt(name string) bool {
	return strings.HasPrefix(name, "part-") && strings.HasSuffix(name, ".json")
}

// Names in the lock table: an upload (shared by part writes, exclusive for
// complete and abort) and one part (exclusive, so retries do not interleave).
func uploadLock(id string) string        { return "upload:" + id }
func partLock(id string, n int32) string { return "part:" + id + ":" + strconv.Itoa(int(n)) }

// validUploadID reports whether id looks like one CreateMultipart makes.
func validUploadID(id string) bool { return len(id) == 32 && isLowerHex(id) }

// notFound reports whether a file error means "missing" (including a key
// whose parent is a file).
func notFound(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// quote makes an entity tag from an opaque string.
func quote(s string) string { return `"` + s + `"` }

// emptySHA256 is the digest of zero bytes.
func emptySHA256() []byte { s := sha256.Sum256(nil); return s[:] }

// wrapf adds the package, operation and key to err.
func wrapf(op, key string, err error) error { return fmt.Errorf("blob/disk: %s %s: %w", op, key, err) }

// invalidf is an error wrapping blob.ErrInvalid.
func invalidf(op, key, msg string, a ...any) error {
	return fmt.Errorf("blob/disk: %s %s: %w: %s", op, key, blob.ErrInvalid, fmt.Sprintf(msg, a...))
}

// isLowerHex reports whether s is lower-case hex.
func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// PresignPut returns a signed PUT URL for exactly o.Size bytes, with the
// same headers an S3 URL would require: Content-Type, If-None-Match: * and
// x-amz-checksum-sha256 (when o.SHA256 is set, and always for empty objects,
// as on S3).
func (s *Store) PresignPut(ctx context.Context, key string, o blob.PutOptions) (blob.Request, error) {
	if err := blob.ValidateKey(key); err != nil {
		return blob.Request{}, fmt.Errorf("blob/disk: presign put: %w", err)
	}
	if err := o.Validate(); err != nil {
		return blob.Request{}, wrapf("presign put", key, err)
	}
	sum := o.SHA256
	if o.Size == 0 && sum == nil {
		sum = emptySHA256()
	}
	ct := contentType(o.ContentType)
	expires := s.now().Add(blob.TTL(o.TTL, blob.DefaultPutTTL)).Truncate(time.Second)
	q := url.Values{
		paramExpires:     {strconv.FormatInt(expires.Unix(), 10)},
		paramLength:      {strconv.FormatInt(o.Size, 10)},
		paramContentType: {ct},
	}
	h := map[string]string{"Content-Type": ct, "If-None-Match": "*"}
	if sum != nil {
		q.Set(paramSHA256, hex.EncodeToString(sum))
		h[headerChecksum] = b64(sum)
	}
	return blob.Request{Method: "PUT", URL: s.sign("PUT", key, q), Header: h, Expires: expires}, nil
}

// CreateMultipart records the upload's size and part size and preallocates
// the file the parts are written into.
func (s *Store) CreateMultipart(ctx context.Context, key string, o blob.MultipartOptions) (string, error) {
	if err := blob.ValidateKey(key); err != nil {
		return "", fmt.Errorf("blob/disk: create multipart: %w", err)
	}
	if err := o.Validate(); err != nil {
		return "", wrapf("create multipart", key, err)
	}
	b := make([]byte, 16)
	rand.Read(b)
	id := hex.EncodeToString(b)
	if err := s.root.Mkdir(uploadPath(id), dirPerm); err != nil {
		return "", wrapf("create multipart", key, err)
	}
	f, err := s.root.OpenFile(dataPath(id), os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
	if err == nil {
		err = preallocate(f, o.Size)
		err = errors.Join(err, f.Sync(), f.Close())
	}
	if err == nil {
		info := uploadInfo{Key: key, Size: o.Size, PartSize: o.PartSize, ContentType: contentType(o.ContentType), Created: s.now().UTC()}
		err = s.writeJSON(infoPath(id), info) // last: the upload exists once info.json does
	}
	if err != nil {
		s.root.RemoveAll(uploadPath(id))
		return "", wrapf("create multipart", key, err)
	}
	return id, nil
}

// PresignPart returns a signed PUT URL for part number of the upload. The
// size must be the one the upload's part size gives for that number.
func (s *Store) PresignPart(ctx context.Context, key, uploadID string, number int32, size int64, ttl time.Duration) (blob.Request, error) {
	if err := blob.ValidateKey(key); err != nil {
		return blob.Request{}, fmt.Errorf("blob/disk: presign part: %w", err)
	}
	if err := blob.ValidatePart(number, size, ttl); err != nil {
		return blob.Request{}, wrapf("presign part", key, err)
	}
	info, err := s.readInfo(key, uploadID)
	if err != nil {
		return blob.Request{}, wrapf("presign part", key, err)
	}
	if want := info.options().PartLen(number); want != size {
		return blob.Request{}, invalidf("presign part", key, "part %d of this upload has %d bytes, not %d", number, want, size)
	}
	expires := s.now().Add(blob.TTL(ttl, blob.DefaultPutTTL)).Truncate(time.Second)
	q := url.Values{
		paramExpires:    {strconv.FormatInt(expires.Unix(), 10)},
		paramLength:     {strconv.FormatInt(size, 10)},
		paramUploadID:   {uploadID},
		paramPartNumber: {strconv.Itoa(int(number))},
	}
	return blob.Request{Method: "PUT", URL: s.sign("PUT", key, q), Header: map[string]string{}, Expires: expires}, nil
}

// readInfo loads an upload's info.json; a malformed id, a missing upload or
// one for another key is blob.ErrNotFound.
func (s *Store) readInfo(key, uploadID string) (uploadInfo, error) {
	var info uploadInfo
	if !validUploadID(uploadID) {
		return info, fmt.Errorf("upload %q: %w", uploadID, blob.ErrNotFound)
	}
	b, err := s.root.ReadFile(infoPath(uploadID))
	if notFound(err) {
		return info, fmt.Errorf("upload %s: %w", uploadID, blob.ErrNotFound)
	}
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, fmt.Errorf("upload %s: %w", uploadID, err)
	}
	if info.Key != key {
		return info, fmt.Errorf("upload %s is not for this key: %w", uploadID, blob.ErrNotFound)
	}
	return info, nil
}

// readReceipts returns the receipts of an upload, ordered by number.
func (s *Store) readReceipts(uploadID string) ([]blob.Part, error) {
	entries, err := fs.ReadDir(s.root.FS(), uploadPath(uploadID))
	if notFound(err) {
		return nil, fmt.Errorf("upload %s: %w", uploadID, blob.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	parts := []blob.Part{}
	for _, e := range entries {
		if !isReceipt(e.Name()) {
			continue
		}
		b, err := s.root.ReadFile(path.Join(uploadPath(uploadID), e.Name()))
		if notFound(err) {
			continue // being replaced by a retried part
		}
		if err != nil {
			return nil, err
		}
		var r partReceipt
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		parts = append(parts, blob.Part{Number: r.Number, Size: r.Size, ETag: r.ETag})
	}
	slices.SortFunc(parts, func(a, b blob.Part) int { return int(a.Number) - int(b.Number) })
	return parts, nil
}

// ListParts lists the parts stored so far.
func (s *Store) ListParts(ctx context.Context, key, uploadID string) ([]blob.Part, error) {
	if err := blob.ValidateKey(key); err != nil {
		return nil, fmt.Errorf("blob/disk: list parts: %w", err)
	}
	if _, err := s.readInfo(key, uploadID); err != nil {
		return nil, wrapf("list parts", key, err)
	}
	parts, err := s.readReceipts(uploadID)
	if err != nil {
		return nil, wrapf("list parts", key, err)
	}
	return parts, nil
}

// CompleteMultipart checks that parts are exactly the upload's parts (all
// numbers, ETags and sizes as stored), then moves the assembled file into
// place without reading or copying it. A mismatch wraps blob.ErrInvalid and
// leaves the upload as it was. It waits for part uploads in flight.
func (s *Store) CompleteMultipart(ctx context.Context, key, uploadID string, parts []blob.Part) error {
	const op = "complete multipart"
	if err := blob.ValidateKey(key); err != nil {
		return fmt.Errorf("blob/disk: %s: %w", op, err)
	}
	unlock := s.locks.lock(uploadLock(uploadID))
	defer unlock()
	info, err := s.readInfo(key, uploadID)
	if err != nil {
		return wrapf(op, key, err)
	}
	parts, err = blob.SortParts(parts)
	if err != nil {
		return wrapf(op, key, err)
	}
	if n := info.options().Parts(); int64(len(parts)) != n {
		return invalidf(op, key, "%d parts given, the upload has %d", len(parts), n)
	}
	stored, err := s.readReceipts(uploadID)
	if err != nil {
		return wrapf(op, key, err)
	}
	byNumber := make(map[int32]blob.Part, len(stored))
	for _, p := range stored {
		byNumber[p.Number] = p
	}
	etags := sha256.New()
	for _, p := range parts {
		sp, ok := byNumber[p.Number]
		switch {
		case !ok:
			return invalidf(op, key, "part %d not uploaded", p.Number)
		case blob.TrimETag(p.ETag) != blob.TrimETag(sp.ETag):
			return invalidf(op, key, "part %d etag %s, stored %s", p.Number, p.ETag, sp.ETag)
		case p.Size != 0 && p.Size != sp.Size:
			return invalidf(op, key, "part %d size %d, stored %d", p.Number, p.Size, sp.Size)
		case sp.Size != info.options().PartLen(p.Number):
			return invalidf(op, key, "part %d has %d bytes, want %d", p.Number, sp.Size, info.options().PartLen(p.Number))
		}
		etags.Write([]byte(blob.TrimETag(sp.ETag)))
	}
	f, err := s.root.OpenFile(dataPath(uploadID), os.O_RDWR, 0)
	if err != nil {
		return wrapf(op, key, err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return wrapf(op, key, err)
	}
	m := objectMeta{
		Size:        info.Size,
		ContentType: info.ContentType,
		ETag:        quote(hex.EncodeToString(etags.Sum(nil)) + "-" + strconv.Itoa(len(parts))),
	}
	if err := s.publish(dataPath(uploadID), key, m); errors.Is(err, errExists) {
		return invalidf(op, key, "object already exists")
	} else if err != nil {
		return wrapf(op, key, err)
	}
	if err := s.root.RemoveAll(uploadPath(uploadID)); err != nil {
		return wrapf(op, key, err)
	}
	return nil
}

// errExists means the object is already there (If-None-Match failed).
var errExists = errors.New("object exists")

// publish links the synced file src to key's object path (failing with
// errExists when the object exists: no overwrite, ever), writes the sidecar
// and syncs the directories. src stays; the caller removes it.
func (s *Store) publish(src, key string, m objectMeta) error {
	dst := objectPath(key)
	if err := s.root.MkdirAll(path.Dir(dst), dirPerm); err != nil {
		return err
	}
	if err := s.root.Link(src, dst); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			return err
		}
		// A completion retried after a crash finds its own file in place.
		a, aerr := s.root.Stat(src)
		b, berr := s.root.Stat(dst)
		if aerr != nil || berr != nil || !os.SameFile(a, b) {
			return errExists
		}
	}
	if err := s.syncDir(path.Dir(dst)); err != nil {
		return err
	}
	return s.writeJSON(metaPath(key), m)
}

// AbortMultipart removes an upload and its parts; it is idempotent and
// waits for part uploads in flight.
func (s *Store) AbortMultipart(ctx context.Context, key, uploadID string) error {
	if err := blob.ValidateKey(key); err != nil {
		return fmt.Errorf("blob/disk: abort multipart: %w", err)
	}
	if !validUploadID(uploadID) {
		return nil
	}
	unlock := s.locks.lock(uploadLock(uploadID))
	defer unlock()
	if _, err := s.readInfo(key, uploadID); err != nil {
		if errors.Is(err, blob.ErrNotFound) {
			return nil
		}
		return wrapf("abort multipart", key, err)
	}
	if err := s.root.RemoveAll(uploadPath(uploadID)); err != nil {
		return wrapf("abort multipart", key, err)
	}
	return nil
}

// Head reads an object's size from the file and its type and digest from the
// sidecar (an object without sidecar, after a crash, reports its size only).
// The digest is known for single PUTs that signed one, as on S3.
func (s *Store) Head(ctx context.Context, key string) (blob.Object, error) {
	if err := blob.ValidateKey(key); err != nil {
		return blob.Object{}, fmt.Errorf("blob/disk: head: %w", err)
	}
	fi, err := s.root.Stat(objectPath(key))
	if notFound(err) || (err == nil && !fi.Mode().IsRegular()) {
		return blob.Object{}, wrapf("head", key, blob.ErrNotFound)
	}
	if err != nil {
		return blob.Object{}, wrapf("head", key, err)
	}
	m := s.readMeta(key)
	obj := blob.Object{Size: fi.Size(), ContentType: m.ContentType, ETag: m.ETag}
	if sum, err := hex.DecodeString(m.SHA256); err == nil && len(sum) == sha256.Size {
		obj.SHA256 = sum
	}
	return obj, nil
}

// readMeta returns key's sidecar, or defaults when it is missing or broken.
func (s *Store) readMeta(key string) objectMeta {
	m := objectMeta{ContentType: "application/octet-stream"}
	if b, err := s.root.ReadFile(metaPath(key)); err == nil {
		json.Unmarshal(b, &m)
	}
	return m
}

// Get opens an object for reading.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := blob.ValidateKey(key); err != nil {
		return nil, fmt.Errorf("blob/disk: get: %w", err)
	}
	f, err := s.openObject(key)
	if err != nil {
		return nil, wrapf("get", key, err)
	}
	return f, nil
}

// openObject opens key's file; missing (or a directory) is blob.ErrNotFound.
func (s *Store) openObject(key string) (*os.File, error) {
	f, err := s.root.Open(objectPath(key))
	if notFound(err) {
		return nil, blob.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, blob.ErrNotFound
	}
	return f, nil
}

// PresignGet returns a signed GET URL answering with
// blob.ContentDisposition(o.Filename) and blob.SafeContentType(o.ContentType).
func (s *Store) PresignGet(ctx context.Context, key string, o blob.GetOptions) (string, error) {
	if err := blob.ValidateKey(key); err != nil {
		return "", fmt.Errorf("blob/disk: presign get: %w", err)
	}
	if o.TTL < 0 || o.TTL > blob.MaxTTL {
		return "", invalidf("presign get", key, "ttl %s out of range", o.TTL)
	}
	expires := s.now().Add(blob.TTL(o.TTL, blob.DefaultGetTTL)).Truncate(time.Second)
	q := url.Values{
		paramExpires:     {strconv.FormatInt(expires.Unix(), 10)},
		paramDisposition: {blob.ContentDisposition(o.Filename)},
		paramRespType:    {blob.SafeContentType(o.ContentType)},
	}
	return s.sign("GET", key, q), nil
}

// Delete removes an object and its sidecar; a missing object is not an
// error. Empty parent directories are left in place.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := blob.ValidateKey(key); err != nil {
		return fmt.Errorf("blob/disk: delete: %w", err)
	}
	for _, p := range []string{objectPath(key), metaPath(key)} {
		if err := s.root.Remove(p); err != nil && !notFound(err) {
			return wrapf("delete", key, err)
		}
	}
	return nil
}

// Ping checks that the data directory is still there and writable.
func (s *Store) Ping(ctx context.Context) error {
	f, name, err := s.createTemp(tmpDir)
	if err != nil {
		return fmt.Errorf("blob/disk: ping: %w: %w", blob.ErrUnavailable, err)
	}
	f.Close()
	s.root.Remove(name)
	return nil
}

// contentType returns ct or the default for unknown content.
func contentType(ct string) string {
	if ct == "" {
		return "application/octet-stream"
	}
	return ct
}
