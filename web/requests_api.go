package main

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/weupload/weupload/internal/shares"
)

// JSON API of upload requests: /api/v1/requests. The same service methods
// as the share dialog and the Shared page; the request's secret is only in
// its url.

type requestJSON struct {
	ID    string `json:"id"`
	URL   string `json:"url"`
	State string `json:"state"` // open | expired | closed
	// FolderID is where files go, null for the root; FolderLive is false
	// once that folder was trashed or deleted (the request takes no files).
	FolderID     *string    `json:"folder_id"`
	FolderLive   bool       `json:"folder_live"`
	Title        string     `json:"title"`
	Message      string     `json:"message"`
	HasPassword  bool       `json:"has_password"`
	ExpiresAt    *time.Time `json:"expires_at"`
	MaxFiles     *int       `json:"max_files"`
	MaxBytes     *int64     `json:"max_bytes"`
	Files        int        `json:"files"`
	Bytes        int64      `json:"bytes"`
	LastUploadAt *time.Time `json:"last_upload_at"`
	Views        int        `json:"views"`
	ClosedAt     *time.Time `json:"closed_at"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

func toRequest(r shares.Request) requestJSON {
	out := requestJSON{
		ID: r.ID, URL: r.URL, State: string(r.State), FolderID: optional(r.FolderID), FolderLive: r.FolderLive,
		Title: r.Title, Message: r.Message, HasPassword: r.HasPassword, ExpiresAt: utc(r.ExpiresAt),
		Files: r.Files, Bytes: r.Bytes, LastUploadAt: utc(r.LastUploadAt), Views: r.Views, ClosedAt: utc(r.ClosedAt),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if r.MaxFiles > 0 {
		out.MaxFiles = &r.MaxFiles
	}
	if r.MaxBytes > 0 {
		out.MaxBytes = &r.MaxBytes
	}
	return out
}

// apiRequestList lists the caller's upload requests, newest first:
// GET /api/v1/requests.
func (a *app) apiRequestList(w http.ResponseWriter, r *http.Request) {
	rs, err := a.shares.ListRequests(r.Context(), currentUser(r).ID, false, "")
	if err != nil {
		a.error(w, r, err)
		return
	}
	items := make([]requestJSON, len(rs))
	for i, req := range rs {
		items[i] = toRequest(req)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next": nil})
}

// apiRequestGet returns one request: GET /api/v1/requests/{id}.
func (a *app) apiRequestGet(w http.ResponseWriter, r *http.Request) {
	req, err := a.shares.FindRequest(r.Context(), currentUser(r).ID, chi.URLParam(r, "id"))
	if err != nil {
		a.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toRequest(req))
}

// apiRequestCreate makes a request into a folder (the root without
// folder_id): POST /api/v1/requests; the answer carries the uploaders' url.
func (a *app) apiRequestCreate(w http.ResponseWriter, r *http.Request) {
	var in shares.CreateRequestInput
	if err := decodeJSON(r, &in); err != nil {
		a.error(w, r, err)
		return
	}
	req, err := a.shares.CreateRequest(r.Context(), currentUser(r).ID, in)
	if err != nil {
		a.error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/requests/"+req.ID)
	writeJSON(w, http.StatusCreated, toRequest(req))
}

// apiRequestUpdate changes options: PATCH /api/v1/requests/{id}; fields
// left out stay, null clears password, expires_at, max_files and max_bytes.
func (a *app) apiRequestUpdate(w http.ResponseWriter, r *http.Request) {
	var in shares.UpdateRequestInput
	if err := decodeJSON(r, &in); err != nil {
		a.error(w, r, err)
		return
	}
	req, err := a.shares.UpdateRequest(r.Context(), currentUser(r).ID, chi.URLParam(r, "id"), in)
	if err != nil {
		a.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toRequest(req))
}

// apiRequestClose closes a request at once: DELETE /api/v1/requests/{id}.
// It stays in the list, closed; what arrived stays in the folder.
func (a *app) apiRequestClose(w http.ResponseWriter, r *http.Request) {
	if _, err := a.shares.CloseRequest(r.Context(), currentUser(r).ID, chi.URLParam(r, "id")); err != nil {
		a.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
