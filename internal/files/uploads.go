package files

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"mime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/blob"
	"github.com/weupload/weupload/internal/bytesize"
	"github.com/weupload/weupload/internal/database"
)

// Upload modes.
const (
	ModeSingle    = "single"    // one presigned PUT
	ModeMultipart = "multipart" // presigned PUT per part
)

// Upload states. Pending is the only one that changes.
const (
	StatePending = "pending" // URLs handed out, quota reserved
	StateDone    = "done"    // verified, file created, quota charged
	StateFailed  = "failed"  // stored bytes did not match; object deleted
	StateAborted = "aborted" // cancelled by the user
	StateExpired = "expired" // not completed in time; swept
)

// Upload is an upload in progress or finished.
type Upload struct {
	ID string
	// OwnerID owns the folder the file goes to and pays for it.
	OwnerID string
	// UploaderID started the upload: the owner, or an editor of a folder
	// shared with them.
	UploaderID  string
	FolderID    string // where the file goes; empty for the root
	Name        string
	Size        int64
	ContentType string
	// SHA256 is the hex digest the client declared, empty if none.
	SHA256   string
	Mode     string
	PartSize int64 // multipart only
	State    string
	// FileID is the file the upload made (state done).
	FileID     string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	OnConflict OnConflict

	objectKey   string
	multipartID string
}

// Parts returns the number of parts of a multipart upload (0 for single).
func (u Upload) Parts() int32 {
	if u.Mode != ModeMultipart {
		return 0
	}
	return int32(u.options().Parts())
}

func (u Upload) options() blob.MultipartOptions {
	return blob.MultipartOptions{Size: u.Size, PartSize: u.PartSize, ContentType: u.ContentType}
}

// InitiateInput starts an upload; the browser's upload module and API
// clients send it as JSON.
type InitiateInput struct {
	Name string `json:"name"`
	// Size is the exact size in bytes; 0 is an empty file.
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	// FolderID is where the file goes; empty for the root.
	FolderID string `json:"folder_id"`
	// SHA256 is the optional digest of the whole file, hex or base64. A
	// single PUT must then match it (the store checks).
	SHA256 string `json:"sha256"`
	// OnConflict says what to do when the name is taken: error (default,
	// checked now) or rename (the file gets "name (n).ext" on completion).
	OnConflict OnConflict `json:"on_conflict"`
}

// PartURL is the presigned request for one part.
type PartURL struct {
	Number int32
	URL    string
	// Header is exactly the headers to send with the PUT.
	Header map[string]string
}

// UploadURLs is what a client needs to send the bytes: one URL (single) or
// part URLs (multipart), all valid until ExpiresAt.
type UploadURLs struct {
	Upload    Upload
	ExpiresAt time.Time
	// URL and Header: single mode.
	URL    string
	Header map[string]string
	// Parts: multipart mode, the part URLs asked for.
	Parts []PartURL
}

// Part URL batches: initiate returns the first FirstPartBatch; clients ask
// for more (at most MaxPartBatch at a time) with UploadURLs.
const (
	FirstPartBatch = 100
	MaxPartBatch   = 1000
)

