package main

import (
	"context"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
)

// sharingAPI is the JSON API of a thing a user hands out through a secret
// URL: share links (/api/v1/links) and upload requests (/api/v1/requests).
// Both have the same five calls over their own service methods, so the
// calls are written once here; what differs (the methods, the JSON, the
// path) is in each resource's constructor. T is the service's type, C and
// U its create and update inputs, J its JSON.
type sharingAPI[T, C, U, J any] struct {
	a      *app
	path   string // the collection, e.g. /api/v1/links
	list   func(ctx context.Context, userID string) ([]T, error)
	find   func(ctx context.Context, userID, id string) (T, error)
	create func(ctx context.Context, userID string, in C) (T, error)
	update func(ctx context.Context, userID, id string, in U) (T, error)
	end    func(ctx context.Context, userID, id string) (T, error) // revoke or close
	toJSON func(r *http.Request, t T) J                            // r: what the caller may see
	id     func(T) string
}

// listAll lists the caller's things, newest first: GET path.
func (s sharingAPI[T, C, U, J]) listAll(w http.ResponseWriter, r *http.Request) {
	ts, err := s.list(r.Context(), currentUser(r).ID)
	if err != nil {
		s.a.error(w, r, err)
		return
	}
	items := make([]J, len(ts))
	for i, t := range ts {
		items[i] = s.toJSON(r, t)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next": nil})
}

// get returns one: GET path/{id}.
func (s sharingAPI[T, C, U, J]) get(w http.ResponseWriter, r *http.Request) {
	t, err := s.find(r.Context(), currentUser(r).ID, chi.URLParam(r, "id"))
	if err != nil {
		s.a.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.toJSON(r, t))
}

// post makes one: POST path; the answer carries its secret URL and
// Location names it.
func (s sharingAPI[T, C, U, J]) post(w http.ResponseWriter, r *http.Request) {
	var in C
	if err := decodeJSON(r, &in); err != nil {
		s.a.error(w, r, err)
		return
	}
	t, err := s.create(r.Context(), currentUser(r).ID, in)
	if err != nil {
		s.a.error(w, r, err)
		return
	}
	w.Header().Set("Location", s.path+"/"+s.id(t))
	writeJSON(w, http.StatusCreated, s.toJSON(r, t))
}

// patch changes options: PATCH path/{id}; fields left out stay, null
// clears an optional one.
func (s sharingAPI[T, C, U, J]) patch(w http.ResponseWriter, r *http.Request) {
	var in U
	if err := decodeJSON(r, &in); err != nil {
		s.a.error(w, r, err)
		return
	}
	t, err := s.update(r.Context(), currentUser(r).ID, chi.URLParam(r, "id"), in)
	if err != nil {
		s.a.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.toJSON(r, t))
}

// delete ends one at once (a link is revoked, a request closed): DELETE
// path/{id}. It stays in the list, in its end state.
func (s sharingAPI[T, C, U, J]) delete(w http.ResponseWriter, r *http.Request) {
	if _, err := s.end(r.Context(), currentUser(r).ID, chi.URLParam(r, "id")); err != nil {
		s.a.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// limit is an optional limit as JSON: null for none (0).
func limit[N int | int64](n N) *N {
	if n <= 0 {
		return nil
	}
	return &n
}
