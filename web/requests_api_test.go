package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weupload/weupload/internal/auth"
	"github.com/weupload/weupload/internal/files"
)

type apiRequest struct {
	ID           string     `json:"id"`
	URL          string     `json:"url"`
	State        string     `json:"state"`
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
	ClosedAt     *time.Time `json:"closed_at"`
}

// TestAPIRequests: create, list, get, update and close an upload request
// with the API; the uploader's page follows every change at once.
func TestAPIRequests(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	ann, annUser := ta.shareUser(t, "ann@example.com")
	inbox, err := ta.files.CreateFolder(t.Context(), annUser.ID, files.CreateFolderInput{Name: "Inbox"})
	if err != nil {
		t.Fatal(err)
	}

	r := ann.apiCall("POST", "/api/v1/requests", "", fmt.Sprintf(`{"folder_id":%q,"title":"Contracts","message":"Signed, please",`+
		`"password":"drop it here","expires_at":"2031-05-06T07:08:09Z","max_files":2,"max_bytes":1048576}`, inbox.ID))
	wantStatus(t, r, http.StatusCreated)
	req := decode[apiRequest](t, r)
	if got := keys(t, r.body); !slices.Equal(got, []string{"bytes", "closed_at", "created_at", "expires_at", "files", "folder_id", "folder_live",
		"has_password", "id", "last_upload_at", "max_bytes", "max_files", "message", "state", "title", "updated_at", "url", "views"}) {
		t.Errorf("request keys %v", got)
	}
	if !strings.HasPrefix(req.URL, ta.srv.URL+"/r/") || req.State != "open" || req.FolderID == nil || *req.FolderID != inbox.ID || !req.FolderLive ||
		req.Title != "Contracts" || req.Message != "Signed, please" || !req.HasPassword || *req.MaxFiles != 2 || *req.MaxBytes != 1<<20 ||
		!req.ExpiresAt.Equal(time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)) || req.Files != 0 || req.ClosedAt != nil {
		t.Fatalf("created %+v", req)
	}
	if strings.Contains(r.body, "drop it here") || strings.Contains(r.body, "password_hash") {
		t.Fatal("the password leaks into the answer")
	}
	if loc := r.header.Get("Location"); loc != "/api/v1/requests/"+req.ID {
		t.Errorf("Location %q", loc)
	}
	token := tokenFrom(req.URL)

	// The uploader's path works with the URL from the API.
	up := ta.client(t)
	wantBody(t, up.get("/r/"+token), "This upload link is protected")
	wantStatus(t, up.post("/r/"+token, map[string][]string{"password": {"drop it here"}}), http.StatusSeeOther)
	wantBody(t, up.get("/r/"+token), "Contracts", "Up to 2 more files", "Up to 1 MiB more in all")
	wantStatus(t, requestSend(t, up, token, "one.txt", []byte("one")), http.StatusOK)

	list := decode[struct {
		Items []apiRequest `json:"items"`
		Next  *string      `json:"next"`
	}](t, ann.get("/api/v1/requests"))
	if len(list.Items) != 1 || list.Items[0].ID != req.ID || list.Next != nil || list.Items[0].Files != 1 || list.Items[0].Bytes != 3 {
		t.Fatalf("list %+v", list)
	}
	if got := decode[apiRequest](t, ann.get("/api/v1/requests/"+req.ID)); got.Files != 1 || got.LastUploadAt == nil {
		t.Fatalf("get %+v", got)
	}

	// PATCH: given fields change, absent ones stay, null clears; the
	// uploader sees the new limits at once.
	r = ann.apiCall("PATCH", "/api/v1/requests/"+req.ID, "", `{"title":"Contracts 2025","max_files":5,"max_bytes":null,"password":null}`)
	wantStatus(t, r, http.StatusOK)
	req = decode[apiRequest](t, r)
	if req.Title != "Contracts 2025" || req.Message != "Signed, please" || req.HasPassword || *req.MaxFiles != 5 || req.MaxBytes != nil || req.ExpiresAt == nil {
		t.Fatalf("patched %+v", req)
	}
	fresh := ta.client(t) // no unlock needed any more
	page := fresh.get("/r/" + token)
	wantBody(t, page, "Contracts 2025", "Up to 4 more files")
	if strings.Contains(page.body, "more in all") {
		t.Fatal("the byte limit is still shown")
	}
	r = ann.apiCall("PATCH", "/api/v1/requests/"+req.ID, "", `{"max_files":1}`)
	wantStatus(t, r, http.StatusOK)
	wantBody(t, fresh.get("/r/"+token), "takes no more files")
	wantProblem(t, requestSend(t, fresh, token, "two.txt", []byte("two")), http.StatusConflict, "at most 1 file")
	wantStatus(t, ann.apiCall("PATCH", "/api/v1/requests/"+req.ID, "", `{"max_files":null,"expires_at":null}`), http.StatusOK)
	wantStatus(t, requestSend(t, fresh, token, "two.txt", []byte("two")), http.StatusOK)

	// DELETE closes: the uploader is refused at once, what arrived stays.
	wantStatus(t, ann.apiCall("DELETE", "/api/v1/requests/"+req.ID, "", ""), http.StatusNoContent)
	r = fresh.get("/r/" + token)
	wantStatus(t, r, http.StatusGone)
	wantBody(t, r, "closed")
	wantProblem(t, requestSend(t, fresh, token, "late.txt", []byte("late")), http.StatusGone, "closed")
	if got := decode[apiRequest](t, ann.get("/api/v1/requests/"+req.ID)); got.State != "closed" || got.ClosedAt == nil || got.Files != 2 {
		t.Fatalf("after DELETE %+v", got)
	}
	wantStatus(t, ann.apiCall("DELETE", "/api/v1/requests/"+req.ID, "", ""), http.StatusNoContent)
	wantProblem(t, ann.apiCall("PATCH", "/api/v1/requests/"+req.ID, "", `{"title":"again"}`), http.StatusConflict, "closed")
	if p, _ := ta.files.List(t.Context(), annUser.ID, files.ListInput{FolderID: inbox.ID}); len(p.Files) != 2 {
		t.Fatalf("inbox holds %d files, want 2", len(p.Files))
	}

	// Into the top, with nothing but defaults.
	r = ann.apiCall("POST", "/api/v1/requests", "", `{}`)
	wantStatus(t, r, http.StatusCreated)
	top := decode[apiRequest](t, r)
	if top.FolderID != nil || !top.FolderLive || top.MaxFiles != nil || top.MaxBytes != nil || top.ExpiresAt != nil || top.HasPassword {
		t.Fatalf("top %+v", top)
	}
}

