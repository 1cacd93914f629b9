package main

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/weupload/weupload/internal/auth"
)

// apiTokenList lists the caller's tokens (never their secrets).
func (a *app) apiTokenList(w http.ResponseWriter, r *http.Request) {
	tokens, err := a.auth.ListTokens(r.Context(), currentUser(r).ID)
	if err != nil {
		a.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": tokens, "next": nil})
}

// apiTokenCreate makes a token; the response carries the secret once, as "token".
func (a *app) apiTokenCreate(w http.ResponseWriter, r *http.Request) {
	var in auth.CreateTokenInput
	if err := decodeJSON(r, &in); err != nil {
		a.error(w, r, err)
		return
	}
	t, secret, err := a.auth.CreateToken(r.Context(), currentUser(r).ID, currentToken(r), in)
	if err != nil {
		a.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, struct {
		auth.Token
		Secret string `json:"token"`
	}{t, secret})
}

// apiTokenRevoke deletes a token; it stops working at once.
func (a *app) apiTokenRevoke(w http.ResponseWriter, r *http.Request) {
	if err := a.auth.RevokeToken(r.Context(), currentUser(r).ID, currentToken(r), chi.URLParam(r, "id")); err != nil {
		a.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
