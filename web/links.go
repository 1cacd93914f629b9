package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/shares"
	"github.com/weupload/weupload/views"
)

// The owner's side of share links: the "Shared" page and the share dialog
// (views/shares.templ). The dialog opens from any element with
// hx-get="/share/dialog?file=<id>" (or folder=<id>, or several file=)
// hx-target="body" hx-swap="beforeend"; its forms answer with its body.
// Every change tells the page with the HX-Trigger event "shares-changed".

// shareChanged is the htmx event a page listens to for link changes.
const shareChanged = "shares-changed"

// linkRow maps a link onto the views' row.
func linkRow(l shares.Link) views.ShareLinkRow {
	items := l.Items.Name
	switch {
	case items == "":
		items = "Deleted files"
	case l.Kind == shares.KindFiles && len(l.FileIDs) > 1:
		items += " and " + plural(len(l.FileIDs)-1, "more file", "more files")
	}
	return views.ShareLinkRow{
		ID: l.ID, URL: l.URL, State: string(l.State), Items: items, Folder: l.Kind == shares.KindFolder,
		Available: l.Items.Available, Title: l.Title, Note: l.Note, HasPassword: l.HasPassword,
		ExpiresAt: l.ExpiresAt, MaxDownloads: l.MaxDownloads, Downloads: l.Downloads, Views: l.Views,
		LastAccessAt: l.LastAccessAt, CreatedAt: l.CreatedAt,
	}
}

func linkRows(ls []shares.Link) []views.ShareLinkRow {
	rows := make([]views.ShareLinkRow, 0, len(ls))
	for _, l := range ls {
		rows = append(rows, linkRow(l))
	}
	return rows
}

// handleSharedPage lists the user's links.
func (a *app) handleSharedPage(w http.ResponseWriter, r *http.Request) {
	ls, err := a.shares.List(r.Context(), currentUser(r).ID)
	if err != nil {
		a.error(w, r, err)
		return
	}
	rs, err := a.shares.ListRequests(r.Context(), currentUser(r).ID, false, "")
	if err != nil {
		a.error(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, views.Shared(views.SharedPage{Shell: a.shellNav(r, "Shared", "shared"), Links: linkRows(ls), Requests: requestRows(rs, false)}))
}

// shareDialog builds the dialog for a subject (files or a folder of the
// user) or, with linkID, for one of the user's links. Errors: NotFound.
func (a *app) shareDialog(ctx context.Context, userID string, fileIDs []string, folderID, linkID string) (views.ShareDialog, error) {
	var d views.ShareDialog
	if linkID != "" {
		l, err := a.shares.Find(ctx, userID, linkID)
		if err != nil {
			return d, err
		}
		row := linkRow(l)
		d.Link = &row
		fileIDs, folderID = l.FileIDs, l.FolderID
		d.Subject = "“" + row.Items + "”"
		if row.Folder {
			d.Subject = "folder " + d.Subject
		}
	}
	d.FileIDs, d.FolderID = fileIDs, folderID
	d.LimitedURLSeconds = int(a.cfg.Storage.LimitedDownloadURLTTL / time.Second)
	switch {
	case linkID != "":
	case folderID != "" && len(fileIDs) == 0:
		f, err := a.files.FindFolder(ctx, userID, folderID)
		if err != nil {
			return d, err
		}
		if f.OwnerID != userID {
			return d, errOwnerShares
		}
		d.Subject = "folder “" + f.Name + "”"
	case folderID == "" && len(fileIDs) > 0:
		f, err := a.files.FindFile(ctx, userID, fileIDs[0])
		if err != nil {
			return d, err
		}
		if f.OwnerID != userID {
			return d, errOwnerShares
		}
		d.Subject = "“" + f.Name + "”"
		if len(fileIDs) > 1 {
			d.Subject = plural(len(fileIDs), "file", "files")
		}
	default:
		return d, apperr.Errorf(apperr.NotFound, "Choose a file or a folder to share.")
	}
	ls, err := a.shares.ListFor(ctx, userID, fileIDs, folderID)
	if err != nil {
		return d, err
	}
	if folderID != "" && linkID == "" {
		rs, err := a.shares.ListRequests(ctx, userID, true, folderID)
		if err != nil {
			return d, err
		}
		d.Requests = requestRows(rs, true)
	}
	for _, l := range ls {
		if l.State != shares.StateRevoked {
			d.Links = append(d.Links, linkRow(l))
		}
	}
	return d, a.people(ctx, userID, &d)
}

// errOwnerShares refuses the share dialog for something shared with the
// user: only its owner shares it further.
var errOwnerShares = apperr.Errorf(apperr.Forbidden, "Only the owner can share this. Ask them to add people or make a link.")

// shareDialogView is the dialog as htmx swaps it in, the whole dialog
// (opening it) or its body (a swap inside an open dialog), and, without
// htmx, a page around it.
func (a *app) shareDialogView(r *http.Request, d views.ShareDialog) formView {
	v := formView{fragment: views.ShareDialogFrame(d)}
	if r.Header.Get("HX-Target") == "share-dialog-body" {
		v.fragment = views.ShareDialogBody(d)
	}
	if !isHTMX(r) {
		v.page = views.SharePage(views.SharePageProps{Shell: a.shellNav(r, "Share", "shared"), Dialog: d})
	}
	return v
}

// renderShareDialog answers with the share dialog (see shareDialogView).
func (a *app) renderShareDialog(w http.ResponseWriter, r *http.Request, status int, d views.ShareDialog) {
	v := a.shareDialogView(r, d)
	if v.page != nil {
		a.render(w, r, status, v.page)
		return
	}
	a.render(w, r, status, v.fragment)
}

// shareDialogFailed answers a failed post of one of the share dialog's
// forms: the dialog of the subject (or of linkID) again, with fill
// putting the error's messages into the form that failed.
func (a *app) shareDialogFailed(w http.ResponseWriter, r *http.Request, err error, fileIDs []string, folderID, linkID string, fill func(d *views.ShareDialog)) {
	a.formFailed(w, r, err, func() (formView, error) {
		d, derr := a.shareDialog(r.Context(), currentUser(r).ID, fileIDs, folderID, linkID)
		fill(&d)
		return a.shareDialogView(r, d), derr
	})
}

// handleShareDialog opens the share dialog: ?file=<id> (repeatable, as the
// file browser's selection sends it) or ?folder=<id> for a subject,
// ?link=<id> for one link. Files and folders together are refused (422).
func (a *app) handleShareDialog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if len(q["folder"]) > 1 || (len(q["folder"]) == 1 && len(q["file"]) > 0) {
		a.error(w, r, apperr.Errorf(apperr.Invalid, "A link shares some files or one folder: select either files or a single folder."))
		return
	}
	d, err := a.shareDialog(r.Context(), currentUser(r).ID, q["file"], q.Get("folder"), q.Get("link"))
	if err != nil {
		a.error(w, r, err)
		return
	}
	a.renderShareDialog(w, r, http.StatusOK, d)
}

