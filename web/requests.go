package main

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/bytesize"
	"github.com/weupload/weupload/internal/files"
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
	fields := map[string]string{}
	var ok bool
	if in.ExpiresAt, ok = formTime(f.Get("request_expires_at"), f.Get("expires_utc")); !ok {
		fields["request_expires_at"] = "Enter a date and time, or leave it empty for never."
	}
	if in.MaxFiles, ok = formInt(f.Get("request_max_files")); !ok {
		fields["request_max_files"] = "Enter a whole number, or leave it empty for no limit."
	}
	mib, ok := formInt(f.Get("request_max_mib"))
	switch {
	case !ok || (mib != nil && (*mib < 1 || *mib > 1<<30)):
		fields["request_max_mib"] = "Enter a whole number of MiB, or leave it empty for no limit."
	case mib != nil:
		b := int64(*mib) << 20
		in.MaxBytes = &b
	}
	if len(fields) > 0 {
		return in, apperr.InvalidFields(fields)
	}
	return in, nil
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
	if !isHTMX(r) {
		http.Redirect(w, r, "/share/dialog?folder="+folderID, http.StatusSeeOther)
		return
	}
	d, err := a.shareDialog(r.Context(), currentUser(r).ID, nil, folderID, "")
	if err != nil {
		a.error(w, r, err)
		return
	}
	d.RequestNotice = notice
	w.Header().Set("HX-Trigger", shareChanged)
	a.renderShareDialog(w, r, http.StatusOK, d)
}

// The uploader's side.

func requestURL(r *http.Request) string { return "/r/" + chi.URLParam(r, "token") }

// handleRequestLanding shows who asks for files and the picker, or the
// password form.
func (a *app) handleRequestLanding(w http.ResponseWriter, r *http.Request) {
	in, err := a.shares.OpenRequest(r.Context(), chi.URLParam(r, "token"), a.visitor(r))
	if shares.IsRequestLocked(err) {
		a.render(w, r, http.StatusOK, views.SharePassword(a.requestPasswordPage(r, views.Form{})))
		return
	}
	if err != nil {
		a.error(w, r, err)
		return
	}
	p := views.UploadRequestPage{
		Shell: a.shareShell(r, "Send files"), Intro: in.OwnerName + " asks you for files", OwnerName: in.OwnerName,
		Heading: in.Title, Message: in.Message, API: requestURL(r) + "/uploads",
		Full:    in.FilesLeft == 0 || in.BytesLeft == 0,
		Records: in.RequestID, Limits: a.uploadLimits(),
	}
	if p.Heading == "" {
		p.Heading = "Send files to " + in.OwnerName
	}
	if in.FilesLeft > 0 {
		p.Facts = append(p.Facts, "Up to "+plural(in.FilesLeft, "more file", "more files"))
	}
	if in.BytesLeft > 0 {
		p.Facts = append(p.Facts, "Up to "+bytesize.Format(in.BytesLeft)+" more in all")
	}
	p.Facts = append(p.Facts, "At most "+bytesize.Format(in.MaxFileSize)+" a file")
	if in.ExpiresAt != nil {
		p.Facts = append(p.Facts, "Open until "+in.ExpiresAt.UTC().Format("2 Jan 2006, 15:04 UTC"))
	}
	a.metrics.requestEvents.WithLabelValues("view").Inc()
	a.render(w, r, http.StatusOK, views.UploadRequest(p))
}

func (a *app) requestPasswordPage(r *http.Request, f views.Form) views.SharePasswordPage {
	return views.SharePasswordPage{
		Shell: a.shareShell(r, "Password required"), Action: requestURL(r), Form: f,
		Heading: "This upload link is protected", Intro: "Enter the password you were given to send files.",
	}
}

// handleRequestUnlock checks the password and remembers the unlock for this
// request in the visitor's session.
func (a *app) handleRequestUnlock(w http.ResponseWriter, r *http.Request) {
	a.unlock(w, r, a.shares.UnlockRequest, a.requestPasswordPage, requestURL(r))
}

