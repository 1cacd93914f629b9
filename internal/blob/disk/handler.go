package disk

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/weupload/weupload/internal/blob"
)

// Handler serves the URLs the Store signs: PUT of objects and parts, GET of
// objects (Range supported). Mount it at "/blob/" without stripping the
// prefix, outside any middleware that limits or buffers request bodies, on
// a server whose timeouts allow large uploads. It needs no CORS: the URLs
// are on the app's own origin.
//
// Refusals follow S3: 403 for a bad or expired signature or a signed
// header or length that does not match, 412 when the object exists, 400
// for an incomplete body or a digest mismatch, 404 for a missing object or
// upload. Nothing is kept from a refused PUT.
func (s *Store) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

// serveHTTP dispatches on method.
func (s *Store) serveHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	switch r.Method {
	case http.MethodPut:
		s.servePut(w, r)
	case http.MethodGet:
		s.serveGet(w, r)
	default:
		h.Set("Allow", "GET, PUT")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// refuse answers a refused signed request.
func refuse(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, errNoKey):
		http.Error(w, err.Error(), http.StatusNotFound)
	default:
		http.Error(w, err.Error(), http.StatusForbidden)
	}
}

// serverError logs err and answers 500 without details.
func (s *Store) serverError(w http.ResponseWriter, r *http.Request, key string, err error) {
	s.log.Error("blob/disk: "+r.Method+" failed", "key", key, "err", err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// servePut checks what object and part uploads share, then stores the body.
func (s *Store) servePut(w http.ResponseWriter, r *http.Request) {
	key, q, err := s.verify(r)
	if err != nil {
		refuse(w, err)
		return
	}
	length, err := strconv.ParseInt(q.Get(paramLength), 10, 64)
	if err != nil {
		http.Error(w, "bad length", http.StatusForbidden)
		return
	}
	switch {
	case r.ContentLength < 0:
		http.Error(w, "Content-Length required", http.StatusLengthRequired)
		return
	case r.ContentLength != length:
		// As on S3, where Content-Length is part of the signature.
		http.Error(w, "Content-Length does not match the signed length", http.StatusForbidden)
		return
	}
	if q.Has(paramUploadID) {
		s.servePart(w, r, key, q, length)
		return
	}
	s.serveObject(w, r, key, q, length)
}

// serveObject stores a single-PUT object: streamed to a temp file, digest
// checked, fsynced, then linked into place only if the key is free.
func (s *Store) serveObject(w http.ResponseWriter, r *http.Request, key string, q url.Values, length int64) {
	ct := q.Get(paramContentType)
	wantSum, err := hex.DecodeString(q.Get(paramSHA256))
	if err != nil {
		http.Error(w, "bad sha256", http.StatusForbidden)
		return
	}
	wantChecksum := ""
	if len(wantSum) > 0 {
		wantChecksum = b64(wantSum)
	}
	// Signed headers must be sent exactly, as on S3.
	if r.Header.Get("Content-Type") != ct || r.Header.Get("If-None-Match") != "*" || r.Header.Get(headerChecksum) != wantChecksum {
		http.Error(w, "signed headers do not match", http.StatusForbidden)
		return
	}
	if _, err := s.root.Stat(objectPath(key)); err == nil {
		http.Error(w, "object exists", http.StatusPreconditionFailed)
		return
	}
	f, tmp, err := s.createTemp(tmpDir)
	if err != nil {
		s.serverError(w, r, key, err)
		return
	}
	defer s.root.Remove(tmp) // the object is a hard link; the temp name goes
	// Hash only a body whose digest was signed, as S3 does: Head then
	// reports the SHA-256 of exactly the objects that were checked.
	sum, ok := s.receiveFile(w, r, key, f, 0, length, len(wantSum) > 0)
	if !ok {
		return
	}
	if len(wantSum) > 0 && !bytes.Equal(sum, wantSum) {
		http.Error(w, "BadDigest: the body does not match x-amz-checksum-sha256", http.StatusBadRequest)
		return
	}
	etag := newETag(sum)
	err = s.publish(tmp, key, objectMeta{Size: length, ContentType: ct, SHA256: hex.EncodeToString(sum), ETag: etag})
	if errors.Is(err, errExists) {
		http.Error(w, "object exists", http.StatusPreconditionFailed)
		return
	}
	if err != nil {
		s.serverError(w, r, key, err)
		return
	}
	w.Header().Set("ETag", etag)
	w.WriteHeader(http.StatusOK)
}

// servePart writes one part at its offset in the upload's preallocated file
// and records its receipt. A part uploaded again replaces the old one; its
// receipt is removed first, so a failed retry leaves the part missing
// (ListParts shows it) rather than corrupt.
func (s *Store) servePart(w http.ResponseWriter, r *http.Request, key string, q url.Values, length int64) {
	uploadID := q.Get(paramUploadID)
	n, err := strconv.ParseInt(q.Get(paramPartNumber), 10, 32)
	if err != nil || n < 1 || n > blob.MaxParts {
		http.Error(w, "bad part number", http.StatusBadRequest)
		return
	}
	number := int32(n)
	unlockUpload := s.locks.rlock(uploadLock(uploadID))
	defer unlockUpload()
	unlockPart := s.locks.lock(partLock(uploadID, number))
	defer unlockPart()
	info, err := s.readInfo(key, uploadID)
	if errors.Is(err, blob.ErrNotFound) {
		http.Error(w, "NoSuchUpload", http.StatusNotFound)
		return
	}
	if err != nil {
		s.serverError(w, r, key, err)
		return
	}
	if want := info.options().PartLen(number); want != length {
		http.Error(w, "part "+strconv.Itoa(int(number))+" of this upload has "+strconv.FormatInt(want, 10)+" bytes", http.StatusBadRequest)
		return
	}
	if err := s.root.Remove(receiptPath(uploadID, number)); err != nil && !notFound(err) {
		s.serverError(w, r, key, err)
		return
	}
	f, err := s.root.OpenFile(dataPath(uploadID), os.O_WRONLY, 0)
	if err != nil {
		s.serverError(w, r, key, err)
		return
	}
	// Parts are not hashed (S3 reports no digest for a multipart object
	// either); the receipt's ETag only has to tell this upload of the part
	// from any other.
	if _, ok := s.receiveFile(w, r, key, f, int64(number-1)*info.PartSize, length, false); !ok {
		return
	}
	etag := newETag(nil)
	if err := s.writeJSON(receiptPath(uploadID, number), partReceipt{Number: number, Size: length, ETag: etag}); err != nil {
		s.serverError(w, r, key, err)
		return
	}
	w.Header().Set("ETag", etag)
	w.WriteHeader(http.StatusOK)
}

// newETag is the entity tag of a stored object or part: its SHA-256 when it
// was hashed, otherwise random (objects are never overwritten, and a part
// uploaded again gets a new tag, so the tag still names one upload).
func newETag(sum []byte) string {
	if sum == nil {
		sum = make([]byte, 16)
		rand.Read(sum)
	}
	return quote(hex.EncodeToString(sum))
}

// serveGet streams an object as an attachment with the signed disposition
// and safe type; http.ServeContent handles Range and conditional requests.
func (s *Store) serveGet(w http.ResponseWriter, r *http.Request) {
	key, q, err := s.verify(r)
	if err != nil {
		refuse(w, err)
		return
	}
	f, err := s.openObject(key)
	if errors.Is(err, blob.ErrNotFound) {
		http.Error(w, "NoSuchKey", http.StatusNotFound)
		return
	}
	if err != nil {
		s.serverError(w, r, key, err)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		s.serverError(w, r, key, err)
		return
	}
	disp := q.Get(paramDisposition)
	if !strings.HasPrefix(disp, "attachment") {
		disp = "attachment" // only Presign signs this, but never inline
	}
	h := w.Header()
	h.Set("Content-Type", blob.SafeContentType(q.Get(paramRespType)))
	h.Set("Content-Disposition", disp)
	h.Set("Content-Security-Policy", "sandbox")
	if m := s.readMeta(key); m.ETag != "" {
		h.Set("ETag", m.ETag)
	}
	h.Set("Cache-Control", "private")
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// receiveFile writes the request body into f at off (hashing it when hash),
// makes it durable and closes f. On failure it has answered the request
// (the client's fault as the status receive chose, ours as a logged 500)
// and returns false.
func (s *Store) receiveFile(w http.ResponseWriter, r *http.Request, key string, f *os.File, off, length int64, hash bool) ([]byte, bool) {
	sum, status, err := s.receive(f, off, r.Body, length, hash)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if status == http.StatusInternalServerError {
			s.serverError(w, r, key, err)
		} else {
			http.Error(w, err.Error(), status)
		}
		return nil, false
	}
	return sum, true
}