// shareForm is what the dialog's create and edit forms send.
type shareForm struct {
	title, note, password string
	removePassword        bool
	expires               *time.Time
	maxDownloads          *int
}

// readShareForm parses the options (the expiry: see formTime). Errors:
// BadRequest, Invalid (a date or number that does not parse).
func readShareForm(r *http.Request) (shareForm, error) {
	if err := parseForm(r); err != nil {
		return shareForm{}, err
	}
	f := r.PostForm
	sf := shareForm{title: f.Get("title"), note: f.Get("note"), password: f.Get("password"), removePassword: f.Get("remove_password") != ""}
	o := options{form: f, errors: map[string]string{}}
	sf.expires = o.time("expires_at")
	sf.maxDownloads = o.int("max_downloads")
	return sf, o.err()
}

// options reads the optional dates and numbers of the share dialog's link
// and request forms, with a message for each field that does not parse.
type options struct {
	form   url.Values
	errors map[string]string
}

// time reads a datetime-local field (see formTime).
func (o options) time(name string) *time.Time {
	t, ok := formTime(o.form.Get(name), o.form.Get("expires_utc"))
	if !ok {
		o.errors[name] = "Enter a date and time, or leave it empty for never."
	}
	return t
}

// int reads a whole number field; empty is no limit.
func (o options) int(name string) *int {
	n, ok := formInt(o.form.Get(name))
	if !ok {
		o.errors[name] = "Enter a whole number, or leave it empty for no limit."
	}
	return n
}

// err is Invalid with the fields that did not parse, or nil.
func (o options) err() error {
	if len(o.errors) > 0 {
		return apperr.InvalidFields(o.errors)
	}
	return nil
}

// formTime parses an optional datetime-local value; utc, when share.js
// filled it in, is the same instant in RFC 3339 with the reader's zone
// applied, else the value is taken as UTC. ok is false for junk.
func formTime(local, utc string) (*time.Time, bool) {
	local = strings.TrimSpace(local)
	if local == "" {
		return nil, true
	}
	t, err := time.Parse(time.RFC3339, utc)
	if err != nil {
		t, err = time.Parse("2006-01-02T15:04", local)
	}
	if err != nil {
		t, err = time.Parse("2006-01-02T15:04:05", local)
	}
	return &t, err == nil
}

