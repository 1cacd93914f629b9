package main

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/weupload/weupload/internal/auth"
)

// routes is the whole HTTP surface, grouped by middleware stack.
func (a *app) routes() chi.Router {
	r := chi.NewRouter()
	r.Use(a.observe, a.securityHeaders)
	// The 404 page knows the signed-in user, so it keeps the navigation.
	r.NotFound(a.sessions.LoadAndSave(a.loadUser(http.HandlerFunc(a.notFound))).ServeHTTP)
	r.MethodNotAllowed(a.methodNotAllowed)

	// JSON callers: the API and the uploaders' calls of an upload request.
	// Every failure answers problem+json (jsonResponses), the cross-origin
	// refusal included, so jsonResponses comes first.
	r.Group(func(r chi.Router) {
		r.Use(jsonResponses, a.crossOrigin)
		a.jsonRoutes(r)
	})
	// Everything else answers pages: an error page, or a toast for htmx.
	r.Group(func(r chi.Router) {
		r.Use(a.crossOrigin)
		a.pageRoutes(r)
	})
	return r
}

// pageRoutes are the routes that answer HTML (or bytes).
func (a *app) pageRoutes(r chi.Router) {
	// No session, no database: probes and assets.
	r.Get("/healthz", a.handleHealthz)
	r.Get("/readyz", a.handleReadyz)
	r.With(middleware.Compress(5, "text/css", "text/javascript", "application/javascript", "image/svg+xml")).Handle("/static/*", a.assets)
	// The disk store's signed URLs (file bytes): no session and no body
	// limit; the signature is the authorization.
	if a.blob.handler != nil {
		r.Handle("/blob/*", a.blob.handler)
	}

	// Pages: sessions, the signed-in user, small bodies, compressed HTML.
	r.Group(func(r chi.Router) {
		r.Use(a.deadline, a.sessions.LoadAndSave, a.loadUser, limitBody(1<<20), a.checkInput, middleware.Compress(5, "text/html"))

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
		r.Get("/api/docs", a.handleAPIDocs)

		// File browser pages: a folder or a search, the Trash, and the htmx
		// partials and dialogs they swap in (web/files.go).
		r.Group(func(r chi.Router) {
			r.Use(a.requireUser)
			r.Get("/files", a.handleBrowse)
			r.Get("/folders/{id}", a.handleBrowse)
			r.Get("/files/{id}", a.handleFileDetails)
			r.Get("/files/{id}/scan", a.handleFileScan)
			r.Get("/usage", a.handleUsage)
			r.Get("/folders/new", a.handleFolderCreateDialog)
			r.Post("/folders", a.handleFolderCreate)
			r.Get("/items/rename", a.handleItemRenameDialog)
			r.Post("/items/rename", a.handleItemRename)
			r.Get("/items/move", a.handleItemsMoveDialog)
			r.Post("/items/move", a.handleItemsMove)
			r.Post("/items/trash", a.handleItemsTrash)
			r.Get("/trash", a.handleTrashPage)
			r.Post("/trash/restore", a.handleTrashRestore)
			r.Get("/trash/empty", a.handleTrashEmptyDialog)
			r.Post("/trash/empty", a.handleTrashEmpty)
		})
		// Sharing: the Shared page and the share dialog (web/links.go).
		r.Group(func(r chi.Router) {
			r.Use(a.requireUser)
			r.Get("/shared", a.handleSharedPage)
			r.Get("/share/dialog", a.handleShareDialog)
			r.Post("/share/links", a.handleLinkCreate)
			r.Post("/share/links/{id}", a.handleLinkUpdate)
			r.Post("/share/links/{id}/revoke", a.handleLinkRevoke)
			r.Post("/share/requests", a.handleRequestCreate)
			r.Post("/share/requests/{id}/close", a.handleRequestClose)
			// Sharing with registered users (web/grants.go).
			r.Post("/share/people", a.handleGrantCreate)
			r.Post("/share/people/{id}", a.handleGrantUpdate)
			r.Post("/share/people/{id}/remove", a.handleGrantDelete)
			r.Get("/shared-with-me", a.handleSharedWithMe)
			r.Post("/shared-with-me/{id}/leave", a.handleGrantLeave)
		})
		// The job queue for admins: River's UI (its SPA and JSON API) under
		// jobsUIPrefix; everyone else gets a 404. It fits the app's CSP as
		// is (module script and stylesheet from 'self', no inline code).
		r.Group(func(r chi.Router) {
			r.Use(a.requireUser, a.requireAdmin)
			r.Handle(jobsUIPrefix, a.jobsUI)
			r.Handle(jobsUIPrefix+"/*", a.jobsUI)
		})
		r.Group(func(r chi.Router) {
			r.Use(a.requireUser)
			r.Get("/admin/scans", a.handleAdminScans)
			r.Get("/account", a.handleAccountPage)
			r.Post("/account/profile", a.handleProfileUpdate)
			r.Post("/account/password", a.handlePasswordChange)
			r.Post("/account/tokens", a.handleTokenCreate)
			r.Post("/account/tokens/{id}/revoke", a.handleTokenRevoke)
		})
	})
	// Share links for recipients: the session (it remembers a typed
	// password, per link) but no user; no-referrer, no-store, noindex. The
	// zip streams, so no compression and the handler sets its own deadline.
	r.Group(func(r chi.Router) {
		r.Use(shareHeaders, a.sessions.LoadAndSave, limitBody(64<<10), a.checkInput)
		r.Get("/s/{token}/zip", a.handleLinkZip)
		r.Group(func(r chi.Router) {
			// The zip's own deadline covers its stream; the rest are short.
			r.Use(a.deadline)
			r.Get("/s/{token}", a.handleLinkLanding)
			r.Post("/s/{token}", a.handleLinkUnlock)
			r.Get("/s/{token}/files/{id}", a.handleLinkFile)
		})
	})
	// Upload requests for uploaders (web/requests.go): like the share
	// links, a session for the unlock and no user. Their JSON calls of the
	// upload protocol, which only reach uploads made through the request,
	// are in jsonRoutes.
	r.Group(func(r chi.Router) {
		r.Use(a.deadline, shareHeaders, a.sessions.LoadAndSave, limitBody(1<<20), a.checkInput)
		r.Get("/r/{token}", a.handleRequestLanding)
		r.Post("/r/{token}", a.handleRequestUnlock)
	})
	// Files: the download link of the pages (303 to a presigned URL).
	r.Group(func(r chi.Router) {
		r.Use(a.deadline, a.sessions.LoadAndSave, a.loadUser, a.requireUser, a.checkInput)
		r.Get("/files/{id}/download", a.handleFileDownload)
	})
}

