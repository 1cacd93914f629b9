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
	Token  string
	sealed []byte // Token as stored; nil for a row not sealed yet
	// URL is BaseURL/r/<token>; "" when the stored token does not open.
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
	errNoSuchRequest   = apperr.Errorf(apperr.NotFound, "This upload link does not exist. Check that you have the whole address.")
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
		_, ok, err := s.liveFolder(ctx, ownerID, folderID)
		if err != nil {
			return Request{}, apperr.Wrap(err, "shares: create request")
		}
		if !ok {
			return Request{}, errFolderNotFound
		}
	}
	if err := s.hashPassword(ctx, &o, in.Password); err != nil {
		return Request{}, err
	}
	id, hash, sealed, err := s.newItem(requests)
	if err != nil {
		return Request{}, err
	}
	own := []limitUpdate{{column: "max_files", value: in.MaxFiles}, {column: "max_bytes", value: in.MaxBytes}}
	if err := insertItem(ctx, s.pool, requests, id, ownerID, hash, sealed, folderID, o, own, s.now()); err != nil {
		return Request{}, apperr.Wrap(err, "shares: create request")
	}
	return s.FindRequest(ctx, ownerID, id)
}

// validateRequest checks the options of a new request. Errors: Invalid.
func (s *Service) validateRequest(title, message string, password *string, expires *time.Time, maxFiles *int, maxBytes *int64) (options, error) {
	fields := map[string]string{}
	o := s.validateOptions(fields, "message", title, message, password, expires, nil)
	requestLimits(fields, maxFiles, maxBytes)
	if len(fields) > 0 {
		return options{}, apperr.InvalidFields(fields)
	}
	return o, nil
}

// requestLimits checks a request's own limits (nil: not given).
func requestLimits(fields map[string]string, maxFiles *int, maxBytes *int64) {
	if maxFiles != nil && (*maxFiles < 1 || *maxFiles > MaxRequestFiles) {
		fields["max_files"] = fmt.Sprintf("Allow 1 to %d files, or leave it empty for no limit.", MaxRequestFiles)
	}
	if maxBytes != nil && *maxBytes < 1 {
		fields["max_bytes"] = "Allow at least 1 byte, or leave it empty for no limit."
	}
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
	u, err := s.checkUpdate(ctx, "message", in.Title, in.Message, in.Password, in.ExpiresAt, nil, func(fields map[string]string) {
		requestLimits(fields, in.MaxFiles.Value, in.MaxBytes.Value)
	})
	if err != nil {
		return Request{}, err
	}
	u.limits = []limitUpdate{
		{column: "max_files", set: in.MaxFiles.Set, value: in.MaxFiles.Value},
		{column: "max_bytes", set: in.MaxBytes.Set, value: in.MaxBytes.Value},
	}
	if err := s.update(ctx, requests, ownerID, id, u); err != nil {
		return Request{}, err
	}
	return s.FindRequest(ctx, ownerID, id)
}

// FindRequest returns one of the owner's upload requests. Errors: NotFound,
// Unavailable.
func (s *Service) FindRequest(ctx context.Context, ownerID, id string) (Request, error) {
	rs, err := s.listRequests(ctx, requestFilter{owned: byID(ownerID, id)}, 1)
	return one(rs, err, errRequestNotFound)
}

// ListRequests returns the owner's upload requests, newest first (at most
// 1000); with forFolder, only those into folderID ("" for the root).
// Errors: Unavailable.
func (s *Service) ListRequests(ctx context.Context, ownerID string, forFolder bool, folderID string) ([]Request, error) {
	if !validIDs(ownerID) || (folderID != "" && !validIDs(folderID)) {
		return nil, nil
	}
	return s.listRequests(ctx, requestFilter{owned: owned{ownerID: ownerID}, byFolder: forFolder, folderID: strings.ToLower(folderID)}, maxLinks)
}

// listRequests returns the owner's requests matching f, at most limit,
// with their folder and what arrived through them, from the files
// service's read model.
func (s *Service) listRequests(ctx context.Context, f requestFilter, limit int) ([]Request, error) {
	if !f.valid() {
		return nil, nil
	}
	rs, err := findRequests(ctx, s.pool, f, limit)
	if err != nil {
		return nil, apperr.Wrap(err, "shares: list requests")
	}
	folders, err := s.files.SharedEntries(ctx, s.pool, f.ownerID, nil, idsOf(rs, func(r Request) string { return r.FolderID }))
	if err != nil {
		return nil, apperr.Wrap(err, "shares: list requests")
	}
	slots, err := s.slots(ctx, s.pool, f.ownerID, idsOf(rs, func(r Request) string { return r.ID })...)
	if err != nil {
		return nil, apperr.Wrap(err, "shares: list requests")
	}
	for i := range rs {
		r := &rs[i]
		if e := folders[r.FolderID]; e.Live {
			r.FolderName = e.Name
		}
		r.FolderLive = r.FolderID == "" || folders[r.FolderID].Live
		for _, sl := range slots {
			if sl.requestID == r.ID && sl.state == files.StateDone {
				r.Files, r.Bytes = r.Files+1, r.Bytes+sl.size
				if r.LastUploadAt == nil || sl.finishedAt.After(*r.LastUploadAt) {
					r.LastUploadAt = sl.finishedAt
				}
			}
		}
		if r.Token = s.ownerToken(requests, r.ID, r.Token, r.sealed); r.Token != "" {
			r.URL = s.cfg.BaseURL + "/r/" + r.Token
		}
		r.State = requestState(r.ClosedAt, r.ExpiresAt, s.now())
	}
	return rs, nil
}

