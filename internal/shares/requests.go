package shares

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/bytesize"
	"github.com/weupload/weupload/internal/database"
	"github.com/weupload/weupload/internal/files"
)

// Upload requests ("reverse shares"): a link that lets people without an
// account upload files into a folder of its owner, charged to the owner's
// quota. The uploader uses the same direct-to-storage protocol as account
// holders (initiate, PUT, complete) but only through the methods here,
// which hold the request's limits; they can neither list nor download
// anything. Names that are taken get " (n)", so an uploader never learns
// what the folder holds.

// RequestState is whether a request takes files now.
type RequestState string

// The states of an upload request, in the order they take precedence.
const (
	RequestClosed  RequestState = "closed" // closed by its owner
	RequestExpired RequestState = "expired"
	RequestOpen    RequestState = "open"
)

// Request is an upload request as its owner sees it.
type Request struct {
	ID      string
	OwnerID string
	// Token is the secret part of the URL; only owner-scoped reads fill it.
	Token string
	// URL is BaseURL/r/<token>.
	URL string
	// FolderID is where files go; empty for the root.
	FolderID string
	// FolderName is the folder's name ("" for the root); FolderLive is false
	// once it was trashed or deleted (the request then takes no files).
	FolderName string
	FolderLive bool
	Title      string
	Message    string
	// HasPassword: uploaders must type the password first.
	HasPassword bool
	// ExpiresAt is nil for never.
	ExpiresAt *time.Time
	// MaxFiles and MaxBytes are 0 for no limit.
	MaxFiles int
	MaxBytes int64
	// Files and Bytes count what arrived (completed uploads).
	Files        int
	Bytes        int64
	LastUploadAt *time.Time
	Views        int
	ClosedAt     *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
	State        RequestState
}

// CreateRequestInput is a new upload request; the share dialog and the API
// decode into it.
type CreateRequestInput struct {
	// FolderID is where files go; empty for the root.
	FolderID string `json:"folder_id"`
	Title    string `json:"title"`
	// Message is shown to uploaders.
	Message  string `json:"message"`
	Password string `json:"password"`
	// ExpiresAt is nil for never.
	ExpiresAt *time.Time `json:"expires_at"`
	// MaxFiles and MaxBytes are nil for no limit.
	MaxFiles *int   `json:"max_files"`
	MaxBytes *int64 `json:"max_bytes"`
}

var (
	errRequestNotFound = apperr.Errorf(apperr.NotFound, "Upload request not found.")
	errRequestGone     = apperr.Errorf(apperr.NotFound, "This upload link does not exist. Check that you have the whole address.")
	errRequestClosed   = apperr.Errorf(apperr.Gone, "This upload link has been closed by the person who made it. Files sent before are kept.")
	errRequestExpired  = apperr.Errorf(apperr.Gone, "This upload link has expired. Files sent before are kept.")
	errRequestNoFolder = apperr.Errorf(apperr.Gone, "The folder this upload link fills no longer exists. Ask the person who made it for a new link.")
	errRequestLocked   = apperr.Errorf(apperr.Unauthorized, "This upload link is protected by a password.")
	errRequestUpload   = apperr.Errorf(apperr.NotFound, "Upload not found.")
)

// Limits of upload requests: the highest file limit one can set, and how
// many uploads may be in progress through one request at once.
const (
	MaxRequestFiles          = 10_000
	MaxPendingRequestUploads = 16
)

// CreateRequest makes an upload request into the owner's folder (the root
// when FolderID is empty). Errors: Invalid, NotFound (the folder),
// Unavailable.
func (s *Service) CreateRequest(ctx context.Context, ownerID string, in CreateRequestInput) (Request, error) {
	o, err := s.validateRequest(in.Title, in.Message, &in.Password, in.ExpiresAt, in.MaxFiles, in.MaxBytes)
	if err != nil {
		return Request{}, err
	}
	folderID := strings.ToLower(in.FolderID)
	if folderID != "" {
		if !validIDs(folderID) {
			return Request{}, errFolderNotFound
		}
		ok, err := liveFolder(ctx, s.pool, ownerID, folderID)
		if err != nil {
			return Request{}, apperr.Wrap(err, "shares: create request")
		}
		if !ok {
			return Request{}, errFolderNotFound
		}
	}
	if err := s.hashPassword(&o, in.Password); err != nil {
		return Request{}, err
	}
	token, hash, err := newToken()
	if err != nil {
		return Request{}, err
	}
	id, err := insertRequest(ctx, s.pool, ownerID, token, hash, folderID, o, in.MaxFiles, in.MaxBytes, s.now())
	if err != nil {
		return Request{}, apperr.Wrap(err, "shares: create request")
	}
	return s.FindRequest(ctx, ownerID, id)
}

