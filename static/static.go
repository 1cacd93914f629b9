// Package static embeds the CSS, JavaScript and images and serves them under
// content-hashed URLs, so browsers may cache them forever and still pick up a
// new release at once.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed css/app.css js img
var files embed.FS

// Assets serves the embedded files and knows each one's hashed URL.
type Assets struct {
	hashes map[string]string // name → first 10 hex digits of its SHA-256
	server http.Handler
}

// New hashes every embedded file once, at start-up.
func New() (*Assets, error) {
	a := &Assets{hashes: map[string]string{}, server: http.FileServerFS(files)}
	err := fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a.hashes[path] = hex.EncodeToString(sum[:5])
		return nil
	})
	return a, err
}

// URL returns the cache-busting URL of an asset, e.g. /static/css/app.css?v=1a2b3c4d5e.
// An unknown name is a programming error and yields a URL that 404s.
func (a *Assets) URL(name string) string {
	return "/static/" + name + "?v=" + a.hashes[name]
}

// ServeHTTP serves an asset under /static/. A request carrying the current
// hash may be cached for a year; anything else must be revalidated.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	h, ok := a.hashes[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.URL.Query().Get("v") == h {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + name
	a.server.ServeHTTP(w, r2)
}
