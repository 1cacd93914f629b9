package main

import (
	"net/http"

	"github.com/weupload/weupload/internal/auth"
)

// mayAll reports whether the request may use every one of scopes: the web
// app's session may, a token only when it carries them all. It is for
// answers that show more to a stronger caller (requireScope refuses a
// route outright).
func mayAll(r *http.Request, scopes ...string) bool {
	t := currentToken(r)
	if t == nil {
		return true
	}
	for _, s := range scopes {
		if !t.Has(s) {
			return false
		}
	}
	return true
}

// requestURLScopes are the scopes that make an upload request's url
// visible: those that make a request, since the url lets anyone who has it
// add files to the folder.
var requestURLScopes = []string{auth.ScopeFilesWrite, auth.ScopeSharesWrite}
