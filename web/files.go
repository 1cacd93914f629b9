package main

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// handleFileDownload checks that the signed-in user may read the file, then
// redirects (303) to a short-lived presigned URL that answers with an
// attachment disposition and a safe content type, so the bytes never come
// from this origin inline.
func (a *app) handleFileDownload(w http.ResponseWriter, r *http.Request) {
	d, err := a.files.DownloadURL(r.Context(), currentUser(r).ID, chi.URLParam(r, "id"))
	if err != nil {
		a.error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, d.URL, http.StatusSeeOther)
}
