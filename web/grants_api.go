package main

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/weupload/weupload/internal/files"
)

// JSON API of sharing with registered users: /api/v1/grants. The same
// service methods as the share dialog's People section.

type grantJSON struct {
	ID       string  `json:"id"`
	FolderID *string `json:"folder_id"`
	FileID   *string `json:"file_id"`
	// Name is the shared entry's current name.
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Owner     userRef   `json:"owner"`
	Grantee   userRef   `json:"grantee"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// userRef names another user: enough to recognise them, nothing more.
type userRef struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

func toGrant(g files.Grant) grantJSON {
	return grantJSON{
		ID: g.ID, FolderID: optional(g.FolderID), FileID: optional(g.FileID), Name: g.Name, Role: string(g.Role),
		Owner:     userRef{ID: g.OwnerID, Name: g.OwnerName, Email: g.OwnerEmail},
		Grantee:   userRef{ID: g.GranteeID, Name: g.GranteeName, Email: g.GranteeEmail},
		CreatedAt: g.CreatedAt.UTC(), UpdatedAt: g.UpdatedAt.UTC(),
	}
}

func writeGrants(w http.ResponseWriter, gs []files.Grant) {
	items := make([]grantJSON, len(gs))
	for i, g := range gs {
		items[i] = toGrant(g)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next": nil})
}

// apiGrantList lists the grants the caller made, optionally of one folder
// or file: GET /api/v1/grants?folder_id=…|file_id=….
func (a *app) apiGrantList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	gs, err := a.files.ListGrants(r.Context(), currentUser(r).ID, files.GrantFilter{FolderID: q.Get("folder_id"), FileID: q.Get("file_id")})
	if err != nil {
		a.error(w, r, err)
		return
	}
	writeGrants(w, gs)
}

// apiGrantReceived lists what others shared with the caller: GET
// /api/v1/grants/received.
func (a *app) apiGrantReceived(w http.ResponseWriter, r *http.Request) {
	gs, err := a.files.SharedWithMe(r.Context(), currentUser(r).ID)
	if err != nil {
		a.error(w, r, err)
		return
	}
	writeGrants(w, gs)
}

// apiGrantGet returns a grant the caller made or received.
func (a *app) apiGrantGet(w http.ResponseWriter, r *http.Request) {
	g, err := a.files.FindGrant(r.Context(), currentUser(r).ID, chi.URLParam(r, "id"))
	if err != nil {
		a.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toGrant(g))
}

// apiGrantCreate shares a folder or file with a user by email: POST
// /api/v1/grants. Sharing again with the same person changes the role.
func (a *app) apiGrantCreate(w http.ResponseWriter, r *http.Request) {
	var in files.ShareInput
	if err := decodeJSON(r, &in); err != nil {
		a.error(w, r, err)
		return
	}
	g, err := a.files.Share(r.Context(), currentUser(r).ID, in)
	if err != nil {
		a.error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/grants/"+g.ID)
	writeJSON(w, http.StatusCreated, toGrant(g))
}

// apiGrantUpdate changes the role: PATCH /api/v1/grants/{id} {"role"}.
func (a *app) apiGrantUpdate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Role files.Role `json:"role"`
	}
	if err := decodeJSON(r, &in); err != nil {
		a.error(w, r, err)
		return
	}
	g, err := a.files.SetGrantRole(r.Context(), currentUser(r).ID, chi.URLParam(r, "id"), in.Role)
	if err != nil {
		a.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toGrant(g))
}

// apiGrantDelete ends a grant: the owner removes access, or the grantee
// leaves. DELETE /api/v1/grants/{id}.
func (a *app) apiGrantDelete(w http.ResponseWriter, r *http.Request) {
	if _, err := a.files.RemoveGrant(r.Context(), currentUser(r).ID, chi.URLParam(r, "id"), files.AsEither); err != nil {
		a.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