// shareFormFields are the fields whose values a failed post keeps.
var shareFormFields = []string{"title", "note", "expires_at", "max_downloads"}

// handleLinkCreate makes a link from the dialog's form and shows it.
func (a *app) handleLinkCreate(w http.ResponseWriter, r *http.Request) {
	sf, err := readShareForm(r)
	var l shares.Link
	if err == nil {
		l, err = a.shares.Create(r.Context(), currentUser(r).ID, shares.CreateInput{
			FileIDs: r.PostForm["file"], FolderID: r.PostForm.Get("folder"), Password: sf.password,
			ExpiresAt: sf.expires, MaxDownloads: sf.maxDownloads, Title: sf.title, Note: sf.note,
		})
	}
	if err != nil {
		a.shareDialogFailed(w, r, err, r.PostForm["file"], r.PostForm.Get("folder"), "", func(d *views.ShareDialog) { d.Form = linkForm(r, err) })
		return
	}
	if !isHTMX(r) {
		http.Redirect(w, r, "/share/dialog?link="+l.ID, http.StatusSeeOther)
		return
	}
	d, err := a.shareDialog(r.Context(), currentUser(r).ID, nil, "", l.ID)
	if err != nil {
		a.error(w, r, err)
		return
	}
	d.Notice = "Link created. Copy it and send it to the people you share with."
	w.Header().Set("HX-Trigger", shareChanged)
	a.renderShareDialog(w, r, http.StatusOK, d)
}

// handleLinkUpdate saves a link's options from the dialog.
func (a *app) handleLinkUpdate(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	sf, err := readShareForm(r)
	if err == nil {
		in := shares.UpdateInput{Title: &sf.title, Note: &sf.note}
		switch {
		case sf.removePassword:
			in.Password = shares.Null[string]()
		case sf.password != "":
			in.Password = shares.Some(sf.password)
		}
		in.ExpiresAt = shares.Optional[time.Time]{Set: true, Value: sf.expires}
		in.MaxDownloads = shares.Optional[int]{Set: true, Value: sf.maxDownloads}
		_, err = a.shares.Update(r.Context(), currentUser(r).ID, id, in)
	}
	if err != nil {
		a.shareDialogFailed(w, r, err, nil, "", id, func(d *views.ShareDialog) { d.Form = linkForm(r, err) })
		return
	}
	a.afterShareChange(w, r, id, "Changes saved. They apply to the next request.")
}

// handleLinkRevoke revokes a link, from the dialog or the Shared page.
func (a *app) handleLinkRevoke(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if _, err := a.shares.Revoke(r.Context(), currentUser(r).ID, id); err != nil {
		a.error(w, r, err)
		return
	}
	if r.Header.Get("HX-Target") == "shared-links" {
		ls, err := a.shares.List(r.Context(), currentUser(r).ID)
		if err != nil {
			a.error(w, r, err)
			return
		}
		a.render(w, r, http.StatusOK, views.SharedLinks(linkRows(ls)))
		return
	}
	if !isHTMX(r) {
		http.Redirect(w, r, "/shared", http.StatusSeeOther)
		return
	}
	a.afterShareChange(w, r, id, "Link revoked. It stopped working at once.")
}

// shareDialogChanged answers a change made in the share dialog: the dialog
// again (of a subject, or of linkID) with fill's notice, and the
// shares-changed event for the page. Without htmx the browser goes to back,
// or, when back is "", gets the dialog's page.
func (a *app) shareDialogChanged(w http.ResponseWriter, r *http.Request, fileIDs []string, folderID, linkID, back string, fill func(d *views.ShareDialog)) {
	if !isHTMX(r) && back != "" {
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	d, err := a.shareDialog(r.Context(), currentUser(r).ID, fileIDs, folderID, linkID)
	if err != nil {
		a.error(w, r, err)
		return
	}
	fill(&d)
	w.Header().Set("HX-Trigger", shareChanged)
	a.renderShareDialog(w, r, http.StatusOK, d)
}

// afterShareChange shows the link again with a notice.
func (a *app) afterShareChange(w http.ResponseWriter, r *http.Request, id, notice string) {
	a.shareDialogChanged(w, r, nil, "", id, "/share/dialog?link="+id, func(d *views.ShareDialog) { d.Notice = notice })
}

// linkForm is the link form after a failed post, with its messages; a
// problem with the files themselves is the form's message.
func linkForm(r *http.Request, err error) views.Form {
	f := formOf(r, err, shareFormFields...)
	if e := apperr.As(err); e != nil && e.Fields["file_ids"] != "" {
		f.Message = e.Fields["file_ids"]
	}
	return f
}