// limitUploader counts an uploader's JSON call against the API's rate
// limits (app.apiRules), per upload link and per client IP; a call refused
// per link is not counted per IP. The link is keyed by a hash of its
// token, so the throttles table holds no secret.
func (a *app) limitUploader(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sum := sha256.Sum256([]byte(chi.URLParam(r, "token")))
		err := a.limiter.Take(r.Context(), "r:"+hex.EncodeToString(sum[:16]), a.apiRules.Caller)
		if err == nil {
			err = a.limiter.Take(r.Context(), "r:ip:"+info(r).clientIP, a.apiRules.IP)
		}
		if err != nil {
			a.error(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requestInitiate is what an uploader may say about a file: not where it
// goes, nor what to do with a taken name.
type requestInitiate struct {
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	SHA256      string `json:"sha256"`
}

// handleRequestInitiate starts an upload into the request's folder:
// POST /r/{token}/uploads, answered like POST /api/v1/uploads.
func (a *app) handleRequestInitiate(w http.ResponseWriter, r *http.Request) {
	var in requestInitiate
	if err := decodeJSON(r, &in); err != nil {
		a.error(w, r, err)
		return
	}
	urls, err := a.shares.InitiateRequestUpload(r.Context(), chi.URLParam(r, "token"), a.visitor(r),
		files.InitiateInput{Name: in.Name, Size: in.Size, ContentType: in.ContentType, SHA256: in.SHA256})
	if err != nil {
		a.error(w, r, err)
		return
	}
	a.metrics.requestEvents.WithLabelValues("initiated").Inc()
	writeJSON(w, http.StatusCreated, toUploadURLs(urls))
}

// requestUploadJSON is an upload as its uploader sees it: its progress,
// nothing of the owner's folder or file.
type requestUploadJSON struct {
	ID        string           `json:"id"`
	State     string           `json:"state"`
	Mode      string           `json:"mode"`
	Name      string           `json:"name"`
	Size      int64            `json:"size"`
	PartSize  int64            `json:"part_size,omitempty"`
	ExpiresAt time.Time        `json:"expires_at"`
	Parts     []storedPartJSON `json:"parts"`
}

// handleRequestUpload answers an upload's state and the parts already
// stored, so the page resumes it after a reload:
// GET /r/{token}/uploads/{id}.
func (a *app) handleRequestUpload(w http.ResponseWriter, r *http.Request) {
	st, err := a.shares.RequestUploadState(r.Context(), chi.URLParam(r, "token"), a.visitor(r), chi.URLParam(r, "id"))
	if err != nil {
		a.error(w, r, err)
		return
	}
	out := requestUploadJSON{ID: st.ID, State: st.State, Mode: st.Mode, Name: st.Name, Size: st.Size, PartSize: st.PartSize,
		ExpiresAt: st.ExpiresAt.UTC(), Parts: []storedPartJSON{}}
	for _, p := range st.Parts {
		out.Parts = append(out.Parts, storedPartJSON{Number: p.Number, Size: p.Size, ETag: p.ETag})
	}
	writeJSON(w, http.StatusOK, out)
}

// handleRequestParts returns fresh URLs for an upload of the request.
func (a *app) handleRequestParts(w http.ResponseWriter, r *http.Request) {
	var in partsRequest
	if err := decodeJSON(r, &in); err != nil {
		a.error(w, r, err)
		return
	}
	urls, err := a.shares.RequestUploadURLs(r.Context(), chi.URLParam(r, "token"), a.visitor(r), chi.URLParam(r, "id"), in.Numbers)
	if err != nil {
		a.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toUploadURLs(urls))
}

// handleRequestComplete finishes an upload of the request. The answer
// names the file as the uploader sent it, nothing of the owner's folder.
func (a *app) handleRequestComplete(w http.ResponseWriter, r *http.Request) {
	var in files.CompleteInput
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &in); err != nil {
			a.error(w, r, err)
			return
		}
	}
	f, err := a.shares.CompleteRequestUpload(r.Context(), chi.URLParam(r, "token"), a.visitor(r), chi.URLParam(r, "id"), in)
	if err != nil {
		a.error(w, r, err)
		return
	}
	a.metrics.requestEvents.WithLabelValues("completed").Inc()
	writeJSON(w, http.StatusOK, map[string]any{"size": f.Size, "received": true})
}

// handleRequestAbort cancels an upload of the request.
func (a *app) handleRequestAbort(w http.ResponseWriter, r *http.Request) {
	if err := a.shares.AbortRequestUpload(r.Context(), chi.URLParam(r, "token"), a.visitor(r), chi.URLParam(r, "id")); err != nil {
		a.error(w, r, err)
		return
	}
	a.metrics.requestEvents.WithLabelValues("aborted").Inc()
	w.WriteHeader(http.StatusNoContent)
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
