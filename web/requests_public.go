package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/bytesize"
	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/ratelimit"
	"github.com/weupload/weupload/internal/shares"
	"github.com/weupload/weupload/views"
)

// The pages and JSON calls of an upload request's uploaders: GET /r/{token}
// (the picker, or the password form), POST /r/{token} (the password), and
// the upload protocol under /r/{token}/uploads, which only ever starts,
// continues, completes or cancels uploads made through that request.

func requestURL(r *http.Request) string { return "/r/" + chi.URLParam(r, "token") }

// handleRequestLanding shows who asks for files and the picker, or the
// password form.
func (a *app) handleRequestLanding(w http.ResponseWriter, r *http.Request) {
	in, err := a.shares.OpenRequest(r.Context(), chi.URLParam(r, "token"), a.visitor(r))
	if a.landingRefused(w, r, err, shares.IsRequestLocked, a.requestPasswordPage) {
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
// limits (app.apiRules): first per client IP, then, once the token is
// known to be an upload link's (one lookup by its hash), per link; a call
// refused per link is given back to the IP. So a flood of made-up tokens
// costs one row per IP in the throttles table, not one per token. The
// link is keyed by a hash of its token, so the table holds no secret.
func (a *app) limitUploader(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		token := chi.URLParam(r, "token")
		ip := ratelimit.Attempt{Key: "r:ip:" + info(r).ipKey, Rule: a.apiRules.IP}
		if err := a.limiter.Take(ctx, ip.Key, ip.Rule); err != nil {
			a.error(w, r, err)
			return
		}
		if err := a.shares.CheckRequestToken(ctx, token); err != nil {
			a.error(w, r, err)
			return
		}
		sum := sha256.Sum256([]byte(token))
		if err := a.limiter.Take(ctx, "r:"+hex.EncodeToString(sum[:16]), a.apiRules.Caller); err != nil {
			if apperr.Is(err, apperr.TooMany) {
				err = errors.Join(err, a.limiter.Refund(ctx, ip))
			}
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
