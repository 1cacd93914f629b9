package shares

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/blob"
	"github.com/weupload/weupload/internal/files"
)

// The recipient's side of a link: every method that yields a link's
// contents, bytes or URLs goes through authorize.

// SharedFile is one file of a link.
type SharedFile struct {
	ID string
	// Dir is the folder path inside a folder link ("" or "a/b/").
	Dir         string
	Name        string
	Size        int64
	ContentType string
	// Held says why the file cannot be downloaded now, when virus scanning
	// is required: HeldPending (being checked) or HeldBlocked (not clean);
	// empty when it can.
	Held string
}

// Why a shared file is held back.
const (
	HeldPending = "pending"
	HeldBlocked = "blocked"
)

// Shared is what a recipient sees on a link's landing page.
type Shared struct {
	LinkID    string
	Title     string
	Note      string
	OwnerName string
	// ExpiresAt is nil for a link that never expires.
	ExpiresAt *time.Time
	// DownloadsLeft is -1 without a limit.
	DownloadsLeft int
	// FolderName is set for a folder link.
	FolderName string
	// Files lists the live files, at most MaxListed; FileCount and
	// TotalSize count all of them.
	Files     []SharedFile
	FileCount int
	TotalSize int64
}

// record is a link as the recipient side needs it.
type record struct {
	gate
	kind                    string
	maxDownloads, downloads int
	fileIDs                 []string // KindFiles: in the order shared
}

// resolve finds the link of a token and checks what holds whoever asks:
// known, not revoked, owner still there, not expired, not used up. Errors:
// NotFound, Gone, Unavailable.
func (s *Service) resolve(ctx context.Context, token string) (record, error) {
	var r record
	g, err := s.find(ctx, s.pool, links, token, false, linkColumns, &r.kind, &r.maxDownloads, &r.downloads, &r.fileIDs)
	if err != nil {
		return record{}, err
	}
	r.gate = g
	return r, r.stateError(s.now())
}

// stateError is the answer for a link that no longer gives anything.
func (r record) stateError(now time.Time) error {
	if err := r.open(links, now); err != nil {
		return err
	}
	if r.maxDownloads > 0 && r.downloads >= r.maxDownloads {
		return errExhausted
	}
	return nil
}

// authorize is the one decision on every path that yields a link's
// contents, bytes or URLs: resolve, then the password unlock. Errors:
// NotFound, Gone, Unauthorized (locked: see IsLocked), Unavailable.
func (s *Service) authorize(ctx context.Context, token string, v Visitor) (record, error) {
	r, err := s.resolve(ctx, token)
	if err != nil {
		return record{}, err
	}
	return r, s.admit(links, r.gate, v)
}

// Unlock checks a link's password and returns the unlock to remember in the
// visitor's session. Wrong passwords are throttled per link and per client
// IP across all instances. A link without a password needs no unlock: the
// zero Unlock is returned. Errors: NotFound, Gone, Unauthorized (wrong
// password, with a field message), TooMany (with the time to wait),
// Unavailable.
func (s *Service) Unlock(ctx context.Context, token, password string, v Visitor) (Unlock, error) {
	r, err := s.resolve(ctx, token)
	if err != nil {
		return Unlock{}, err
	}
	return s.unlock(ctx, links, r.gate, password, v)
}

// linkFiles returns the link's live files (only the file only when it is
// not empty), at most limit of them, from the files service's read model:
// a folder link's live subtree, or a files link's files in their order.
func (s *Service) linkFiles(ctx context.Context, r record, only string, limit int) (files.SharedFiles, error) {
	f := files.SharedFilter{OwnerID: r.ownerID, Only: only, Limit: limit, FileIDs: r.fileIDs}
	if r.kind == KindFolder {
		if r.folderID == "" {
			return files.SharedFiles{}, nil
		}
		f.FolderID, f.FileIDs = r.folderID, nil
	}
	return s.files.SharedFiles(ctx, s.pool, f)
}

// folderName returns the name of a folder link's folder while it is live.
// Errors: NotFound (gone or trashed), Unavailable.
func (s *Service) folderName(ctx context.Context, r record) (string, error) {
	name, ok, err := s.liveFolder(ctx, r.ownerID, r.folderID)
	if err != nil {
		return "", apperr.Wrap(err, "shares: folder of link %s", r.id)
	}
	if !ok {
		return "", errNoSuchLink
	}
	return name, nil
}

