package main

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// routes is the whole HTTP surface, grouped by middleware stack.
func (a *app) routes() chi.Router {
	r := chi.NewRouter()
	r.Use(a.observe, a.securityHeaders, a.crossOrigin)
	// The 404 page knows the signed-in user, so it keeps the navigation.
	r.NotFound(a.sessions.LoadAndSave(a.loadUser(http.HandlerFunc(a.notFound))).ServeHTTP)
	r.MethodNotAllowed(a.methodNotAllowed)

	// No session, no database: probes and assets.
	r.Get("/healthz", a.handleHealthz)
	r.Get("/readyz", a.handleReadyz)
	r.With(middleware.Compress(5, "text/css", "application/javascript", "image/svg+xml")).Handle("/static/*", a.assets)

	// Pages: sessions, the signed-in user, small bodies, compressed HTML.
	r.Group(func(r chi.Router) {
		r.Use(a.sessions.LoadAndSave, a.loadUser, limitBody(1<<20), middleware.Compress(5, "text/html"))

		r.Get("/", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/files", http.StatusSeeOther)
		})
		r.Group(func(r chi.Router) {
			r.Use(redirectSignedIn)
			r.Get("/login", a.handleLoginPage)
			r.Post("/login", a.handleLogin)
			r.Get("/register", a.handleRegisterPage)
			r.Post("/register", a.handleRegister)
		})
		r.Post("/logout", a.handleLogout)

		r.Group(func(r chi.Router) {
			r.Use(a.requireUser)
			r.Get("/files", a.handleFilesPage)
			r.Get("/account", a.handleAccountPage)
			r.Post("/account/profile", a.handleProfileUpdate)
			r.Post("/account/password", a.handlePasswordChange)
		})
	})
	// JSON API: token or session, strict bodies, problem+json errors.
	r.Route("/api/v1", func(r chi.Router) {
		r.Use(a.sessions.LoadAndSave, a.loadUser, limitBody(1<<20), a.apiAuth)

		r.Get("/tokens", a.apiTokenList)
		r.Post("/tokens", a.apiTokenCreate)
		r.Delete("/tokens/{id}", a.apiTokenRevoke)
	})
	return r
}