// InitiateUpload validates an upload, reserves its size against the quota
// and records it as pending, commits, and only then returns the presigned
// URL(s). The object key is made here (blob.KeyPrefix + "<owner>/<random>"). Files of at
// least the multipart threshold (and any above 5 GiB) go in parts of
// max(configured part size, size/10000). The folder may be one shared with
// the user as editor: the file is then its owner's and the owner's quota
// pays. Errors: Invalid (name, size, content type, sha256, on_conflict),
// NotFound (folder), Forbidden (viewer), Conflict (name taken, quota
// exceeded), Unavailable.
func (s *Service) InitiateUpload(ctx context.Context, userID string, in InitiateInput) (UploadURLs, error) {
	u, sum, err := s.validateInitiate(in)
	if err != nil {
		return UploadURLs{}, err
	}
	a, err := s.authorizeFolder(ctx, s.pool, userID, in.FolderID, RoleEditor)
	if err != nil {
		return UploadURLs{}, apperr.Wrap(err, "files: initiate upload")
	}
	ownerID := a.OwnerID
	if in.OnConflict != ConflictRename {
		taken, err := nameTaken(ctx, s.pool, ownerID, in.FolderID, u.Name, "")
		if err != nil {
			return UploadURLs{}, apperr.Wrap(err, "files: initiate upload")
		}
		if taken {
			return UploadURLs{}, errNameTaken(u.Name)
		}
	}
	u.OwnerID, u.UploaderID = ownerID, userID
	u.FolderID = in.FolderID
	u.objectKey = newObjectKey(ownerID)
	u.CreatedAt = s.now()
	u.ExpiresAt = u.CreatedAt.Add(s.cfg.UploadExpiry)
	if err := s.insertUpload(ctx, &u, sum); err != nil {
		return UploadURLs{}, apperr.Wrap(err, "files: initiate upload")
	}
	s.observe("initiated", u.Size)
	// The pending row and the reservation are committed: from here on a
	// failure leaves nothing the sweeper would not clean up.
	if u.Mode == ModeMultipart {
		id, err := s.store.CreateMultipart(ctx, u.objectKey, u.options())
		if err == nil {
			if err = setMultipartID(ctx, s.pool, u.OwnerID, u.ID, id); err != nil {
				_ = s.store.AbortMultipart(ctx, u.objectKey, id)
			}
		}
		if err != nil {
			// No URL was handed out: nothing can arrive, the reservation goes.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			_ = s.end(ctx, s.pool, u, StateAborted, false)
			cancel()
			return UploadURLs{}, apperr.Wrap(err, "files: initiate upload %s", u.ID)
		}
		u.multipartID = id
		n := min(u.Parts(), FirstPartBatch)
		numbers := make([]int32, n)
		for i := range numbers {
			numbers[i] = int32(i + 1)
		}
		urls, err := s.partURLs(ctx, u, numbers)
		return urls, apperr.Wrap(err, "files: initiate upload %s", u.ID)
	}
	urls, err := s.singleURL(ctx, u, sum)
	return urls, apperr.Wrap(err, "files: initiate upload %s", u.ID)
}

// newObjectKey makes the store key of an upload: the owner and 128 random
// bits, nothing from the client.
func newObjectKey(ownerID string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return blob.KeyPrefix + ownerID + "/" + hex.EncodeToString(b)
}

// validateInitiate checks the input and fills in the upload's name, size,
// type, mode and part size. It returns the raw digest (nil if none).
func (s *Service) validateInitiate(in InitiateInput) (Upload, []byte, error) {
	fields := map[string]string{}
	name, err := CleanName("name", in.Name)
	if e := apperr.As(err); e != nil {
		fields["name"] = e.Fields["name"]
	}
	switch {
	case in.Size < 0:
		fields["size"] = "The size cannot be negative."
	case in.Size > s.cfg.MaxFileSize:
		fields["size"] = fmt.Sprintf("This file is larger than the limit of %s.", bytesize.Format(s.cfg.MaxFileSize))
	}
	ct, ok := cleanContentType(in.ContentType)
	if !ok {
		fields["content_type"] = "This is not a valid media type (such as text/plain)."
	}
	sum, ok := parseSHA256(in.SHA256)
	if !ok {
		fields["sha256"] = "Give the SHA-256 of the file as 64 hex digits or 44 base64 characters."
	}
	if !in.OnConflict.valid() {
		fields["on_conflict"] = fmt.Sprintf("Use %q or %q.", ConflictError, ConflictRename)
	}
	if in.FolderID != "" && !validIDs(in.FolderID) {
		return Upload{}, nil, errFolderNotFound
	}
	if len(fields) > 0 {
		return Upload{}, nil, apperr.InvalidFields(fields)
	}
	u := Upload{Name: name, Size: in.Size, ContentType: ct, Mode: ModeSingle, State: StatePending, OnConflict: in.OnConflict}
	if sum != nil {
		u.SHA256 = hex.EncodeToString(sum)
	}
	if in.Size > 0 && (in.Size >= s.cfg.MultipartThreshold || in.Size > blob.MaxPutSize) {
		u.Mode = ModeMultipart
		// At most blob.MaxParts parts: ceil(size / MaxParts) bytes each.
		u.PartSize = max(s.cfg.PartSize, (in.Size+blob.MaxParts-1)/blob.MaxParts)
	}
	return u, sum, nil
}

