package main

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/shares"
	"github.com/weupload/weupload/views"
)

// Upload requests: the owner makes and closes them in the share dialog of a
// folder and on the Shared page; the uploader opens /r/{token} and sends
// files with the upload protocol through /r/{token}/uploads, which only
// ever starts, continues, completes or cancels uploads made through that
// request.

// requestRow maps a request onto the views' row.
func requestRow(r shares.Request) views.UploadRequestRow {
	folder := "My files"
	switch {
	case r.FolderID != "" && r.FolderName != "":
		folder = "“" + r.FolderName + "”"
	case r.FolderID != "":
		folder = "a deleted folder"
	}
	return views.UploadRequestRow{
		ID: r.ID, URL: r.URL, State: string(r.State), Folder: folder, FolderLive: r.FolderLive, Title: r.Title,
		Message: r.Message, HasPassword: r.HasPassword, ExpiresAt: r.ExpiresAt, MaxFiles: r.MaxFiles, MaxBytes: r.MaxBytes,
		Files: r.Files, Bytes: r.Bytes, LastUploadAt: r.LastUploadAt,
	}
}

func requestRows(rs []shares.Request, openOnly bool) []views.UploadRequestRow {
	rows := []views.UploadRequestRow{}
	for _, r := range rs {
		if !openOnly || r.State == shares.RequestOpen {
			rows = append(rows, requestRow(r))
		}
	}
	return rows
}

// requestFormFields maps the service's field names onto the dialog's.
var requestFormFields = map[string]string{
	"title": "request_title", "message": "request_message", "password": "request_password",
	"expires_at": "request_expires_at", "max_files": "request_max_files", "max_bytes": "request_max_mib",
}

// readRequestForm parses the dialog's "New upload link" form. Errors:
// BadRequest, Invalid.
func readRequestForm(r *http.Request) (shares.CreateRequestInput, error) {
	if err := parseForm(r); err != nil {
		return shares.CreateRequestInput{}, err
	}
	f := r.PostForm
	in := shares.CreateRequestInput{FolderID: f.Get("folder"), Message: f.Get("request_message"), Password: f.Get("request_password")}
	o := options{form: f, errors: map[string]string{}}
	in.ExpiresAt = o.time("request_expires_at")
	in.MaxFiles = o.int("request_max_files")
	mib, ok := formInt(f.Get("request_max_mib"))
	switch {
	case !ok || (mib != nil && (*mib < 1 || *mib > 1<<30)):
		o.errors["request_max_mib"] = "Enter a whole number of MiB, or leave it empty for no limit."
	case mib != nil:
		b := int64(*mib) << 20
		in.MaxBytes = &b
	}
	return in, o.err()
}

// requestForm is the dialog's "New upload link" form after a failed post,
// the service's field names mapped onto the form's.
func requestForm(r *http.Request, err error) views.Form {
	f := formOf(r, nil, "request_message", "request_expires_at", "request_max_files", "request_max_mib")
	e := apperr.As(err)
	if e == nil {
		return f
	}
	for k, v := range e.Fields {
		if name, ok := requestFormFields[k]; ok {
			k = name
		}
		f.Errors[k] = v
	}
	if len(e.Fields) == 0 {
		f.Message = e.Message
	}
	return f
}

// handleRequestCreate makes an upload request from the share dialog of a
// folder and shows it there.
func (a *app) handleRequestCreate(w http.ResponseWriter, r *http.Request) {
	in, err := readRequestForm(r)
	if err == nil {
		_, err = a.shares.CreateRequest(r.Context(), currentUser(r).ID, in)
	}
	folder := r.PostForm.Get("folder")
	if err != nil {
		a.shareDialogFailed(w, r, err, nil, folder, "", func(d *views.ShareDialog) { d.RequestForm = requestForm(r, err) })
		return
	}
	a.afterRequestChange(w, r, folder, "Upload link created. Copy it and send it to the people who should send you files.")
}

// handleRequestClose closes a request, from the dialog or the Shared page.
func (a *app) handleRequestClose(w http.ResponseWriter, r *http.Request) {
	req, err := a.shares.CloseRequest(r.Context(), currentUser(r).ID, chi.URLParam(r, "id"))
	if err != nil {
		a.error(w, r, err)
		return
	}
	if r.Header.Get("HX-Target") == "shared-requests" {
		rs, err := a.shares.ListRequests(r.Context(), currentUser(r).ID, false, "")
		if err != nil {
			a.error(w, r, err)
			return
		}
		a.render(w, r, http.StatusOK, views.SharedRequests(requestRows(rs, false)))
		return
	}
	if req.FolderID == "" || !isHTMX(r) {
		http.Redirect(w, r, "/shared", http.StatusSeeOther)
		return
	}
	a.afterRequestChange(w, r, req.FolderID, "Upload link closed. What arrived stays in the folder.")
}

// afterRequestChange shows the folder's dialog again with a notice.
func (a *app) afterRequestChange(w http.ResponseWriter, r *http.Request, folderID, notice string) {
	a.shareDialogChanged(w, r, nil, folderID, "", "/share/dialog?folder="+folderID, func(d *views.ShareDialog) { d.RequestNotice = notice })
}

// formInt parses an optional whole number; ok is false for junk.
func formInt(s string) (*int, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, true
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil, false
	}
	return &n, true
}