// Open returns a link's landing page and counts the view. Errors: NotFound
// (unknown, revoked, owner or every shared item gone), Gone (expired, used
// up), Unauthorized (locked: see IsLocked), Unavailable.
func (s *Service) Open(ctx context.Context, token string, v Visitor) (Shared, error) {
	r, err := s.authorize(ctx, token, v)
	if err != nil {
		return Shared{}, err
	}
	sh := Shared{LinkID: r.id, Title: r.title, Note: r.note, OwnerName: r.ownerName, ExpiresAt: r.expiresAt, DownloadsLeft: -1}
	if r.maxDownloads > 0 {
		sh.DownloadsLeft = r.maxDownloads - r.downloads
	}
	if r.kind == KindFolder {
		if sh.FolderName, err = s.folderName(ctx, r); err != nil {
			return Shared{}, err
		}
	}
	c, err := s.linkFiles(ctx, r, "", MaxListed)
	if err != nil {
		return Shared{}, apperr.Wrap(err, "shares: open link %s", r.id)
	}
	if r.kind == KindFiles && c.Total == 0 {
		return Shared{}, errNoSuchLink
	}
	sh.FileCount, sh.TotalSize = c.Total, c.TotalSize
	for _, e := range c.Files {
		f := sharedFile(e)
		f.Held = s.held(e)
		sh.Files = append(sh.Files, f)
	}
	if err := countView(ctx, s.pool, links, r.ownerID, r.id, s.now()); err != nil {
		return Shared{}, apperr.Wrap(err, "shares: count view of %s", r.id)
	}
	return sh, nil
}

// Download is a short-lived URL for one shared file.
type Download struct {
	URL       string
	ExpiresAt time.Time
	File      SharedFile
}

// DownloadURL counts a download against the link's limit and returns a
// presigned URL (attachment, safe content type) of one of its files, valid
// for DownloadURLTTL, or LimitedDownloadURLTTL when the link has a download
// limit: the limit counts URLs handed out, and a URL can be fetched again
// until it expires. Of concurrent requests against the last download left,
// exactly one gets a URL. Errors: NotFound (also a file not in the link, or
// trashed), Gone (expired, used up), Unauthorized (locked), Conflict (held
// back by the virus scan, see files.Service.Servable; not counted),
// Unavailable.
func (s *Service) DownloadURL(ctx context.Context, token, fileID string, v Visitor) (Download, error) {
	r, err := s.authorize(ctx, token, v)
	if err != nil {
		return Download{}, err
	}
	if !validIDs(fileID) {
		return Download{}, errSharedFileGone
	}
	c, err := s.linkFiles(ctx, r, strings.ToLower(fileID), 1)
	if err != nil {
		return Download{}, apperr.Wrap(err, "shares: download from %s", r.id)
	}
	if len(c.Files) == 0 {
		return Download{}, errSharedFileGone
	}
	e := c.Files[0]
	if err := s.files.Servable(e.ScanState); err != nil {
		return Download{}, err
	}
	if err := s.take(ctx, r); err != nil {
		return Download{}, err
	}
	ttl := s.cfg.DownloadURLTTL
	if r.maxDownloads > 0 {
		ttl = s.cfg.LimitedDownloadURLTTL
	}
	u, err := s.store.PresignGet(ctx, e.ObjectKey, blob.GetOptions{Filename: e.Name, ContentType: e.ContentType, TTL: ttl})
	if err != nil {
		_ = giveBackDownload(context.WithoutCancel(ctx), s.pool, r.ownerID, r.id)
		return Download{}, apperr.Wrap(err, "shares: presign %s of %s", e.ID, r.id)
	}
	return Download{
		URL:       u,
		ExpiresAt: s.Now().Add(ttl).Truncate(time.Second),
		File:      sharedFile(e),
	}, nil
}