// validateRequest checks the options of a request, for CreateRequest and
// UpdateRequest alike (nil: not given). Errors: Invalid.
func (s *Service) validateRequest(title, message string, password *string, expires *time.Time, maxFiles *int, maxBytes *int64) (options, error) {
	fields := map[string]string{}
	o := s.validateOptions(fields, "message", title, message, password, expires, nil)
	if maxFiles != nil && (*maxFiles < 1 || *maxFiles > MaxRequestFiles) {
		fields["max_files"] = fmt.Sprintf("Allow 1 to %d files, or leave it empty for no limit.", MaxRequestFiles)
	}
	if maxBytes != nil && *maxBytes < 1 {
		fields["max_bytes"] = "Allow at least 1 byte, or leave it empty for no limit."
	}
	if len(fields) > 0 {
		return options{}, apperr.InvalidFields(fields)
	}
	return o, nil
}

// UpdateRequestInput changes the options of an upload request; fields not
// given stay. The folder cannot change (make a new request instead).
type UpdateRequestInput struct {
	Title   *string `json:"title"`
	Message *string `json:"message"`
	// Password: a new password; "" or null removes it.
	Password Optional[string] `json:"password"`
	// ExpiresAt: null for never.
	ExpiresAt Optional[time.Time] `json:"expires_at"`
	// MaxFiles and MaxBytes: null for no limit.
	MaxFiles Optional[int]   `json:"max_files"`
	MaxBytes Optional[int64] `json:"max_bytes"`
}

// UpdateRequest changes a request's options, validated as CreateRequest
// does; they apply to the very next upload (limits are checked again when
// an upload in flight completes). An expired request given a later expiry
// takes files again; a new or removed password ends every remembered
// unlock. Errors: Invalid, NotFound, Conflict (closed), Unavailable.
func (s *Service) UpdateRequest(ctx context.Context, ownerID, id string, in UpdateRequestInput) (Request, error) {
	if !validIDs(id) {
		return Request{}, errRequestNotFound
	}
	var title, message string
	if in.Title != nil {
		title = *in.Title
	}
	if in.Message != nil {
		message = *in.Message
	}
	o, err := s.validateRequest(title, message, in.Password.Value, in.ExpiresAt.Value, in.MaxFiles.Value, in.MaxBytes.Value)
	if err != nil {
		return Request{}, err
	}
	if in.Password.Value != nil {
		if err := s.hashPassword(&o, *in.Password.Value); err != nil {
			return Request{}, err
		}
	}
	u := requestUpdate{
		setPassword: in.Password.Set, passwordHash: o.passwordHash,
		setExpiry: in.ExpiresAt.Set, expiresAt: o.expiresAt,
		setMaxFiles: in.MaxFiles.Set, maxFiles: in.MaxFiles.Value,
		setMaxBytes: in.MaxBytes.Set, maxBytes: in.MaxBytes.Value,
	}
	if in.Title != nil {
		u.title = &o.title
	}
	if in.Message != nil {
		u.message = &o.note
	}
	err = database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		closed, err := lockRequest(ctx, tx, ownerID, id)
		if noRows(err) {
			return errRequestNotFound
		}
		if err != nil {
			return err
		}
		if closed {
			return apperr.Errorf(apperr.Conflict, "This upload link has been closed; create a new one instead.")
		}
		return updateRequest(ctx, tx, id, u, s.now())
	})
	if err != nil {
		return Request{}, apperr.Wrap(err, "shares: update request %s", id)
	}
	return s.FindRequest(ctx, ownerID, id)
}

