package main

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/weupload/weupload/internal/shares"
)

// JSON API of share links: /api/v1/links. The same service methods as the
// share dialog; the link's secret is only in its url.

type linkJSON struct {
	ID    string `json:"id"`
	URL   string `json:"url"`
	State string `json:"state"` // active | expired | exhausted | revoked
	Kind  string `json:"kind"`  // files | folder
	// FileIDs are the shared files of a files link (empty for a folder).
	FileIDs      []string   `json:"file_ids"`
	FolderID     *string    `json:"folder_id"`
	Title        string     `json:"title"`
	Note         string     `json:"note"`
	HasPassword  bool       `json:"has_password"`
	ExpiresAt    *time.Time `json:"expires_at"`
	MaxDownloads *int       `json:"max_downloads"`
	Downloads    int        `json:"downloads"`
	Views        int        `json:"views"`
	LastAccessAt *time.Time `json:"last_access_at"`
	RevokedAt    *time.Time `json:"revoked_at"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

func toLink(l shares.Link) linkJSON {
	out := linkJSON{
		ID: l.ID, URL: l.URL, State: string(l.State), Kind: l.Kind, FileIDs: l.FileIDs, FolderID: optional(l.FolderID),
		Title: l.Title, Note: l.Note, HasPassword: l.HasPassword, ExpiresAt: utc(l.ExpiresAt), Downloads: l.Downloads,
		Views: l.Views, LastAccessAt: utc(l.LastAccessAt), RevokedAt: utc(l.RevokedAt),
		CreatedAt: l.CreatedAt.UTC(), UpdatedAt: l.UpdatedAt.UTC(),
	}
	if out.FileIDs == nil {
		out.FileIDs = []string{}
	}
	if l.MaxDownloads > 0 {
		out.MaxDownloads = &l.MaxDownloads
	}
	return out
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// apiLinkList lists the caller's links, newest first: GET /api/v1/links.
func (a *app) apiLinkList(w http.ResponseWriter, r *http.Request) {
	ls, err := a.shares.List(r.Context(), currentUser(r).ID)
	if err != nil {
		a.error(w, r, err)
		return
	}
	items := make([]linkJSON, len(ls))
	for i, l := range ls {
		items[i] = toLink(l)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next": nil})
}

// apiLinkGet returns one link: GET /api/v1/links/{id}.
func (a *app) apiLinkGet(w http.ResponseWriter, r *http.Request) {
	l, err := a.shares.Find(r.Context(), currentUser(r).ID, chi.URLParam(r, "id"))
	if err != nil {
		a.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toLink(l))
}

// apiLinkCreate makes a link: POST /api/v1/links with file_ids or
// folder_id and the options; the answer carries the recipients' url.
func (a *app) apiLinkCreate(w http.ResponseWriter, r *http.Request) {
	var in shares.CreateInput
	if err := decodeJSON(r, &in); err != nil {
		a.error(w, r, err)
		return
	}
	l, err := a.shares.Create(r.Context(), currentUser(r).ID, in)
	if err != nil {
		a.error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/links/"+l.ID)
	writeJSON(w, http.StatusCreated, toLink(l))
}

// apiLinkUpdate changes options: PATCH /api/v1/links/{id}; fields left out
// stay, null clears password, expires_at and max_downloads.
func (a *app) apiLinkUpdate(w http.ResponseWriter, r *http.Request) {
	var in shares.UpdateInput
	if err := decodeJSON(r, &in); err != nil {
		a.error(w, r, err)
		return
	}
	l, err := a.shares.Update(r.Context(), currentUser(r).ID, chi.URLParam(r, "id"), in)
	if err != nil {
		a.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toLink(l))
}

// apiLinkRevoke revokes a link at once: DELETE /api/v1/links/{id}. The link
// stays in the list, revoked.
func (a *app) apiLinkRevoke(w http.ResponseWriter, r *http.Request) {
	if _, err := a.shares.Revoke(r.Context(), currentUser(r).ID, chi.URLParam(r, "id")); err != nil {
		a.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