// placed is a slot with where its upload stands.
type placed struct {
	slot
	state      string // "" before the upload exists
	finishedAt *time.Time
	reserved   bool // the upload's size still counts against the owner's quota
}

// slots returns the slots of the owner's requests with their uploads'
// states, read on q.
func (s *Service) slots(ctx context.Context, q database.Querier, ownerID string, requestIDs ...string) ([]placed, error) {
	if len(requestIDs) == 0 {
		return nil, nil
	}
	found, err := findSlots(ctx, q, requestIDs)
	if err != nil {
		return nil, err
	}
	var uploads []string
	for _, sl := range found {
		if sl.uploadID != "" {
			uploads = append(uploads, sl.uploadID)
		}
	}
	outcomes, err := s.files.UploadOutcomes(ctx, q, ownerID, uploads)
	if err != nil {
		return nil, err
	}
	ps := make([]placed, len(found))
	for i, sl := range found {
		o := outcomes[sl.uploadID]
		ps[i] = placed{slot: sl, state: o.State, finishedAt: o.FinishedAt, reserved: o.Reserved}
	}
	return ps, nil
}

// usage counts the files and bytes of a request's slots for which counts
// says yes.
func usage(slots []placed, counts func(placed) bool) (int, int64) {
	var n int
	var size int64
	for _, sl := range slots {
		if counts(sl) {
			n, size = n+1, size+sl.size
		}
	}
	return n, size
}

// taken says whether a slot holds a place: its upload is done or in
// progress, or it is about to start (a fresh slot without an upload).
func taken(now time.Time) func(placed) bool {
	return func(sl placed) bool {
		return sl.state == files.StateDone || inFlight(now)(sl)
	}
}

// holdsBytes says whether a slot's bytes count against the link's byte
// limit: it holds a place, or its upload ended without a file while a URL
// handed out for it can still store bytes (files keeps the reservation
// until then), so aborting and starting again cannot pass max_bytes.
func holdsBytes(now time.Time) func(placed) bool {
	return func(sl placed) bool {
		return taken(now)(sl) || (sl.reserved && sl.state != files.StateDone)
	}
}