// cleanContentType returns the media type in canonical form
// (application/octet-stream when empty), and false when it does not parse.
func cleanContentType(ct string) (string, bool) {
	ct = strings.TrimSpace(ct)
	if ct == "" {
		return "application/octet-stream", true
	}
	if len(ct) > 255 {
		return "", false
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(mt, "/") {
		return "", false
	}
	out := mime.FormatMediaType(mt, params)
	return out, out != ""
}

// parseSHA256 decodes a hex or base64 digest; "" is no digest.
func parseSHA256(s string) ([]byte, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, true
	}
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, true
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == 32 {
		return b, true
	}
	return nil, false
}

// insertUpload reserves the size against the quota and inserts the pending
// row (making the owner's quota row on first use). Errors: Conflict
// (quota).
func (s *Service) insertUpload(ctx context.Context, u *Upload, sum []byte) error {
	for attempt := 0; ; attempt++ {
		// The URLs are presigned just after this, so they expire a moment
		// later than recorded; the grace after the expiry covers that.
		err := reserveAndInsertUpload(ctx, s.pool, u, sum, s.cfg.DefaultQuota, u.CreatedAt.Add(s.cfg.UploadURLTTL))
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		// No row: the user has no quota row yet, or the file does not fit.
		made, err := ensureQuotaRow(ctx, s.pool, u.OwnerID)
		if err != nil {
			return err
		}
		if made && attempt == 0 {
			continue
		}
		return s.quotaExceeded(ctx, *u)
	}
}

// quotaExceeded is the Conflict error for a file that does not fit.
func (s *Service) quotaExceeded(ctx context.Context, u Upload) error {
	us, err := s.Usage(ctx, u.OwnerID)
	if err != nil {
		return err
	}
	free := max(us.Quota-us.Used-us.Reserved, 0)
	msg := fmt.Sprintf("Not enough space: this file needs %s, and %s of your %s is free (uploads in progress count, and cancelled ones until their upload links expire).",
		bytesize.FormatRounded(u.Size, math.Ceil), bytesize.FormatRounded(free, math.Floor), bytesize.Format(us.Quota))
	if u.UploaderID != u.OwnerID {
		// Only the fact, not the owner's figures.
		msg = "Not enough space: the owner of this folder does not have room for this file."
	}
	return &apperr.Error{
		Code:    apperr.Conflict,
		Message: msg,
		Fields:  map[string]string{"size": "Not enough space left."},
	}
}

// singleURL presigns the PUT of a single-mode upload.
func (s *Service) singleURL(ctx context.Context, u Upload, sum []byte) (UploadURLs, error) {
	req, err := s.store.PresignPut(ctx, u.objectKey, blob.PutOptions{Size: u.Size, ContentType: u.ContentType, SHA256: sum, TTL: s.cfg.UploadURLTTL})
	if err != nil {
		return UploadURLs{}, err
	}
	return UploadURLs{Upload: u, ExpiresAt: req.Expires, URL: req.URL, Header: req.Header}, nil
}

// partURLs presigns the given parts of a multipart upload.
func (s *Service) partURLs(ctx context.Context, u Upload, numbers []int32) (UploadURLs, error) {
	out := UploadURLs{Upload: u, Parts: make([]PartURL, 0, len(numbers))}
	for _, n := range numbers {
		req, err := s.store.PresignPart(ctx, u.objectKey, u.multipartID, n, u.options().PartLen(n), s.cfg.UploadURLTTL)
		if err != nil {
			return UploadURLs{}, err
		}
		out.Parts = append(out.Parts, PartURL{Number: n, URL: req.URL, Header: req.Header})
		out.ExpiresAt = req.Expires
	}
	if len(numbers) == 0 {
		out.ExpiresAt = s.now().Add(s.cfg.UploadURLTTL).Truncate(time.Second)
	}
	return out, nil
}

