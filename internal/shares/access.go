package shares

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/blob"
	"github.com/weupload/weupload/internal/password"
	"github.com/weupload/weupload/internal/ratelimit"
)

// Visitor is whoever presents a token: their client IP (for throttling) and
// the unlocks their session holds.
type Visitor struct {
	ClientIP string
	// Unlock returns the unlock the visitor holds for a link or upload
	// request id, or the zero Unlock. Nil means none at all.
	Unlock func(id string) Unlock
}

// Unlock is the proof that a visitor typed the password of a link or an
// upload request, remembered in their session (for that one only) until
// ExpiresAt. It names the password version, so changing or removing the
// password ends it.
type Unlock struct {
	// ID is the link or upload request it opens.
	ID        string
	Version   int
	ExpiresAt time.Time
}

// String encodes the unlock for a session value ("<version>.<unix expiry>").
func (u Unlock) String() string {
	return strconv.Itoa(u.Version) + "." + strconv.FormatInt(u.ExpiresAt.Unix(), 10)
}

// ParseUnlock decodes a session value written by String; junk gives the
// zero Unlock, which opens nothing.
func ParseUnlock(linkID, s string) Unlock {
	v, exp, ok := strings.Cut(s, ".")
	if !ok {
		return Unlock{}
	}
	version, err1 := strconv.Atoi(v)
	unix, err2 := strconv.ParseInt(exp, 10, 64)
	if err1 != nil || err2 != nil {
		return Unlock{}
	}
	return Unlock{ID: linkID, Version: version, ExpiresAt: time.Unix(unix, 0)}
}

// The recipient's answers. Unknown and revoked links (and those whose owner
// or contents are gone) look the same; expired and used-up ones say so.
var (
	errGone      = apperr.Errorf(apperr.NotFound, "This link does not exist, or it has been turned off by the person who shared it.")
	errExpired   = apperr.Errorf(apperr.Gone, "This link has expired. Ask the person who shared it for a new one.")
	errExhausted = apperr.Errorf(apperr.Gone, "This link has reached its download limit. Ask the person who shared it for a new one.")
	errLocked    = apperr.Errorf(apperr.Unauthorized, "This link is protected by a password.")
	errPassword  = &apperr.Error{Code: apperr.Unauthorized, Message: "That password is not right. Please try again.",
		Fields: map[string]string{"password": "That password is not right. Please try again."}}
	errSharedFileGone = apperr.Errorf(apperr.NotFound, "This file is no longer shared by this link.")
)

// IsLocked reports whether err means "type the link's password first".
func IsLocked(err error) bool { return err == errLocked }

// resolve finds the link of a token and checks what holds whoever asks:
// known, not revoked, owner still there, not expired, not used up. Errors:
// NotFound, Gone, Unavailable.
func (s *Service) resolve(ctx context.Context, token string) (record, error) {
	if !wellFormed(token) {
		return record{}, errGone
	}
	r, err := findByToken(ctx, s.pool, hashToken(token))
	if noRows(err) {
		return record{}, errGone
	}
	if err != nil {
		return record{}, apperr.Wrap(err, "shares: resolve link")
	}
	return r, stateError(r, s.now())
}

