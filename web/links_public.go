package main

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/blob"
	"github.com/weupload/weupload/internal/bytesize"
	"github.com/weupload/weupload/internal/shares"
	"github.com/weupload/weupload/views"
)

// The pages of a share link's recipients: GET /s/{token} (the landing page,
// or the password form), POST /s/{token} (the password), and the two paths
// that yield bytes, /s/{token}/files/{id} and /s/{token}/zip. Every one asks
// the shares service, which decides access in one place.

// shareHeaders marks share pages: no Referer (the URL is the secret), never
// cached, never indexed.
func shareHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Robots-Tag", "noindex, nofollow")
		next.ServeHTTP(w, r)
	})
}

// unlockKey is the session key of a link's unlock: one per link, so typing
// one link's password opens no other.
func unlockKey(linkID string) string { return "share_unlock:" + linkID }

// visitor is the recipient as the shares service sees them: client IP and
// the unlocks in their session.
func (a *app) visitor(r *http.Request) shares.Visitor {
	return shares.Visitor{
		ClientIP: info(r).ipKey,
		Unlock: func(linkID string) shares.Unlock {
			return shares.ParseUnlock(linkID, a.sessions.GetString(r.Context(), unlockKey(linkID)))
		},
	}
}

func shareURL(r *http.Request) string { return "/s/" + chi.URLParam(r, "token") }

// handleLinkLanding shows what a link holds, or its password form.
func (a *app) handleLinkLanding(w http.ResponseWriter, r *http.Request) {
	sh, err := a.shares.Open(r.Context(), chi.URLParam(r, "token"), a.visitor(r))
	if a.landingRefused(w, r, err, shares.IsLocked, a.linkPasswordPage) {
		return
	}
	a.metrics.shareEvents.WithLabelValues("view").Inc()
	a.render(w, r, http.StatusOK, views.SharePublic(sharePublicPage(a.shareShell(r, ""), shareURL(r), sh)))
}

// landingRefused answers a landing page the service did not open, for
// links and upload requests alike: the password form when locked says so,
// the error otherwise. It returns false when err is nil.
func (a *app) landingRefused(w http.ResponseWriter, r *http.Request, err error, locked func(error) bool,
	page func(r *http.Request, f views.Form) views.SharePasswordPage) bool {
	switch {
	case err == nil:
		return false
	case locked(err):
		a.render(w, r, http.StatusOK, views.SharePassword(page(r, views.Form{})))
	default:
		a.error(w, r, err)
	}
	return true
}

// handleLinkUnlock checks the password and remembers the unlock for this
// link in the visitor's session.
func (a *app) handleLinkUnlock(w http.ResponseWriter, r *http.Request) {
	a.unlock(w, r, a.shares.Unlock, a.linkPasswordPage, shareURL(r))
}