// findUpload loads an upload the user started or owns. Errors: NotFound.
func (s *Service) findUpload(ctx context.Context, q database.Querier, userID, id string) (Upload, error) {
	if !validIDs(id) {
		return Upload{}, errUploadNotFound
	}
	u, err := selectUpload(ctx, q, userID, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Upload{}, errUploadNotFound
	}
	return u, err
}

// UploadURLs returns fresh URLs for a pending upload: for multipart the
// parts listed in numbers (at most MaxPartBatch), for single a new PUT URL
// (numbers must be empty). Use it for very large files, after the first
// URLs expired, and to resume. An editor must still have access to the
// folder (as at complete): an upload whose access was removed is aborted.
// The URLs' expiry is recorded before they are made, so an abort or expiry
// keeps the reservation until they can no longer store bytes. Errors:
// Invalid (numbers), NotFound, Forbidden, Conflict (not pending), Gone
// (expired, aborted), Unavailable.
func (s *Service) UploadURLs(ctx context.Context, userID, id string, numbers []int32) (UploadURLs, error) {
	u, err := s.pendingUpload(ctx, userID, id)
	if err != nil {
		return UploadURLs{}, err
	}
	if err := s.checkUploader(ctx, s.pool, userID, u); err != nil {
		return UploadURLs{}, err
	}
	if u.Mode == ModeSingle {
		if len(numbers) > 0 {
			return UploadURLs{}, apperr.InvalidFields(map[string]string{"numbers": "A single-part upload has no part numbers."})
		}
		if err := s.recordURLs(ctx, u); err != nil {
			return UploadURLs{}, err
		}
		var sum []byte
		if u.SHA256 != "" {
			sum, _ = hex.DecodeString(u.SHA256)
		}
		urls, err := s.singleURL(ctx, u, sum)
		return urls, apperr.Wrap(err, "files: upload URLs %s", id)
	}
	if len(numbers) == 0 || len(numbers) > MaxPartBatch {
		return UploadURLs{}, apperr.InvalidFields(map[string]string{"numbers": fmt.Sprintf("Ask for 1 to %d part numbers at a time.", MaxPartBatch)})
	}
	for _, n := range numbers {
		if n < 1 || n > u.Parts() {
			return UploadURLs{}, apperr.InvalidFields(map[string]string{"numbers": fmt.Sprintf("Part numbers run from 1 to %d.", u.Parts())})
		}
	}
	if err := s.recordURLs(ctx, u); err != nil {
		return UploadURLs{}, err
	}
	urls, err := s.partURLs(ctx, u, numbers)
	return urls, apperr.Wrap(err, "files: upload URLs %s", id)
}

// recordURLs records that URLs valid for UploadURLTTL from now are about to
// be handed out for u. An upload that ended (or expired) since it was read
// gets none: Gone or Conflict as checkPending says.
func (s *Service) recordURLs(ctx context.Context, u Upload) error {
	now := s.now()
	ok, err := recordURLs(ctx, s.pool, u.OwnerID, u.ID, now.Add(s.cfg.UploadURLTTL), now)
	if err != nil {
		return apperr.Wrap(err, "files: upload URLs %s", u.ID)
	}
	if ok {
		return nil
	}
	cur, err := s.findUpload(ctx, s.pool, u.OwnerID, u.ID)
	if err != nil {
		return apperr.Wrap(err, "files: upload URLs %s", u.ID)
	}
	if err := s.checkPending(cur); err != nil {
		return err
	}
	return apperr.Errorf(apperr.Gone, "This upload has expired. Please upload the file again.")
}

