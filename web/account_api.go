package main

import (
	"net/http"
	"time"

	"github.com/weupload/weupload/internal/auth"
)

// meJSON is the caller as GET /api/v1/me shows it.
type meJSON struct {
	ID          string    `json:"id"`
	Email       string    `json:"email"`
	DisplayName string    `json:"display_name"`
	IsAdmin     bool      `json:"is_admin"`
	CreatedAt   time.Time `json:"created_at"`
	Usage       usageJSON `json:"usage"`
	// Scopes are what this request may do: the token's, or all of them
	// for the web app's session.
	Scopes []string `json:"scopes"`
	// Token authenticated the request; nil for the session.
	Token *auth.Token `json:"token"`
}

// usageJSON is a user's storage use and quota, in bytes.
type usageJSON struct {
	Used     int64 `json:"used"`
	Reserved int64 `json:"reserved"`
	Quota    int64 `json:"quota"`
}

// apiMe answers the caller's profile, storage use and quota, and the token
// it authenticated with.
func (a *app) apiMe(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	usage, err := a.files.Usage(r.Context(), u.ID)
	if err != nil {
		a.error(w, r, err)
		return
	}
	me := meJSON{
		ID: u.ID, Email: u.Email, DisplayName: u.DisplayName, IsAdmin: u.IsAdmin, CreatedAt: u.CreatedAt.UTC(),
		Usage:  usageJSON{Used: usage.Used, Reserved: usage.Reserved, Quota: usage.Quota},
		Scopes: auth.Scopes,
		Token:  currentToken(r),
	}
	if me.Token != nil {
		me.Scopes = me.Token.Scopes
	}
	writeJSON(w, http.StatusOK, me)
}
