package main

import (
	"context"
	"net/http"
	"time"

	"github.com/weupload/weupload/internal/shares"
)

// JSON API of upload requests: /api/v1/requests. The same service methods
// as the share dialog and the Shared page; the request's secret is only in
// its url.

type requestJSON struct {
	ID string `json:"id"`
	// URL is null for a token that could not make the request
	// (requestURLScopes): with it anyone can add files; also when the
	// server cannot open the stored token (LINK_KEY changed).
	URL   *string `json:"url"`
	State string  `json:"state"` // open | expired | closed
	// FolderID is where files go, null for the root; FolderLive is false
	// once that folder was trashed or deleted (the request takes no files).
	FolderID     *string    `json:"folder_id"`
	FolderLive   bool       `json:"folder_live"`
	Title        string     `json:"title"`
	Message      string     `json:"message"`
	HasPassword  bool       `json:"has_password"`
	ExpiresAt    *time.Time `json:"expires_at"`
	MaxFiles     *int       `json:"max_files"`
	MaxBytes     *int64     `json:"max_bytes"`
	Files        int        `json:"files"`
	Bytes        int64      `json:"bytes"`
	LastUploadAt *time.Time `json:"last_upload_at"`
	Views        int        `json:"views"`
	ClosedAt     *time.Time `json:"closed_at"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

func toRequest(hr *http.Request, r shares.Request) requestJSON {
	out := requestJSON{
		ID: r.ID, State: string(r.State), FolderID: optional(r.FolderID), FolderLive: r.FolderLive,
		Title: r.Title, Message: r.Message, HasPassword: r.HasPassword, ExpiresAt: utc(r.ExpiresAt),
		MaxFiles: limit(r.MaxFiles), MaxBytes: limit(r.MaxBytes), Files: r.Files, Bytes: r.Bytes,
		LastUploadAt: utc(r.LastUploadAt), Views: r.Views, ClosedAt: utc(r.ClosedAt),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if mayAll(hr, requestURLScopes...) {
		out.URL = optional(r.URL)
	}
	return out
}

// apiRequests is /api/v1/requests: a request goes into a folder (the root
// without folder_id); PATCH's null clears password, expires_at, max_files
// and max_bytes; DELETE closes it, and what arrived stays in the folder.
func (a *app) apiRequests() sharingAPI[shares.Request, shares.CreateRequestInput, shares.UpdateRequestInput, requestJSON] {
	return sharingAPI[shares.Request, shares.CreateRequestInput, shares.UpdateRequestInput, requestJSON]{
		a: a, path: "/api/v1/requests",
		list: func(ctx context.Context, userID string) ([]shares.Request, error) {
			return a.shares.ListRequests(ctx, userID, false, "")
		},
		find: a.shares.FindRequest, create: a.shares.CreateRequest, update: a.shares.UpdateRequest, end: a.shares.CloseRequest,
		toJSON: toRequest, id: func(r shares.Request) string { return r.ID },
	}
}