// pendingUpload loads an upload that may still receive bytes. Errors:
// NotFound, Conflict (done, failed), Gone (aborted, expired).
func (s *Service) pendingUpload(ctx context.Context, userID, id string) (Upload, error) {
	u, err := s.findUpload(ctx, s.pool, userID, id)
	if err != nil {
		return Upload{}, apperr.Wrap(err, "files: upload %s", id)
	}
	if err := s.checkPending(u); err != nil {
		return Upload{}, err
	}
	return u, nil
}

// checkPending returns the error for an upload that is not pending, or
// past its expiry.
func (s *Service) checkPending(u Upload) error {
	switch u.State {
	case StatePending:
		if !s.now().Before(u.ExpiresAt) {
			return apperr.Errorf(apperr.Gone, "This upload has expired. Please upload the file again.")
		}
		return nil
	case StateDone:
		return apperr.Errorf(apperr.Conflict, "This upload is already complete.")
	case StateFailed:
		return errVerifyFailed
	default:
		return apperr.Errorf(apperr.Gone, "This upload was cancelled or has expired. Please upload the file again.")
	}
}

// errVerifyFailed is the answer for an upload whose stored bytes did not
// match what was declared (422).
var errVerifyFailed = &apperr.Error{
	Code:    apperr.Invalid,
	Message: "The uploaded bytes do not match the declared size or checksum, so the upload was discarded. Please upload the file again.",
}

// UploadState is an upload with the parts the store holds so far, for
// progress and resume after a reload.
type UploadState struct {
	Upload
	// Parts are the stored parts of a pending multipart upload, by number.
	Parts []blob.Part
}

// FindUpload returns an upload and, while it is a pending multipart upload,
// the parts already stored. Errors: NotFound, Unavailable.
func (s *Service) FindUpload(ctx context.Context, userID, id string) (UploadState, error) {
	u, err := s.findUpload(ctx, s.pool, userID, id)
	if err != nil {
		return UploadState{}, apperr.Wrap(err, "files: find upload %s", id)
	}
	st := UploadState{Upload: u, Parts: []blob.Part{}}
	if u.State == StatePending && u.Mode == ModeMultipart && u.multipartID != "" {
		parts, err := s.store.ListParts(ctx, u.objectKey, u.multipartID)
		if err != nil && !errors.Is(err, blob.ErrNotFound) {
			return UploadState{}, apperr.Wrap(err, "files: find upload %s", id)
		}
		if parts != nil {
			st.Parts = parts
		}
	}
	return st, nil
}

// ListUploads returns the pending uploads the user started, oldest first,
// so a page reload can offer to resume them. Errors: Unavailable.
func (s *Service) ListUploads(ctx context.Context, userID string) ([]Upload, error) {
	if !validIDs(userID) {
		return nil, nil
	}
	ups, err := pendingUploadsBy(ctx, s.pool, userID, 1000)
	return ups, apperr.Wrap(err, "files: list uploads")
}

// CompletedPart is a part as the client reports it: its number and the ETag
// header of its PUT response.
type CompletedPart struct {
	Number int32  `json:"number"`
	ETag   string `json:"etag"`
}

// CompleteInput finishes an upload. Parts is empty for single uploads; for
// multipart it lists every part, or is empty to take the parts the store
// holds.
type CompleteInput struct {
	Parts []CompletedPart `json:"parts"`
}