// stateError is the answer for a link that no longer gives anything.
func stateError(r record, now time.Time) error {
	switch state(r.revokedAt, r.expiresAt, r.maxDownloads, r.downloads, now) {
	case StateRevoked:
		return errGone
	case StateExpired:
		return errExpired
	case StateExhausted:
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
	if r.passwordHash != "" && !s.unlocked(v, r.id, r.passwordVersion) {
		return record{}, errLocked
	}
	return r, nil
}

// unlocked reports whether v holds a live unlock of the item id (a link or
// an upload request) for its current password version.
func (s *Service) unlocked(v Visitor, id string, version int) bool {
	var u Unlock
	if v.Unlock != nil {
		u = v.Unlock(id)
	}
	return u.ID == id && u.Version == version && s.Now().Before(u.ExpiresAt)
}

// Unlock checks a link's password and returns the unlock to remember in the
// visitor's session. Wrong passwords are throttled per link and per client
// IP across all instances. A link without a password needs no unlock: the
// zero Unlock is returned. Errors: NotFound, Gone, Unauthorized (wrong
// password, with a field message), TooMany (with the time to wait),
// Unavailable.
func (s *Service) Unlock(ctx context.Context, token, password string, v Visitor) (Unlock, error) {
	r, err := s.resolve(ctx, token)
	if err != nil || r.passwordHash == "" {
		return Unlock{}, err
	}
	return s.checkPassword(ctx, "share:link:"+r.id, r.id, r.passwordHash, r.passwordVersion, password, v)
}

// checkPassword verifies the password of the item id, throttled per item
// (key) and per client IP: each try is taken from both allowances before
// verifying (so concurrent tries cannot all pass) and given back when right;
// while either is used up even the right password is refused. Errors:
// Unauthorized, TooMany, Unavailable.
func (s *Service) checkPassword(ctx context.Context, key, id, hash string, version int, given string, v Visitor) (Unlock, error) {
	tries := []ratelimit.Attempt{{Key: key, Rule: s.cfg.LinkRule}, {Key: "share:ip:" + v.ClientIP, Rule: s.cfg.IPRule}}
	if err := s.limiter.TakeAll(ctx, tries...); err != nil {
		return Unlock{}, err
	}
	ok := false
	if given != "" && !password.TooLong(given) {
		var err error
		if ok, err = s.cfg.Hasher.Verify(ctx, given, hash); apperr.Is(err, apperr.Unavailable) {
			return Unlock{}, errors.Join(err, s.limiter.Refund(ctx, tries...)) // not tried: not counted
		} else if err != nil {
			return Unlock{}, apperr.Wrap(err, "shares: verify password of %s", id)
		}
	}
	if !ok {
		return Unlock{}, errPassword
	}
	if err := s.limiter.Refund(ctx, tries...); err != nil {
		return Unlock{}, err
	}
	return Unlock{ID: id, Version: version, ExpiresAt: s.Now().Add(s.cfg.UnlockTTL).Truncate(time.Second)}, nil
}

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

// SharedFile is one file of a link.
type SharedFile struct {
	ID string
	// Dir is the folder path inside a folder link ("" or "a/b/").
	Dir         string
	Name        string
	Size        int64
	ContentType string
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
		sh.FolderName, err = liveFolderName(ctx, s.pool, r)
		if noRows(err) {
			return Shared{}, errGone
		}
		if err != nil {
			return Shared{}, apperr.Wrap(err, "shares: open link %s", r.id)
		}
	}
	c, err := linkFiles(ctx, s.pool, r, "", MaxListed)
	if err != nil {
		return Shared{}, apperr.Wrap(err, "shares: open link %s", r.id)
	}
	if r.kind == KindFiles && c.total == 0 {
		return Shared{}, errGone
	}
	sh.FileCount, sh.TotalSize = c.total, c.totalSize
	for _, e := range c.files {
		sh.Files = append(sh.Files, SharedFile{ID: e.id, Dir: e.dir, Name: e.name, Size: e.size, ContentType: e.contentType})
	}
	if err := countView(ctx, s.pool, r.id, s.now()); err != nil {
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
// presigned URL (attachment, safe content type, valid for DownloadURLTTL) of
// one of its files. Of concurrent requests against the last download left,
// exactly one gets a URL. Errors: NotFound (also a file not in the link, or
// trashed), Gone (expired, used up), Unauthorized (locked), Unavailable.
func (s *Service) DownloadURL(ctx context.Context, token, fileID string, v Visitor) (Download, error) {
	r, err := s.authorize(ctx, token, v)
	if err != nil {
		return Download{}, err
	}
	if !validIDs(fileID) {
		return Download{}, errSharedFileGone
	}
	c, err := linkFiles(ctx, s.pool, r, strings.ToLower(fileID), 1)
	if err != nil {
		return Download{}, apperr.Wrap(err, "shares: download from %s", r.id)
	}
	if len(c.files) == 0 {
		return Download{}, errSharedFileGone
	}
	e := c.files[0]
	if err := s.take(ctx, r.id); err != nil {
		return Download{}, err
	}
	u, err := s.store.PresignGet(ctx, e.objectKey, blob.GetOptions{Filename: e.name, ContentType: e.contentType, TTL: s.cfg.DownloadURLTTL})
	if err != nil {
		_ = giveBackDownload(context.WithoutCancel(ctx), s.pool, r.id)
		return Download{}, apperr.Wrap(err, "shares: presign %s of %s", e.id, r.id)
	}
	return Download{
		URL:       u,
		ExpiresAt: s.Now().Add(s.cfg.DownloadURLTTL).Truncate(time.Second),
		File:      SharedFile{ID: e.id, Dir: e.dir, Name: e.name, Size: e.size, ContentType: e.contentType},
	}, nil
}

// take counts one download atomically; when the link no longer allows one
// it answers why. Errors: NotFound, Gone, Unavailable.
func (s *Service) take(ctx context.Context, id string) error {
	ok, err := takeDownload(ctx, s.pool, id, s.now())
	if err != nil {
		return apperr.Wrap(err, "shares: count download of %s", id)
	}
	if ok {
		return nil
	}
	r, err := findByID(ctx, s.pool, id)
	if noRows(err) {
		return errGone
	}
	if err != nil {
		return apperr.Wrap(err, "shares: count download of %s", id)
	}
	if err := stateError(r, s.now()); err != nil {
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
	files []entry
	store blob.Store
}

// Size is the total of the file sizes in the archive (not the zip's size).
func (a Archive) Size() int64 {
	var n int64
	for _, f := range a.files {
		n += f.size
	}
	return n
}

// Archive counts a download against the link's limit and returns its live
// files (for a folder link with their folders) for a zip. Errors: NotFound,
// Gone, Unauthorized (locked), Conflict (more than MaxArchiveFiles files),
// Unavailable.
func (s *Service) Archive(ctx context.Context, token string, v Visitor) (Archive, error) {
	r, err := s.authorize(ctx, token, v)
	if err != nil {
		return Archive{}, err
	}
	name := r.title
	if r.kind == KindFolder {
		folder, err := liveFolderName(ctx, s.pool, r)
		if noRows(err) {
			return Archive{}, errGone
		}
		if err != nil {
			return Archive{}, apperr.Wrap(err, "shares: zip of %s", r.id)
		}
		if name == "" {
			name = folder
		}
	}
	if name == "" {
		name = "shared-files"
	}
	c, err := linkFiles(ctx, s.pool, r, "", MaxArchiveFiles+1)
	if err != nil {
		return Archive{}, apperr.Wrap(err, "shares: zip of %s", r.id)
	}
	if c.total > MaxArchiveFiles {
		return Archive{}, apperr.Errorf(apperr.Conflict, "This link holds more than %d files, too many for one zip: download them one by one.", MaxArchiveFiles)
	}
	if r.kind == KindFiles && c.total == 0 {
		return Archive{}, errGone
	}
	dirs, err := linkDirs(ctx, s.pool, r, MaxArchiveFiles)
	if err != nil {
		return Archive{}, apperr.Wrap(err, "shares: zip of %s", r.id)
	}
	if err := s.take(ctx, r.id); err != nil {
		return Archive{}, err
	}
	return Archive{Name: name + ".zip", dirs: dirs, files: c.files, store: s.store}, nil
}

// open streams one file of the archive from the store.
func (a Archive) open(ctx context.Context, e entry) (io.ReadCloser, error) {
	return a.store.Get(ctx, e.objectKey)
}