// TestAPIRequestsInvalid: the create and update bodies are validated alike,
// with a message per field.
func TestAPIRequestsInvalid(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	ann, _ := ta.shareUser(t, "ann@example.com")
	r := ann.apiCall("POST", "/api/v1/requests", "", `{}`)
	wantStatus(t, r, http.StatusCreated)
	id := decode[apiRequest](t, r).ID

	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	for _, tc := range []struct {
		name, body, field string
	}{
		{"no files", `{"max_files":0}`, "max_files"},
		{"too many files", `{"max_files":10001}`, "max_files"},
		{"no bytes", `{"max_bytes":0}`, "max_bytes"},
		{"short password", `{"password":"short"}`, "password"},
		{"past expiry", `{"expires_at":"` + past + `"}`, "expires_at"},
		{"long title", `{"title":"` + strings.Repeat("t", 201) + `"}`, "title"},
		{"long message", `{"message":"` + strings.Repeat("m", 2001) + `"}`, "message"},
		{"control characters", `{"title":"a\u0007b"}`, "title"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, call := range []struct{ method, path string }{{"POST", "/api/v1/requests"}, {"PATCH", "/api/v1/requests/" + id}} {
				r := ann.apiCall(call.method, call.path, "", tc.body)
				wantProblem(t, r, http.StatusUnprocessableEntity, "correct")
				wantBody(t, r, `"field":"`+tc.field+`"`)
			}
		})
	}
	t.Run("bad bodies", func(t *testing.T) {
		wantProblem(t, ann.apiCall("POST", "/api/v1/requests", "", `{"folder":"x"}`), http.StatusBadRequest, "Unknown field")
		wantProblem(t, ann.apiCall("PATCH", "/api/v1/requests/"+id, "", `{"folder_id":null}`), http.StatusBadRequest, "Unknown field")
		wantProblem(t, ann.apiCall("POST", "/api/v1/requests", "", `{"max_files":"2"}`), http.StatusBadRequest, "whole number")
		wantProblem(t, ann.apiCall("POST", "/api/v1/requests", "", `{"expires_at":"tomorrow"}`), http.StatusBadRequest, "")
		wantProblem(t, ann.apiCall("POST", "/api/v1/requests", "", `{"folder_id":"not-a-uuid"}`), http.StatusNotFound, "not found")
	})
	if got := decode[apiRequest](t, ann.get("/api/v1/requests/"+id)); got.MaxFiles != nil || got.Title != "" || got.HasPassword {
		t.Fatalf("a refused update changed the request: %+v", got)
	}
}