// CompleteUpload finishes an upload: it completes the multipart upload,
// checks the stored object's size (and SHA-256 when both sides know it)
// against the declared one, then in one transaction marks the upload done,
// creates the file and moves the size from reserved to used. It is
// idempotent: once done it returns the same file and charges nothing.
//
// Errors: NotFound (not the user's); Conflict (no bytes stored yet, or
// parts missing or not matching: the upload stays pending); Invalid (422:
// the stored bytes do not match, so the upload is marked failed and the
// object deleted); Gone (aborted or expired); BadRequest (malformed part
// list); Unavailable (store or database down: the upload stays pending and
// a retry completes it).
func (s *Service) CompleteUpload(ctx context.Context, userID, id string, in CompleteInput) (File, error) {
	q := s.pool
	u, err := s.findUpload(ctx, q, userID, id)
	if err != nil {
		return File{}, apperr.Wrap(err, "files: complete upload %s", id)
	}
	if u.State == StateDone {
		return s.uploadedFile(ctx, q, u)
	}
	if err := s.checkPending(u); err != nil {
		return File{}, err
	}
	if err := s.checkUploader(ctx, q, userID, u); err != nil {
		return File{}, err
	}
	if err := s.assemble(ctx, u, in.Parts); err != nil {
		return File{}, apperr.Wrap(err, "files: complete upload %s", id)
	}
	obj, err := s.store.Head(ctx, u.objectKey)
	if errors.Is(err, blob.ErrNotFound) {
		return File{}, apperr.Errorf(apperr.Conflict, "No bytes have been uploaded for this file yet. Send them, then complete the upload.")
	}
	if err != nil {
		return File{}, apperr.Wrap(err, "files: complete upload %s: head", id)
	}
	declared, _ := hex.DecodeString(u.SHA256)
	if obj.Size != u.Size || (len(declared) > 0 && obj.SHA256 != nil && !bytes.Equal(declared, obj.SHA256)) {
		if err := s.drop(ctx, q, u, StateFailed); err != nil {
			return File{}, apperr.Wrap(err, "files: fail upload %s", id)
		}
		return File{}, errVerifyFailed
	}
	f, err := s.finish(ctx, q, u, obj)
	if err != nil {
		return File{}, apperr.Wrap(err, "files: complete upload %s", id)
	}
	return f, nil
}

// checkUploader checks, for an editor's upload into a shared folder, that
// the grant still holds; an upload whose access was removed is aborted
// rather than finished or given more URLs. Errors: NotFound, Forbidden,
// Unavailable.
func (s *Service) checkUploader(ctx context.Context, q database.Querier, userID string, u Upload) error {
	if userID == u.OwnerID {
		return nil
	}
	_, err := s.authorizeFolder(ctx, q, userID, u.FolderID, RoleEditor)
	if apperr.Is(err, apperr.NotFound) || apperr.Is(err, apperr.Forbidden) {
		s.dropQuietly(q, u, StateAborted)
	}
	return apperr.Wrap(err, "files: check uploader of %s", u.ID)
}