// inFlight says whether a slot's upload is in progress or about to start.
func inFlight(now time.Time) func(placed) bool {
	return func(sl placed) bool {
		return sl.state == files.StatePending || (sl.uploadID == "" && sl.created.After(now.Add(-slotTTL)))
	}
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
// stays. Its unfinished uploads are aborted, since no complete through it
// can succeed any more: the files service then keeps their quota
// reservations only until their URLs have expired (plus a grace), not
// until UPLOAD_EXPIRY. A complete already under way either finishes first
// or is refused. Closing a closed request does nothing more than abort
// what is left. Errors: NotFound, Unavailable.
func (s *Service) CloseRequest(ctx context.Context, ownerID, id string) (Request, error) {
	if !validIDs(id) {
		return Request{}, errRequestNotFound
	}
	if err := s.end(ctx, requests, ownerID, id); err != nil {
		return Request{}, err
	}
	if err := s.abortPending(ctx, ownerID, strings.ToLower(id)); err != nil {
		return Request{}, err
	}
	return s.FindRequest(ctx, ownerID, id)
}

// abortPending aborts the pending uploads made through the owner's
// request, one by one through the files service (no transaction held);
// one completed meanwhile is left alone. Errors: Unavailable.
func (s *Service) abortPending(ctx context.Context, ownerID, requestID string) error {
	slots, err := s.slots(ctx, s.pool, ownerID, requestID)
	if err != nil {
		return apperr.Wrap(err, "shares: uploads of request %s", requestID)
	}
	for _, sl := range slots {
		if sl.state != files.StatePending {
			continue
		}
		if err := s.files.AbortUpload(ctx, ownerID, sl.uploadID); err != nil && !apperr.Is(err, apperr.Conflict) {
			return apperr.Wrap(err, "shares: abort upload %s of request %s", sl.uploadID, requestID)
		}
	}
	return nil
}

// requestRecord is an upload request as the uploader side needs it.
type requestRecord struct {
	gate
	maxFiles int
	maxBytes int64
}

// findRequest finds the request of a token whatever its state; lock adds
// FOR UPDATE (of the request row, on q). Errors: NotFound, Unavailable.
func (s *Service) findRequest(ctx context.Context, q database.Querier, token string, lock bool) (requestRecord, error) {
	var r requestRecord
	g, err := s.find(ctx, q, requests, token, lock, requestColumns, &r.maxFiles, &r.maxBytes)
	r.gate = g
	return r, err
}

// resolveRequest finds the request of a token and checks that it takes
// files: known, owner there, not closed, not expired. Errors: NotFound,
// Gone, Unavailable.
func (s *Service) resolveRequest(ctx context.Context, q database.Querier, token string, lock bool) (requestRecord, error) {
	r, err := s.findRequest(ctx, q, token, lock)
	if err != nil {
		return requestRecord{}, err
	}
	if err := r.open(requests, s.now()); err != nil {
		return requestRecord{}, err
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
	return r, s.admit(requests, r.gate, v)
}

// CheckRequestToken reports whether token is an upload request's token, in
// whatever state: one lookup by the token's hash (junk never reaches the
// database). The uploader calls' throttle uses it so that only real links
// get a count of their own. Errors: NotFound, Unavailable.
func (s *Service) CheckRequestToken(ctx context.Context, token string) error {
	_, err := s.findRequest(ctx, s.pool, token, false)
	return err
}

// IsRequestLocked reports whether err means "type the request's password".
func IsRequestLocked(err error) bool { return err == errRequestLocked }

// UnlockRequest checks an upload request's password (throttled like a
// link's) and returns the unlock to remember. Errors: NotFound, Gone,
// Unauthorized, TooMany, Unavailable.
func (s *Service) UnlockRequest(ctx context.Context, token, password string, v Visitor) (Unlock, error) {
	r, err := s.resolveRequest(ctx, s.pool, token, false)
	if err != nil {
		return Unlock{}, err
	}
	return s.unlock(ctx, requests, r.gate, password, v)
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
	slots, err := s.slots(ctx, s.pool, r.ownerID, r.id)
	if err != nil {
		return Inbox{}, apperr.Wrap(err, "shares: open request %s", r.id)
	}
	n, _ := usage(slots, taken(s.now()))
	_, size := usage(slots, holdsBytes(s.now()))
	in := Inbox{RequestID: r.id, OwnerName: r.ownerName, Title: r.title, Message: r.note, ExpiresAt: r.expiresAt, FilesLeft: -1, BytesLeft: -1}
	if r.maxFiles > 0 {
		in.FilesLeft = max(r.maxFiles-n, 0)
	}
	if r.maxBytes > 0 {
		in.BytesLeft = max(r.maxBytes-size, 0)
	}
	in.MaxFileSize = s.files.Config().MaxFileSize
	if err := countView(ctx, s.pool, requests, r.ownerID, r.id, s.now()); err != nil {
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
	_, ok, err := s.liveFolder(ctx, r.ownerID, r.folderID)
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
		slots, err := s.slots(ctx, tx, r.ownerID, r.id)
		if err != nil {
			return err
		}
		n, _ := usage(slots, taken(s.now()))
		_, size := usage(slots, holdsBytes(s.now()))
		if err := r.fits(n+1, size+in.Size); err != nil {
			return err
		}
		// Without limits an uploader could still hold the owner's quota
		// with uploads they never finish (until they expire): cap those.
		if pending, _ := usage(slots, inFlight(s.now())); pending >= MaxPendingRequestUploads {
			return apperr.Errorf(apperr.Conflict, "%d uploads are already in progress through this link. Let them finish, then send more.", pending)
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
		_ = deleteSlot(context.WithoutCancel(ctx), s.pool, r.id, slot)
		return files.UploadURLs{}, uploaderError(err)
	}
	if err := setSlotUpload(ctx, s.pool, r.id, slot, urls.Upload.ID); err != nil {
		return files.UploadURLs{}, apperr.Wrap(err, "shares: initiate upload for request %s", r.id)
	}
	// A close that read the slots before the upload was recorded in its
	// slot did not abort it: look again, now that it is recorded.
	if again, err := s.findRequest(ctx, s.pool, token, false); err != nil || again.endedAt != nil {
		_ = s.files.AbortUpload(context.WithoutCancel(ctx), r.ownerID, urls.Upload.ID)
		if err == nil {
			err = errRequestClosed
		}
		return files.UploadURLs{}, err
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
	r, err := s.findRequest(ctx, s.pool, token, false)
	if err != nil {
		return requestRecord{}, err
	}
	if err := s.admit(requests, r.gate, v); err != nil {
		return requestRecord{}, err
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
		slots, err := s.slots(ctx, tx, r.ownerID, r.id)
		if err != nil {
			return err
		}
		// What is completed, or being completed by other calls, holds its
		// place; this upload's own slot is added as the one to fit.
		n, size := usage(slots, func(sl placed) bool {
			return sl.uploadID != uploadID && (sl.state == files.StateDone ||
				(sl.state == files.StatePending && sl.claimed != nil && sl.claimed.After(claimed.Add(-claimTTL))))
		})
		mine, mySize := usage(slots, func(sl placed) bool { return sl.uploadID == uploadID })
		if mine == 0 {
			return errRequestUpload
		}
		// A retry of a completed upload gets its file, whatever the limits now.
		if done, _ := usage(slots, func(sl placed) bool { return sl.uploadID == uploadID && sl.state == files.StateDone }); done > 0 {
			return nil
		}
		if err := locked.fits(n+1, size+mySize); err != nil {
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