// TestAPIRequestsAccess runs every route for every kind of caller: no
// credentials (401), a token lacking a scope (403), the owner, and another
// user, to whom the owner's requests and folders do not exist (404).
func TestAPIRequestsAccess(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	ann, annUser := ta.shareUser(t, "ann@example.com")
	bob, _ := ta.shareUser(t, "bob@example.com")
	inbox, err := ta.files.CreateFolder(t.Context(), annUser.ID, files.CreateFolderInput{Name: "Inbox"})
	if err != nil {
		t.Fatal(err)
	}
	newRequest := func() string {
		r := ann.apiCall("POST", "/api/v1/requests", "", fmt.Sprintf(`{"folder_id":%q}`, inbox.ID))
		wantStatus(t, r, http.StatusCreated)
		return decode[apiRequest](t, r).ID
	}
	id := newRequest()

	script := ta.client(t)
	readShare := linkSecret(t, ta, annUser.ID, auth.ScopeFilesRead, auth.ScopeSharesWrite)
	readWrite := linkSecret(t, ta, annUser.ID, auth.ScopeFilesRead, auth.ScopeFilesWrite)
	writeShare := linkSecret(t, ta, annUser.ID, auth.ScopeFilesWrite, auth.ScopeSharesWrite)
	all := linkSecret(t, ta, annUser.ID, auth.ScopeFilesRead, auth.ScopeFilesWrite, auth.ScopeSharesWrite)

	type route struct {
		method, path, body string
		status             int // the owner's answer
		lacking            map[string]string
	}
	reads := map[string]string{"files:read": writeShare}
	writes := map[string]string{"files:read": writeShare, "files:write": readShare, "shares:write": readWrite}
	routes := []route{
		{"GET", "/api/v1/requests", "", http.StatusOK, reads},
		{"POST", "/api/v1/requests", fmt.Sprintf(`{"folder_id":%q}`, inbox.ID), http.StatusCreated, writes},
		{"GET", "/api/v1/requests/{id}", "", http.StatusOK, reads},
		{"PATCH", "/api/v1/requests/{id}", `{"title":"New"}`, http.StatusOK, writes},
		{"DELETE", "/api/v1/requests/{id}", "", http.StatusNoContent, writes},
	}
	for _, rt := range routes {
		path := strings.ReplaceAll(rt.path, "{id}", id)
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			t.Run("anonymous", func(t *testing.T) {
				wantProblem(t, ta.client(t).apiCall(rt.method, path, "", rt.body), http.StatusUnauthorized, "")
			})
			t.Run("token without scope", func(t *testing.T) {
				for scope, secret := range rt.lacking {
					wantProblem(t, script.apiCall(rt.method, path, secret, rt.body), http.StatusForbidden, "lacks the "+scope+" scope")
				}
			})
			t.Run("other user", func(t *testing.T) {
				r := bob.apiCall(rt.method, path, "", rt.body)
				switch {
				case rt.path == "/api/v1/requests" && rt.method == "GET":
					if l := decode[struct{ Items []apiRequest }](t, r); len(l.Items) != 0 {
						t.Fatalf("bob lists %d requests", len(l.Items))
					}
				default: // ann's request, or ann's folder
					wantProblem(t, r, http.StatusNotFound, "not found")
				}
			})
			t.Run("owner token", func(t *testing.T) {
				wantStatus(t, script.apiCall(rt.method, path, all, rt.body), rt.status)
			})
			t.Run("owner session", func(t *testing.T) {
				if rt.method == "DELETE" {
					path = "/api/v1/requests/" + newRequest()
				}
				wantStatus(t, ann.apiCall(rt.method, path, "", rt.body), rt.status)
			})
		})
	}
	wantProblem(t, ann.get("/api/v1/requests/not-a-uuid"), http.StatusNotFound, "not found")
	wantProblem(t, ann.apiCall("PATCH", "/api/v1/requests/"+id, "", `{}`), http.StatusConflict, "closed")
}