// assemble completes a multipart upload in the store. A store that no
// longer knows the upload may have completed it on an earlier call whose
// answer was lost: Head decides.
func (s *Service) assemble(ctx context.Context, u Upload, given []CompletedPart) error {
	if u.Mode != ModeMultipart {
		if len(given) > 0 {
			return apperr.Errorf(apperr.BadRequest, "A single-part upload is completed without a part list.")
		}
		return nil
	}
	if u.multipartID == "" {
		return apperr.Errorf(apperr.Conflict, "No bytes have been uploaded for this file yet. Send them, then complete the upload.")
	}
	var parts []blob.Part
	if len(given) == 0 {
		stored, err := s.store.ListParts(ctx, u.objectKey, u.multipartID)
		if errors.Is(err, blob.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(stored) != int(u.Parts()) {
			return apperr.Errorf(apperr.Conflict, "%d of the %d parts have been uploaded. Send the rest, then complete the upload.", len(stored), u.Parts())
		}
		parts = stored
	} else {
		for _, p := range given {
			parts = append(parts, blob.Part{Number: p.Number, ETag: p.ETag})
		}
		sorted, err := blob.SortParts(parts)
		if err != nil || len(sorted) != int(u.Parts()) {
			return apperr.Errorf(apperr.BadRequest, "List each of the %d parts once, numbered 1 to %d, with the ETag of its upload.", u.Parts(), u.Parts())
		}
		parts = sorted
	}
	err := s.store.CompleteMultipart(ctx, u.objectKey, u.multipartID, parts)
	switch {
	case errors.Is(err, blob.ErrInvalid):
		return &apperr.Error{Code: apperr.Conflict, Message: "Some parts are missing or do not match what was uploaded (check the ETags). Upload them, then complete again.", Err: err}
	case errors.Is(err, blob.ErrNotFound):
		return nil
	}
	return err
}

// finish is the transaction that makes the file: it claims the upload
// (pending → done), so of two concurrent calls one creates the file and the
// other returns it. The file's background jobs (FileJobs) commit with it.
func (s *Service) finish(ctx context.Context, q database.Querier, u Upload, obj blob.Object) (File, error) {
	var f File
	var raced bool
	err := database.InTx(ctx, q, func(tx pgx.Tx) error {
		now := s.now()
		fileID, err := claimUpload(ctx, tx, u.OwnerID, u.ID, now)
		if errors.Is(err, pgx.ErrNoRows) {
			raced = true
			return nil
		}
		if err != nil {
			return err
		}
		// The folder may have gone (or gone to the trash) since initiate:
		// the file then lands in the root rather than being lost.
		folder := u.FolderID
		if err := checkTarget(ctx, tx, u.OwnerID, folder); apperr.Is(err, apperr.NotFound) {
			folder = ""
		} else if err != nil {
			return err
		}
		if err := lockNames(ctx, tx, u.OwnerID, folder); err != nil {
			return err
		}
		// The name was free at initiate (or rename was asked for); if it was
		// taken since, keep both rather than fail an upload whose bytes are in.
		name, err := claimName(ctx, tx, u.OwnerID, folder, u.Name, "", ConflictRename)
		if err != nil {
			return err
		}
		if f, err = insertUploadedFile(ctx, tx, fileID, u, folder, name, obj.SHA256, s.cfg.Scan.initial(), now); err != nil {
			return err
		}
		if err := chargeUpload(ctx, tx, u.OwnerID, u.Size); err != nil {
			return err
		}
		if s.FileJobs == nil {
			return nil
		}
		return s.FileJobs.EnqueueFileJobs(ctx, tx, f)
	})
	if err != nil {
		return File{}, err
	}
	if !raced {
		s.observe("completed", u.Size)
		return f, nil
	}
	// Another call finished (or aborted) the upload first.
	cur, err := s.findUpload(ctx, q, u.OwnerID, u.ID)
	if err != nil {
		return File{}, err
	}
	if cur.State == StateDone {
		return s.uploadedFile(ctx, q, cur)
	}
	// Aborted or expired while we completed it: the object we may have
	// assembled must not outlive the upload.
	s.deleteQuietly(q, cur)
	return File{}, s.checkPending(cur)
}

// uploadedFile returns the file a done upload made (trashed or not).
// Errors: Gone (the file has been deleted since).
func (s *Service) uploadedFile(ctx context.Context, q database.Querier, u Upload) (File, error) {
	if u.FileID == "" {
		return File{}, apperr.Errorf(apperr.Gone, "This upload completed, but its file has since been deleted.")
	}
	f, err := selectOwnedFile(ctx, q, u.OwnerID, u.FileID)
	if errors.Is(err, pgx.ErrNoRows) {
		return File{}, apperr.Errorf(apperr.Gone, "This upload completed, but its file has since been deleted.")
	}
	return f, apperr.Wrap(err, "files: file of upload %s", u.ID)
}

// AbortUpload cancels a pending upload. Its URLs stay valid until they
// expire, so the reservation is kept and the object's deletion queued for
// grace after the last one's expiry (DeleteObjects then deletes whatever
// arrived and releases the reservation); what the store holds now is
// deleted at once. Aborting an aborted, expired or failed upload does
// nothing. Errors: NotFound, Conflict (already complete: delete the file
// instead), Unavailable.
func (s *Service) AbortUpload(ctx context.Context, userID, id string) error {
	u, err := s.findUpload(ctx, s.pool, userID, id)
	if err != nil {
		return apperr.Wrap(err, "files: abort upload %s", id)
	}
	switch u.State {
	case StateDone:
		return apperr.Errorf(apperr.Conflict, "This upload is already complete; delete the file instead.")
	case StatePending:
		return apperr.Wrap(s.drop(ctx, s.pool, u, StateAborted), "files: abort upload %s", id)
	}
	return nil
}

// drop ends a pending upload without a file (aborted, expired, failed):
// one transaction on q changes the state and queues the object's deletion
// for when the upload's URLs can no longer store bytes (see endUpload); the
// reservation stays until that deletion is done. Then what the store holds
// now is deleted (and a multipart upload aborted, which stops its part
// URLs). It does nothing if the upload is no longer pending.
func (s *Service) drop(ctx context.Context, q database.Querier, u Upload, state string) error {
	return s.end(ctx, q, u, state, true)
}

// end is drop; issued false says no URL of the upload was handed out (its
// initiate failed), so its reservation is released at once.
func (s *Service) end(ctx context.Context, q database.Querier, u Upload, state string, issued bool) error {
	var dropped bool
	err := database.InTx(ctx, q, func(tx pgx.Tx) error {
		now := s.now()
		releaseAfter, err := endUpload(ctx, tx, u.OwnerID, u.ID, state, now, s.cfg.UploadURLTTL, s.cfg.ExpiryGrace, issued)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		dropped = true
		if !issued {
			if _, err := releaseUpload(ctx, tx, u.OwnerID, u.ID, now); err != nil {
				return err
			}
		}
		return enqueueDeletion(ctx, tx, u.objectKey, u.multipartID, releaseAfter)
	})
	if err != nil || !dropped {
		return err
	}
	s.observe(state, u.Size)
	s.removeQuietly(u)
	return nil
}

// deleteQuietly queues an upload's object for deletion on q (a deletion
// already queued for later keeps its time) and deletes what the store holds
// now; the queue (DeleteObjects) deletes again when due.
func (s *Service) deleteQuietly(q database.Querier, u Upload) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := enqueueDeletion(ctx, q, u.objectKey, u.multipartID, s.now()); err != nil {
		return
	}
	_ = s.removeObject(ctx, u.objectKey, u.multipartID)
}