// FindRequest returns one of the owner's upload requests. Errors: NotFound,
// Unavailable.
func (s *Service) FindRequest(ctx context.Context, ownerID, id string) (Request, error) {
	if !validIDs(id) {
		return Request{}, errRequestNotFound
	}
	rs, err := findRequests(ctx, s.pool, requestFilter{ownerID: ownerID, id: id}, 1, s.now())
	if err != nil {
		return Request{}, apperr.Wrap(err, "shares: find request %s", id)
	}
	if len(rs) == 0 {
		return Request{}, errRequestNotFound
	}
	return s.finishRequest(rs[0]), nil
}

// ListRequests returns the owner's upload requests, newest first (at most
// 1000); with forFolder, only those into folderID ("" for the root).
// Errors: Unavailable.
func (s *Service) ListRequests(ctx context.Context, ownerID string, forFolder bool, folderID string) ([]Request, error) {
	if !validIDs(ownerID) || (folderID != "" && !validIDs(folderID)) {
		return nil, nil
	}
	rs, err := findRequests(ctx, s.pool, requestFilter{ownerID: ownerID, byFolder: forFolder, folderID: strings.ToLower(folderID)}, maxLinks, s.now())
	if err != nil {
		return nil, apperr.Wrap(err, "shares: list requests")
	}
	for i := range rs {
		rs[i] = s.finishRequest(rs[i])
	}
	return rs, nil
}

func (s *Service) finishRequest(r Request) Request {
	r.URL = s.cfg.BaseURL + "/r/" + r.Token
	r.State = requestState(r.ClosedAt, r.ExpiresAt, s.now())
	return r
}

func requestState(closed, expires *time.Time, now time.Time) RequestState {
	switch {
	case closed != nil:
		return RequestClosed
	case expires != nil && !expires.After(now):
		return RequestExpired
	}
	return RequestOpen
}

// CloseRequest stops a request from taking files, at once; what arrived
// stays. Closing a closed request does nothing. Errors: NotFound,
// Unavailable.
func (s *Service) CloseRequest(ctx context.Context, ownerID, id string) (Request, error) {
	if !validIDs(id) {
		return Request{}, errRequestNotFound
	}
	ok, err := closeRequest(ctx, s.pool, ownerID, id, s.now())
	if err != nil {
		return Request{}, apperr.Wrap(err, "shares: close request %s", id)
	}
	if !ok {
		return Request{}, errRequestNotFound
	}
	return s.FindRequest(ctx, ownerID, id)
}

// resolveRequest finds the request of a token and checks that it takes
// files: known, owner there, not closed, not expired. Errors: NotFound,
// Gone, Unavailable.
func (s *Service) resolveRequest(ctx context.Context, q database.Querier, token string, lock bool) (requestRecord, error) {
	if !wellFormed(token) {
		return requestRecord{}, errRequestGone
	}
	r, err := findRequestByToken(ctx, q, hashToken(token), lock)
	if noRows(err) {
		return requestRecord{}, errRequestGone
	}
	if err != nil {
		return requestRecord{}, apperr.Wrap(err, "shares: resolve request")
	}
	switch requestState(r.closedAt, r.expiresAt, s.now()) {
	case RequestClosed:
		return requestRecord{}, errRequestClosed
	case RequestExpired:
		return requestRecord{}, errRequestExpired
	}
	return r, nil
}

// authorizeRequest is the one decision on every uploader path: the request
// takes files and the visitor holds its unlock. Errors: NotFound, Gone,
// Unauthorized (locked: see IsRequestLocked), Unavailable.
func (s *Service) authorizeRequest(ctx context.Context, token string, v Visitor) (requestRecord, error) {
	r, err := s.resolveRequest(ctx, s.pool, token, false)
	if err != nil {
		return requestRecord{}, err
	}
	if r.passwordHash != "" && !s.unlocked(v, r.id, r.passwordVersion) {
		return requestRecord{}, errRequestLocked
	}
	return r, nil
}

// IsRequestLocked reports whether err means "type the request's password".
func IsRequestLocked(err error) bool { return err == errRequestLocked }