// unlock is the password form's post, for links and upload requests alike:
// check tries the password; a wrong one (or throttling) shows page again
// with the message, the right one is remembered in the visitor's session
// for that link or request only, and the visitor goes back to it.
func (a *app) unlock(w http.ResponseWriter, r *http.Request,
	check func(ctx context.Context, token, password string, v shares.Visitor) (shares.Unlock, error),
	page func(r *http.Request, f views.Form) views.SharePasswordPage, back string) {
	if err := parseForm(r); err != nil {
		a.error(w, r, err)
		return
	}
	u, err := check(r.Context(), chi.URLParam(r, "token"), r.PostForm.Get("password"), a.visitor(r))
	if err != nil {
		a.formFailed(w, r, err, func() (formView, error) {
			c := views.SharePassword(page(r, passwordForm(r, err)))
			return formView{fragment: c, page: c}, nil
		})
		return
	}
	if u.ID != "" {
		a.sessions.Put(r.Context(), unlockKey(u.ID), u.String())
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// handleLinkFile counts a download and redirects (303) to a short-lived
// presigned URL that answers as an attachment.
func (a *app) handleLinkFile(w http.ResponseWriter, r *http.Request) {
	d, err := a.shares.DownloadURL(r.Context(), chi.URLParam(r, "token"), chi.URLParam(r, "id"), a.visitor(r))
	if err != nil {
		a.shareRefused(w, r, err)
		return
	}
	a.metrics.shareEvents.WithLabelValues("download").Inc()
	http.Redirect(w, r, d.URL, http.StatusSeeOther)
}

// handleLinkZip counts a download and streams every file of the link as
// one zip, straight from the store with constant memory. The write deadline
// grows with each file, so a large zip is not cut off by the server's
// timeout; a failure mid-way aborts the connection, so the client sees a
// broken download rather than a zip that looks complete.
func (a *app) handleLinkZip(w http.ResponseWriter, r *http.Request) {
	ar, err := a.shares.Archive(r.Context(), chi.URLParam(r, "token"), a.visitor(r))
	if err != nil {
		a.shareRefused(w, r, err)
		return
	}
	a.metrics.shareEvents.WithLabelValues("download").Inc()
	rc := http.NewResponseController(w)
	extend := func(size int64) {
		_ = rc.SetWriteDeadline(time.Now().Add(time.Minute + time.Duration(size/minTransferRate)*time.Second))
	}
	extend(0)
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", blob.ContentDisposition(ar.Name))
	w.WriteHeader(http.StatusOK)
	if err := ar.Write(r.Context(), w, extend); err != nil {
		a.log.Warn("share zip aborted", "request_id", info(r).id, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// shareRefused answers a download the service refused: a locked link sends
// the visitor to its password form (303), anything else is the error page.
func (a *app) shareRefused(w http.ResponseWriter, r *http.Request, err error) {
	if shares.IsLocked(err) {
		http.Redirect(w, r, shareURL(r), http.StatusSeeOther)
		return
	}
	a.error(w, r, err)
}

// linkPasswordPage asks for a link's password.
func (a *app) linkPasswordPage(r *http.Request, f views.Form) views.SharePasswordPage {
	return views.SharePasswordPage{
		Shell: a.shareShell(r, "Password required"), Action: shareURL(r), Form: f,
		Heading: "This link is protected", Intro: "Enter the password you were given to see the shared files.",
	}
}

// passwordForm is a password form after a refused attempt: the wrong
// password's field message, or the throttle's "try again in N s".
func passwordForm(r *http.Request, err error) views.Form {
	f := formOf(r, err)
	if e := apperr.As(err); e != nil && e.Code == apperr.TooMany {
		f.Message = e.Message
	}
	return f
}

// shareShell is the layout of a recipient page: no user, no navigation.
func (a *app) shareShell(r *http.Request, title string) views.Shell {
	return views.Shell{Title: title, RequestID: info(r).id, Static: a.assets.URL}
}

// sharePublicPage maps what the service found onto the landing page.
func sharePublicPage(shell views.Shell, base string, sh shares.Shared) views.SharePublicPage {
	p := views.SharePublicPage{Shell: shell, Note: sh.Note, Heading: sh.Title, Empty: sh.FolderName != "" && sh.FileCount == 0}
	what := plural(sh.FileCount, "file", "files")
	if sh.FolderName != "" {
		what = "a folder"
	}
	p.Intro = sh.OwnerName + " shared " + what + " with you"
	if p.Heading == "" {
		switch {
		case sh.FolderName != "":
			p.Heading = sh.FolderName
		case len(sh.Files) == 1:
			p.Heading = sh.Files[0].Name
		default:
			p.Heading = "Shared files"
		}
	}
	if sh.FileCount > 0 {
		p.Facts = append(p.Facts, plural(sh.FileCount, "file", "files")+" · "+bytesize.Format(sh.TotalSize))
	}
	if sh.ExpiresAt != nil {
		p.Facts = append(p.Facts, "Available until "+sh.ExpiresAt.UTC().Format("2 Jan 2006, 15:04 UTC"))
	}
	if sh.DownloadsLeft >= 0 {
		p.Facts = append(p.Facts, plural(sh.DownloadsLeft, "download", "downloads")+" left")
	}
	for _, f := range sh.Files {
		p.Files = append(p.Files, views.SharePublicFile{Name: f.Name, Dir: f.Dir, Size: f.Size, ContentType: f.ContentType, URL: base + "/files/" + f.ID, Held: f.Held})
		p.Checking = p.Checking || f.Held == shares.HeldPending
	}
	p.More = sh.FileCount - len(sh.Files)
	if sh.FileCount > 0 {
		p.ZipURL, p.ZipLabel = base+"/zip", "Download all"
		if sh.FileCount == 1 && sh.FolderName == "" {
			p.ZipURL, p.ZipLabel = p.Files[0].URL, "Download"
			if p.Files[0].Held != "" {
				p.ZipURL = "" // the file's row says why
			}
		}
	}
	return p
}

// plural is "1 file", "3 files".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
