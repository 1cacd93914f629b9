package main

import (
	"net/http"
	"time"

	"github.com/weupload/weupload/internal/shares"
)

// JSON API of share links: /api/v1/links. The same service methods as the
// share dialog; the link's secret is only in its url.

type linkJSON struct {
	ID string `json:"id"`
	// URL is null when the server cannot open the stored token (LINK_KEY
	// changed without LINK_KEY_PREVIOUS): the link works, but cannot be shown.
	URL   *string `json:"url"`
	State string  `json:"state"` // active | expired | exhausted | revoked
	Kind  string  `json:"kind"`  // files | folder
	// FileIDs are the shared files of a files link (empty for a folder).
	FileIDs      []string   `json:"file_ids"`
	FolderID     *string    `json:"folder_id"`
	Title        string     `json:"title"`
	Note         string     `json:"note"`
	HasPassword  bool       `json:"has_password"`
	ExpiresAt    *time.Time `json:"expires_at"`
	MaxDownloads *int       `json:"max_downloads"`
	Downloads    int        `json:"downloads"`
	Views        int        `json:"views"`
	LastAccessAt *time.Time `json:"last_access_at"`
	RevokedAt    *time.Time `json:"revoked_at"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

func toLink(_ *http.Request, l shares.Link) linkJSON {
	out := linkJSON{
		ID: l.ID, URL: optional(l.URL), State: string(l.State), Kind: l.Kind, FileIDs: l.FileIDs, FolderID: optional(l.FolderID),
		Title: l.Title, Note: l.Note, HasPassword: l.HasPassword, ExpiresAt: utc(l.ExpiresAt), Downloads: l.Downloads,
		MaxDownloads: limit(l.MaxDownloads), Views: l.Views, LastAccessAt: utc(l.LastAccessAt), RevokedAt: utc(l.RevokedAt),
		CreatedAt: l.CreatedAt.UTC(), UpdatedAt: l.UpdatedAt.UTC(),
	}
	if out.FileIDs == nil {
		out.FileIDs = []string{}
	}
	return out
}

// apiLinks is /api/v1/links: a link is made with file_ids or folder_id and
// the options; PATCH's null clears password, expires_at and max_downloads;
// DELETE revokes.
func (a *app) apiLinks() sharingAPI[shares.Link, shares.CreateInput, shares.UpdateInput, linkJSON] {
	return sharingAPI[shares.Link, shares.CreateInput, shares.UpdateInput, linkJSON]{
		a: a, path: "/api/v1/links",
		list: a.shares.List, find: a.shares.Find, create: a.shares.Create, update: a.shares.Update, end: a.shares.Revoke,
		toJSON: toLink, id: func(l shares.Link) string { return l.ID },
	}
}