// take counts one download atomically; when the link no longer allows one
// it answers why. Errors: NotFound, Gone, Unavailable.
func (s *Service) take(ctx context.Context, link record) error {
	ok, err := takeDownload(ctx, s.pool, link.ownerID, link.id, s.now())
	if err != nil {
		return apperr.Wrap(err, "shares: count download of %s", link.id)
	}
	if ok {
		return nil
	}
	r, err := findLinkState(ctx, s.pool, link.ownerID, link.id)
	if noRows(err) {
		return errNoSuchLink
	}
	if err != nil {
		return apperr.Wrap(err, "shares: count download of %s", link.id)
	}
	if err := r.stateError(s.now()); err != nil {
		return err
	}
	return errExhausted
}

// Archive is the content of a link's "Download all" zip, listed and counted
// when it was issued; Write streams it.
type Archive struct {
	// Name is the zip's file name (title, folder name or "shared-files").
	Name  string
	dirs  []string
	files []files.SharedFile
	store blob.Store
}

// Size is the total of the file sizes in the archive (not the zip's size).
func (a Archive) Size() int64 {
	var n int64
	for _, f := range a.files {
		n += f.Size
	}
	return n
}

// Archive counts a download against the link's limit and returns its live
// files (for a folder link with their folders) for a zip. When virus
// scanning is required, a file still being checked holds the whole zip
// back (Conflict, not counted: the visitor tries again in a moment) and
// files that are not clean are left out. Errors: NotFound, Gone,
// Unauthorized (locked), Conflict (more than MaxArchiveFiles files, or a
// file being checked), Unavailable.
func (s *Service) Archive(ctx context.Context, token string, v Visitor) (Archive, error) {
	r, err := s.authorize(ctx, token, v)
	if err != nil {
		return Archive{}, err
	}
	name := r.title
	if r.kind == KindFolder {
		folder, err := s.folderName(ctx, r)
		if err != nil {
			return Archive{}, err
		}
		if name == "" {
			name = folder
		}
	}
	if name == "" {
		name = "shared-files"
	}
	c, err := s.linkFiles(ctx, r, "", MaxArchiveFiles+1)
	if err != nil {
		return Archive{}, apperr.Wrap(err, "shares: zip of %s", r.id)
	}
	if c.Total > MaxArchiveFiles {
		return Archive{}, apperr.Errorf(apperr.Conflict, "This link holds more than %d files, too many for one zip: download them one by one.", MaxArchiveFiles)
	}
	if r.kind == KindFiles && c.Total == 0 {
		return Archive{}, errNoSuchLink
	}
	var dirs []string
	if r.kind == KindFolder {
		if dirs, err = s.files.SharedDirs(ctx, s.pool, r.ownerID, r.folderID, MaxArchiveFiles); err != nil {
			return Archive{}, apperr.Wrap(err, "shares: zip of %s", r.id)
		}
	}
	servable, err := s.servable(c.Files)
	if err != nil {
		return Archive{}, err
	}
	if err := s.take(ctx, r); err != nil {
		return Archive{}, err
	}
	return Archive{Name: name + ".zip", dirs: dirs, files: servable, store: s.store}, nil
}

// errZipPending holds a zip back while a file of it is being checked.
var errZipPending = apperr.Errorf(apperr.Conflict, "Some files of this link are still being checked for viruses. Try again in a moment.")

// servable drops the files the scan policy does not serve; a file still
// being checked holds them all back.
func (s *Service) servable(fs []files.SharedFile) ([]files.SharedFile, error) {
	out := make([]files.SharedFile, 0, len(fs))
	for _, e := range fs {
		switch held := s.held(e); held {
		case HeldPending:
			return nil, errZipPending
		case "":
			out = append(out, e)
		}
	}
	return out, nil
}

// held says why a file is held back ("" when it may be served).
func (s *Service) held(e files.SharedFile) string {
	switch {
	case s.files.Servable(e.ScanState) == nil:
		return ""
	case e.ScanState.Done():
		return HeldBlocked
	}
	return HeldPending
}

// open streams one file of the archive from the store.
func (a Archive) open(ctx context.Context, e files.SharedFile) (io.ReadCloser, error) {
	return a.store.Get(ctx, e.ObjectKey)
}

// sharedFile is what a recipient is told of a file.
func sharedFile(e files.SharedFile) SharedFile {
	return SharedFile{ID: e.ID, Dir: e.Dir, Name: e.Name, Size: e.Size, ContentType: e.ContentType}
}
