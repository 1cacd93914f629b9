package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/shares"
)

// htmxPost posts a form as htmx does, with the target it would name.
func (c *client) htmxPost(path, target string, form url.Values) response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	if target != "" {
		req.Header.Set("HX-Target", target)
	}
	return c.do(req)
}

func (c *client) htmxGet(path, target string) response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
	req.Header.Set("HX-Request", "true")
	if target != "" {
		req.Header.Set("HX-Target", target)
	}
	return c.do(req)
}

// TestShareOwnerRoutes runs the owner's routes as the owner, another user
// and an anonymous visitor: only the owner reaches their files and links;
// someone else's ids answer 404, exactly like ids that do not exist.
func TestShareOwnerRoutes(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	ann, annUser := ta.shareUser(t, "ann@example.com")
	bob, bobUser := ta.shareUser(t, "bob@example.com")
	anon := ta.client(t)
	f := ta.uploadTo(t, annUser.ID, "", "report.pdf", []byte("pdf"))
	bobs := ta.uploadTo(t, bobUser.ID, "", "bob.txt", []byte("bob"))
	l := ta.link(t, annUser.ID, shares.CreateInput{FileIDs: []string{f.ID}, Title: "Ann's report"})
	missing := "00000000-0000-4000-8000-000000000000"

	tests := []struct {
		name   string
		c      *client
		method string
		path   string
		form   url.Values
		status int
		body   string
	}{
		{"anonymous shared page", anon, "GET", "/shared", nil, 303, ""},
		{"anonymous dialog", anon, "GET", "/share/dialog?file=" + f.ID, nil, 303, ""},
		{"anonymous create", anon, "POST", "/share/links", url.Values{"file": {f.ID}}, 303, ""},
		{"anonymous revoke", anon, "POST", "/share/links/" + l.ID + "/revoke", nil, 303, ""},
		{"owner shared page", ann, "GET", "/shared", nil, 200, "Ann&#39;s report"},
		{"other's shared page", bob, "GET", "/shared", nil, 200, "no share links yet"},
		{"owner dialog", ann, "GET", "/share/dialog?file=" + f.ID, nil, 200, "Ann&#39;s report"},
		{"other's file dialog", bob, "GET", "/share/dialog?file=" + f.ID, nil, 404, ""},
		{"missing file dialog", bob, "GET", "/share/dialog?file=" + missing, nil, 404, ""},
		{"other's link dialog", bob, "GET", "/share/dialog?link=" + l.ID, nil, 404, ""},
		{"empty dialog", ann, "GET", "/share/dialog", nil, 404, ""},
		{"files and a folder", ann, "GET", "/share/dialog?file=" + f.ID + "&folder=" + missing, nil, 422, "either files or a single folder"},
		{"two folders", ann, "GET", "/share/dialog?folder=" + missing + "&folder=" + missing, nil, 422, "single folder"},
		{"create with other's file", ann, "POST", "/share/links", url.Values{"file": {f.ID, bobs.ID}}, 404, ""},
		{"update other's link", bob, "POST", "/share/links/" + l.ID, url.Values{"title": {"mine"}}, 404, ""},
		{"update missing link", bob, "POST", "/share/links/" + missing, url.Values{"title": {"mine"}}, 404, ""},
		{"revoke other's link", bob, "POST", "/share/links/" + l.ID + "/revoke", nil, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r response
			if tt.method == "GET" {
				r = tt.c.get(tt.path)
			} else {
				r = tt.c.post(tt.path, tt.form)
			}
			wantStatus(t, r, tt.status)
			wantBody(t, r, tt.body)
		})
	}
	// Nothing bob tried changed ann's link.
	got, err := ta.shares.Find(t.Context(), annUser.ID, l.ID)
	if err != nil || got.Title != "Ann's report" || got.State != shares.StateActive {
		t.Fatalf("ann's link: %+v %v", got, err)
	}
	// An htmx request without a session is sent to the login page whole.
	r := anon.htmxGet("/share/dialog?file="+f.ID, "")
	if r.status != 204 || !strings.HasPrefix(r.header.Get("HX-Redirect"), "/login") {
		t.Fatalf("anonymous htmx: %d %v", r.status, r.header)
	}
}

