package main

import (
	"net/http"

	"github.com/weupload/weupload/views"
)

// handleAPIDocs renders the API reference, made from the OpenAPI document.
// It is public, like the document.
func (a *app) handleAPIDocs(w http.ResponseWriter, r *http.Request) {
	p := a.apiSpec.docs
	p.Shell = a.shell(r, "API reference")
	a.render(w, r, http.StatusOK, views.APIDocs(p))
}