// UnlockRequest checks an upload request's password (throttled like a
// link's) and returns the unlock to remember. Errors: NotFound, Gone,
// Unauthorized, TooMany, Unavailable.
func (s *Service) UnlockRequest(ctx context.Context, token, password string, v Visitor) (Unlock, error) {
	r, err := s.resolveRequest(ctx, s.pool, token, false)
	if err != nil || r.passwordHash == "" {
		return Unlock{}, err
	}
	return s.checkPassword(ctx, "share:request:"+r.id, r.id, r.passwordHash, r.passwordVersion, password, v)
}

// Inbox is what an uploader sees: who asks, what for, and what is left.
type Inbox struct {
	RequestID string
	OwnerName string
	Title     string
	Message   string
	ExpiresAt *time.Time
	// FilesLeft and BytesLeft are -1 without a limit.
	FilesLeft int
	BytesLeft int64
	// MaxFileSize is the largest single file the service takes.
	MaxFileSize int64
}

// OpenRequest returns the uploader's page and counts the view. Errors:
// NotFound, Gone (closed, expired, folder gone), Unauthorized (locked),
// Unavailable.
func (s *Service) OpenRequest(ctx context.Context, token string, v Visitor) (Inbox, error) {
	r, err := s.authorizeRequest(ctx, token, v)
	if err != nil {
		return Inbox{}, err
	}
	if err := s.checkRequestFolder(ctx, r); err != nil {
		return Inbox{}, err
	}
	n, size, err := requestUsage(ctx, s.pool, r.id, s.now())
	if err != nil {
		return Inbox{}, apperr.Wrap(err, "shares: open request %s", r.id)
	}
	in := Inbox{RequestID: r.id, OwnerName: r.ownerName, Title: r.title, Message: r.message, ExpiresAt: r.expiresAt, FilesLeft: -1, BytesLeft: -1}
	if r.maxFiles > 0 {
		in.FilesLeft = max(r.maxFiles-n, 0)
	}
	if r.maxBytes > 0 {
		in.BytesLeft = max(r.maxBytes-size, 0)
	}
	in.MaxFileSize = s.files.Config().MaxFileSize
	if err := countRequestView(ctx, s.pool, r.id); err != nil {
		return Inbox{}, apperr.Wrap(err, "shares: open request %s", r.id)
	}
	return in, nil
}

// checkRequestFolder answers Gone when the request's folder is no longer
// the owner's live folder.
func (s *Service) checkRequestFolder(ctx context.Context, r requestRecord) error {
	if r.folderID == "" {
		return nil
	}
	ok, err := liveFolder(ctx, s.pool, r.ownerID, r.folderID)
	if err != nil {
		return apperr.Wrap(err, "shares: request folder %s", r.id)
	}
	if !ok {
		return errRequestNoFolder
	}
	return nil
}

// slotTTL is how long a slot counts before its upload exists (a crash
// between taking the slot and initiating the upload); claimTTL is how long
// a claim to complete counts while its upload stays pending (a crash
// between the claim and the completion).
const (
	slotTTL  = 5 * time.Minute
	claimTTL = 10 * time.Minute
)