// TestShareDialogFlow: create a link from the dialog, edit every option,
// revoke it; each answer is the dialog's body and tells the page.
func TestShareDialogFlow(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	ann, annUser := ta.shareUser(t, "ann@example.com")
	f := ta.uploadTo(t, annUser.ID, "", "report.pdf", []byte("pdf"))

	r := ann.htmxGet("/share/dialog?file="+f.ID, "")
	wantStatus(t, r, 200)
	wantBody(t, r, `<dialog id="share-dialog"`, "Share “report.pdf”", `name="file" value="`+f.ID+`"`, "Create link")
	// A selection of files, as the file browser's checkboxes send it.
	g := ta.uploadTo(t, annUser.ID, "", "notes.txt", []byte("n"))
	wantBody(t, ann.htmxGet("/share/dialog?file="+f.ID+"&file="+g.ID, ""), "Share 2 files", `name="file" value="`+g.ID+`"`)

	r = ann.htmxPost("/share/links", "share-dialog-body", url.Values{"file": {f.ID}, "password": {"short"}, "title": {"kept"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, `id="share-dialog-body"`, "at least 8", `value="kept"`)
	if strings.Contains(r.body, "<dialog") || strings.Contains(r.body, `value="short"`) {
		t.Fatal("a failed create answers the body only, without the password")
	}

	r = ann.htmxPost("/share/links", "share-dialog-body", url.Values{
		"file": {f.ID}, "password": {"open sesame"}, "max_downloads": {"1"}, "title": {"Q3"}, "note": {"hi"},
		"expires_at": {"2030-01-02T03:04"}, "expires_utc": {""},
	})
	wantStatus(t, r, 200)
	if r.header.Get("HX-Trigger") != "shares-changed" {
		t.Fatalf("HX-Trigger %q", r.header.Get("HX-Trigger"))
	}
	wantBody(t, r, "Link created", `id="share-url"`, "/s/", `data-copy="#share-url"`)
	ls, _ := ta.shares.List(t.Context(), annUser.ID)
	if len(ls) != 1 {
		t.Fatalf("%d links", len(ls))
	}
	l := ls[0]
	if !strings.Contains(r.body, l.URL) || !l.HasPassword || l.MaxDownloads != 1 || l.Title != "Q3" || l.Note != "hi" ||
		l.ExpiresAt == nil || !l.ExpiresAt.Equal(time.Date(2030, 1, 2, 3, 4, 0, 0, time.UTC)) {
		t.Fatalf("created %+v", l)
	}

	// Edit: the browser's zone comes as expires_utc; empty limit is none.
	r = ann.htmxPost("/share/links/"+l.ID, "share-dialog-body", url.Values{
		"title": {"Q3 final"}, "note": {""}, "max_downloads": {""}, "password": {""},
		"expires_at": {"2030-01-02T05:04"}, "expires_utc": {"2030-01-02T03:04:00.000Z"},
	})
	wantStatus(t, r, 200)
	wantBody(t, r, "Changes saved")
	got, _ := ta.shares.Find(t.Context(), annUser.ID, l.ID)
	if got.Title != "Q3 final" || got.Note != "" || got.MaxDownloads != 0 || !got.HasPassword ||
		!got.ExpiresAt.Equal(time.Date(2030, 1, 2, 3, 4, 0, 0, time.UTC)) {
		t.Fatalf("after edit %+v", got)
	}
	r = ann.htmxPost("/share/links/"+l.ID, "share-dialog-body", url.Values{"remove_password": {"1"}, "expires_at": {""}, "max_downloads": {"x"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, "whole number")
	r = ann.htmxPost("/share/links/"+l.ID, "share-dialog-body", url.Values{"remove_password": {"1"}, "expires_at": {""}, "title": {"Q3 final"}})
	wantStatus(t, r, 200)
	if got, _ := ta.shares.Find(t.Context(), annUser.ID, l.ID); got.HasPassword || got.ExpiresAt != nil {
		t.Fatalf("after removing password and expiry %+v", got)
	}
	// The dialog for the file now lists the link.
	wantBody(t, ann.htmxGet("/share/dialog?file="+f.ID, "share-dialog-body"), l.URL, "New link")

	wantStatus(t, ta.client(t).get("/s/"+l.Token), 200)
	r = ann.htmxPost("/share/links/"+l.ID+"/revoke", "share-dialog-body", nil)
	wantStatus(t, r, 200)
	wantBody(t, r, "Link revoked", "Revoked")
	if strings.Contains(r.body, `id="share-url"`) {
		t.Fatal("a revoked link still offers its URL to copy")
	}
	wantStatus(t, ta.client(t).get("/s/"+l.Token), 404)
	// Editing a revoked link is refused.
	wantStatus(t, ann.htmxPost("/share/links/"+l.ID, "share-dialog-body", url.Values{"title": {"x"}}), http.StatusConflict)
}

func TestSharedPageRevoke(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	ann, annUser := ta.shareUser(t, "ann@example.com")
	f := ta.uploadTo(t, annUser.ID, "", "a.txt", []byte("a"))
	g := ta.uploadTo(t, annUser.ID, "", "b.txt", []byte("b"))
	dir, err := ta.files.CreateFolder(t.Context(), annUser.ID, files.CreateFolderInput{Name: "Photos"})
	if err != nil {
		t.Fatal(err)
	}
	one := ta.link(t, annUser.ID, shares.CreateInput{FileIDs: []string{f.ID, g.ID}, MaxDownloads: ptrTo(3)})
	ta.link(t, annUser.ID, shares.CreateInput{FolderID: dir.ID, Password: "open sesame"})
	r := ann.get("/shared")
	wantStatus(t, r, 200)
	wantBody(t, r, "a.txt and 1 more file", "Photos", "0 of 3 downloads", "never opened", "password", `data-copy="#share-url-`+one.ID, one.URL,
		`hx-trigger="shares-changed from:body"`, `aria-current="page">Shared`)
	r = ann.htmxPost("/share/links/"+one.ID+"/revoke", "shared-links", nil)
	wantStatus(t, r, 200)
	wantBody(t, r, `id="shared-links"`, "Revoked")
	if r.header.Get("HX-Trigger") != "" {
		t.Error("the list's own revoke should not make it reload itself")
	}
	if strings.Contains(r.body, "<html") {
		t.Error("the revoke answer is a whole page")
	}
	wantStatus(t, ta.client(t).get("/s/"+one.Token), 404)
	// Without htmx: back to the page.
	r = ann.post("/share/links/"+one.ID+"/revoke", nil)
	if r.status != 303 || r.header.Get("Location") != "/shared" {
		t.Fatalf("plain revoke: %d %v", r.status, r.header)
	}
}

// TestShareCrossOrigin: the owner's state changes refuse cross-site posts
// (CSRF), htmx and plain forms alike.
func TestShareCrossOrigin(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	ann, annUser := ta.shareUser(t, "ann@example.com")
	f := ta.uploadTo(t, annUser.ID, "", "a.txt", []byte("a"))
	l := ta.link(t, annUser.ID, shares.CreateInput{FileIDs: []string{f.ID}})
	for _, path := range []string{"/share/links", "/share/links/" + l.ID, "/share/links/" + l.ID + "/revoke", "/s/" + l.Token} {
		req, _ := http.NewRequest(http.MethodPost, ann.base+path, strings.NewReader(url.Values{"file": {f.ID}, "title": {"x"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.example")
		wantStatus(t, ann.do(req), http.StatusForbidden)
	}
	if got, _ := ta.shares.Find(t.Context(), annUser.ID, l.ID); got.Title != "" || got.State != shares.StateActive {
		t.Fatalf("link changed by a cross-site post: %+v", got)
	}
}