// jsonRoutes are the routes that answer JSON.
func (a *app) jsonRoutes(r chi.Router) {
	// JSON API: problem+json errors; its OpenAPI document needs no
	// credentials (web/openapi.yaml), the rest a token or session.
	r.HandleFunc("/api/*", a.notFound)
	r.Route("/api/v1", func(r chi.Router) {
		r.With(middleware.Compress(5, "application/json")).Get("/openapi.json", a.apiSpecJSON)
		r.Group(func(r chi.Router) {
			r.Use(a.deadline, a.sessions.LoadAndSave, a.loadUser, limitBody(1<<20), a.apiAuth, a.checkInput)

			r.Get("/me", a.apiMe)
			r.Get("/tokens", a.apiTokenList)
			// Making and revoking tokens needs tokens:write, and the token made
			// or revoked can have no scope the caller lacks (auth.CreateToken,
			// auth.RevokeToken).
			r.With(requireScope(a, auth.ScopeTokensWrite)).Post("/tokens", a.apiTokenCreate)
			r.With(requireScope(a, auth.ScopeTokensWrite)).Delete("/tokens/{id}", a.apiTokenRevoke)

			// Files API: the upload protocol, files, folders, trash, usage.
			r.Group(func(r chi.Router) {
				r.Use(requireScope(a, auth.ScopeFilesRead))
				r.Get("/uploads", a.apiUploadList)
				r.Get("/uploads/{id}", a.apiUploadGet)
				r.Get("/folders", a.apiFolderList)
				r.Get("/folders/{id}", a.apiFolderGet)
				r.Get("/folders/{id}/items", a.apiFolderItems) // {id} may be "root"
				r.Get("/search", a.apiSearch)
				r.Get("/files", a.apiFileList)
				r.Get("/files/{id}", a.apiFileGet)
				r.Get("/files/{id}/download", a.apiFileDownload)
				r.Get("/trash", a.apiTrashList)
				r.Get("/usage", a.apiUsage)
			})
			r.Group(func(r chi.Router) {
				r.Use(requireScope(a, auth.ScopeFilesWrite))
				r.Post("/uploads", a.apiUploadCreate)
				r.Post("/uploads/{id}/parts", a.apiUploadParts)
				r.Post("/uploads/{id}/complete", a.apiUploadComplete)
				r.Delete("/uploads/{id}", a.apiUploadAbort)
				r.Post("/folders", a.apiFolderCreate)
				r.Post("/folders/{id}/rename", a.apiFolderRename)
				r.Post("/folders/{id}/move", a.apiFolderMove)
				r.Post("/folders/{id}/restore", a.apiFolderRestore)
				r.Delete("/folders/{id}", a.apiFolderDelete)
				r.Post("/files/{id}/rename", a.apiFileRename)
				r.Post("/files/{id}/move", a.apiFileMove)
				r.Post("/files/{id}/restore", a.apiFileRestore)
				r.Delete("/files/{id}", a.apiFileDelete)
				r.Post("/items/move", a.apiItemsMove)
				r.Post("/items/trash", a.apiItemsTrash)
				r.Post("/trash/restore", a.apiTrashRestore)
				r.Delete("/trash", a.apiTrashEmpty)
			})
			// Share links (web/links_api.go, web/sharing_api.go). Reading needs files:read;
			// changing a link also shares:write, on top of files:read, since a
			// link hands out the files' bytes.
			r.Group(func(r chi.Router) {
				r.Use(requireScope(a, auth.ScopeFilesRead))
				links := a.apiLinks()
				r.Get("/links", links.listAll)
				r.Get("/links/{id}", links.get)
				r.Group(func(r chi.Router) {
					r.Use(requireScope(a, auth.ScopeSharesWrite))
					r.Post("/links", links.post)
					r.Patch("/links/{id}", links.patch)
					r.Delete("/links/{id}", links.delete)
				})
			})
			// Sharing with registered users (web/grants_api.go): reading needs
			// files:read; sharing, changing a role or removing access also
			// shares:write.
			r.Group(func(r chi.Router) {
				r.Use(requireScope(a, auth.ScopeFilesRead))
				r.Get("/grants", a.apiGrantList)
				r.Get("/grants/received", a.apiGrantReceived)
				r.Get("/grants/{id}", a.apiGrantGet)
				r.Group(func(r chi.Router) {
					r.Use(requireScope(a, auth.ScopeSharesWrite))
					r.Post("/grants", a.apiGrantCreate)
					r.Patch("/grants/{id}", a.apiGrantUpdate)
					r.Delete("/grants/{id}", a.apiGrantDelete)
				})
			})
			// Upload requests (web/requests_api.go, web/sharing_api.go). Reading needs files:read;
			// changing a request also files:write and shares:write, since a
			// request lets anyone with its link add files to the folder.
			r.Group(func(r chi.Router) {
				r.Use(requireScope(a, auth.ScopeFilesRead))
				requests := a.apiRequests()
				r.Get("/requests", requests.listAll)
				r.Get("/requests/{id}", requests.get)
				r.Group(func(r chi.Router) {
					r.Use(requireScope(a, auth.ScopeFilesWrite), requireScope(a, auth.ScopeSharesWrite))
					r.Post("/requests", requests.post)
					r.Patch("/requests/{id}", requests.patch)
					r.Delete("/requests/{id}", requests.delete)
				})
			})
		})
	})
	// The uploaders' JSON calls of an upload request (web/requests.go):
	// the session of the unlock, rate limited like the API.
	r.Group(func(r chi.Router) {
		r.Use(a.deadline, shareHeaders, a.sessions.LoadAndSave, limitBody(1<<20), a.checkInput, a.limitUploader)
		r.Post("/r/{token}/uploads", a.handleRequestInitiate)
		r.Get("/r/{token}/uploads/{id}", a.handleRequestUpload)
		r.Post("/r/{token}/uploads/{id}/parts", a.handleRequestParts)
		r.Post("/r/{token}/uploads/{id}/complete", a.handleRequestComplete)
		r.Delete("/r/{token}/uploads/{id}", a.handleRequestAbort)
	})
}