// InitiateRequestUpload starts an upload into the request's folder, for the
// owner, within the request's limits: under a lock on the request, the
// files and bytes already sent or in flight plus this one must fit, and a
// slot is taken before the upload is initiated, so concurrent uploads
// cannot together pass a limit. The file is renamed if its name is taken.
// Errors: Invalid, NotFound, Gone, Unauthorized (locked), Conflict (a limit
// of the request, or the owner's quota), Unavailable.
func (s *Service) InitiateRequestUpload(ctx context.Context, token string, v Visitor, in files.InitiateInput) (files.UploadURLs, error) {
	r, err := s.authorizeRequest(ctx, token, v)
	if err != nil {
		return files.UploadURLs{}, err
	}
	if err := s.checkRequestFolder(ctx, r); err != nil {
		return files.UploadURLs{}, err
	}
	if in.Size < 0 {
		return files.UploadURLs{}, apperr.InvalidFields(map[string]string{"size": "The size cannot be negative."})
	}
	var slot string
	err = database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		r, err := s.resolveRequest(ctx, tx, token, true)
		if err != nil {
			return err
		}
		n, size, err := requestUsage(ctx, tx, r.id, s.now())
		if err != nil {
			return err
		}
		if err := r.fits(n+1, size+in.Size); err != nil {
			return err
		}
		// Without limits an uploader could still hold the owner's quota
		// with uploads they never finish (until they expire): cap those.
		inFlight, err := pendingSlots(ctx, tx, r.id, s.now())
		if err != nil {
			return err
		}
		if inFlight >= MaxPendingRequestUploads {
			return apperr.Errorf(apperr.Conflict, "%d uploads are already in progress through this link. Let them finish, then send more.", inFlight)
		}
		slot, err = insertSlot(ctx, tx, r.id, in.Size, s.now())
		return err
	})
	if err != nil {
		return files.UploadURLs{}, apperr.Wrap(err, "shares: initiate upload for request %s", r.id)
	}
	in.FolderID, in.OnConflict = r.folderID, files.ConflictRename
	urls, err := s.files.InitiateUpload(ctx, r.ownerID, in)
	if err != nil {
		_ = deleteSlot(context.WithoutCancel(ctx), s.pool, slot)
		return files.UploadURLs{}, uploaderError(err)
	}
	if err := setSlotUpload(ctx, s.pool, slot, urls.Upload.ID); err != nil {
		return files.UploadURLs{}, apperr.Wrap(err, "shares: initiate upload for request %s", r.id)
	}
	return urls, nil
}

// fits answers Conflict when n files of size bytes in total pass a limit.
func (r requestRecord) fits(n int, size int64) error {
	if r.maxFiles > 0 && n > r.maxFiles {
		return apperr.Errorf(apperr.Conflict, "This upload link takes at most %d files, and that many have been sent.", r.maxFiles)
	}
	if r.maxBytes > 0 && size > r.maxBytes {
		return &apperr.Error{Code: apperr.Conflict,
			Message: fmt.Sprintf("This upload link takes at most %s in all; this file does not fit in what is left.", bytesize.Format(r.maxBytes)),
			Fields:  map[string]string{"size": "Too large for what is left."}}
	}
	return nil
}

// uploaderError keeps the owner's affairs out of what an uploader reads:
// the quota message (how much space the owner has) becomes a plain one.
func uploaderError(err error) error {
	if e := apperr.As(err); e != nil && e.Code == apperr.Conflict && e.Fields["size"] != "" {
		return &apperr.Error{Code: apperr.Conflict, Message: "There is not enough space for this file at the receiving end. Ask the person who sent you the link.",
			Fields: map[string]string{"size": "Not enough space."}}
	}
	return err
}

// requestUpload checks that uploadID was made through the request.
func (s *Service) requestUpload(ctx context.Context, r requestRecord, uploadID string) error {
	if !validIDs(uploadID) {
		return errRequestUpload
	}
	ok, err := slotExists(ctx, s.pool, r.id, strings.ToLower(uploadID))
	if err != nil {
		return apperr.Wrap(err, "shares: upload %s of request %s", uploadID, r.id)
	}
	if !ok {
		return errRequestUpload
	}
	return nil
}

// requestOfUpload finds the request of a token whatever its state (an
// upload in flight must still be completed or aborted, or refused and
// aborted, once the request closed or expired), checks the visitor's
// unlock and that uploadID was made through it. Errors: NotFound,
// Unauthorized (locked), Unavailable.
func (s *Service) requestOfUpload(ctx context.Context, token string, v Visitor, uploadID string) (requestRecord, error) {
	if !wellFormed(token) {
		return requestRecord{}, errRequestGone
	}
	r, err := findRequestByToken(ctx, s.pool, hashToken(token), false)
	if noRows(err) {
		return requestRecord{}, errRequestGone
	}
	if err != nil {
		return requestRecord{}, apperr.Wrap(err, "shares: resolve request")
	}
	if r.passwordHash != "" && !s.unlocked(v, r.id, r.passwordVersion) {
		return requestRecord{}, errRequestLocked
	}
	return r, s.requestUpload(ctx, r, uploadID)
}