// removeQuietly deletes an ended upload's object and multipart upload from
// the store now, best effort: its queued deletion stands either way.
func (s *Service) removeQuietly(u Upload) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.removeObject(ctx, u.objectKey, u.multipartID)
}

// dropQuietly ends an upload whose editor lost access; if even that
// fails, the sweeper ends it at expiry.
func (s *Service) dropQuietly(q database.Querier, u Upload, state string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = s.drop(ctx, q, u, state)
}

// ExpireUploads ends the pending uploads whose expiry passed more than the
// grace period ago (their objects queued for deletion, their reservations
// kept until that is done, as for an abort), and releases the reservations
// of ended uploads whose time has come and whose deletion is no longer
// queued (DeleteObjects releases the others as it deletes). It returns how
// many uploads it expired or released. For the jobs runner.
func (s *Service) ExpireUploads(ctx context.Context) (int, error) {
	n := 0
	for {
		ups, err := expiredUploads(ctx, s.pool, s.now().Add(-s.cfg.ExpiryGrace), 100)
		if err != nil {
			return n, apperr.Wrap(err, "files: expire uploads")
		}
		for _, u := range ups {
			if err := s.drop(ctx, s.pool, u, StateExpired); err != nil {
				return n, apperr.Wrap(err, "files: expire upload %s", u.ID)
			}
			n++
		}
		if len(ups) < 100 {
			break
		}
	}
	for {
		refs, err := releasableUploads(ctx, s.pool, s.now(), 100)
		if err != nil {
			return n, apperr.Wrap(err, "files: release uploads")
		}
		released := 0
		for _, r := range refs {
			ok, err := releaseUpload(ctx, s.pool, r.ownerID, r.id, s.now())
			if err != nil {
				return n, apperr.Wrap(err, "files: release upload %s", r.id)
			}
			if ok {
				released++
			}
		}
		n += released
		if len(refs) < 100 || released == 0 {
			return n, nil
		}
	}
}