// RequestUploadState returns an upload made through the request with the
// parts already stored, so the uploader's page can resume it after a
// reload; it answers whatever the request's state, like
// AbortRequestUpload. Errors: NotFound, Unauthorized, Unavailable.
func (s *Service) RequestUploadState(ctx context.Context, token string, v Visitor, uploadID string) (files.UploadState, error) {
	r, err := s.requestOfUpload(ctx, token, v, uploadID)
	if err != nil {
		return files.UploadState{}, err
	}
	return s.files.FindUpload(ctx, r.ownerID, uploadID)
}

// RequestUploadURLs returns fresh part URLs (or a fresh single URL) of an
// upload made through the request, as files.Service.UploadURLs. Errors:
// Invalid, NotFound, Gone, Unauthorized, Conflict, Unavailable.
func (s *Service) RequestUploadURLs(ctx context.Context, token string, v Visitor, uploadID string, numbers []int32) (files.UploadURLs, error) {
	r, err := s.authorizeRequest(ctx, token, v)
	if err != nil {
		return files.UploadURLs{}, err
	}
	if err := s.requestUpload(ctx, r, uploadID); err != nil {
		return files.UploadURLs{}, err
	}
	return s.files.UploadURLs(ctx, r.ownerID, uploadID, numbers)
}

// CompleteRequestUpload finishes an upload made through the request. It
// first claims the upload's place in the request's limits: under a short
// lock on the request, it checks again that the request takes files and
// that the files and bytes completed or being completed so far plus this
// one fit its limits (the owner may have lowered them, or closed it), and
// commits the claim; if not, the upload is aborted, so the owner's quota
// is not held. Then it completes the upload with no lock held; a failed
// completion gives the place back (a retry claims it again). Errors: as
// files.Service.CompleteUpload, and Gone (closed, expired), Conflict (a
// limit), Unauthorized (locked).
func (s *Service) CompleteRequestUpload(ctx context.Context, token string, v Visitor, uploadID string, in files.CompleteInput) (files.File, error) {
	r, err := s.requestOfUpload(ctx, token, v, uploadID)
	if err != nil {
		return files.File{}, err
	}
	uploadID = strings.ToLower(uploadID)
	claimed := s.now()
	var refused error
	err = database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		locked, err := s.resolveRequest(ctx, tx, token, true)
		if apperr.Is(err, apperr.Gone) || apperr.Is(err, apperr.NotFound) {
			refused = err
			return nil
		}
		if err != nil {
			return err
		}
		n, size, err := completingUsage(ctx, tx, r.id, uploadID, claimed)
		if err != nil {
			return err
		}
		slotSize, err := slotSize(ctx, tx, r.id, uploadID)
		if err != nil {
			return err
		}
		if err := locked.fits(n+1, size+slotSize); err != nil {
			refused = err
			return nil
		}
		return claimSlot(ctx, tx, r.id, uploadID, claimed)
	})
	if refused != nil {
		_ = s.files.AbortUpload(context.WithoutCancel(ctx), r.ownerID, uploadID)
		return files.File{}, refused
	}
	if err != nil {
		return files.File{}, apperr.Wrap(err, "shares: complete upload %s of request %s", uploadID, r.id)
	}
	f, err := s.files.CompleteUpload(ctx, r.ownerID, uploadID, in)
	if err != nil {
		// Whatever the upload's state now (pending for a retry, failed),
		// this call no longer holds its place.
		_ = releaseSlot(context.WithoutCancel(ctx), s.pool, r.id, uploadID, claimed)
		return files.File{}, apperr.Wrap(err, "shares: complete upload %s of request %s", uploadID, r.id)
	}
	return f, nil
}

// AbortRequestUpload cancels an upload made through the request, even once
// the request closed or expired. Errors: NotFound, Unauthorized, Conflict
// (already complete), Unavailable.
func (s *Service) AbortRequestUpload(ctx context.Context, token string, v Visitor, uploadID string) error {
	r, err := s.requestOfUpload(ctx, token, v, uploadID)
	if err != nil {
		return err
	}
	return s.files.AbortUpload(ctx, r.ownerID, uploadID)
}
