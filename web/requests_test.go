package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/ratelimit"
	"github.com/weupload/weupload/internal/shares"
)

// requestSend runs the upload protocol through an upload link for a small
// file and returns the complete call's answer.
func requestSend(t testing.TB, c *client, token, name string, data []byte) response {
	t.Helper()
	r := c.apiCall("POST", "/r/"+token+"/uploads", "", fmt.Sprintf(`{"name":%q,"size":%d,"content_type":"text/plain"}`, name, len(data)))
	if r.status != http.StatusCreated {
		return r
	}
	u := decode[apiUploadURLs](t, r)
	if st, _ := put(t, u.URL, u.Headers, data); st != http.StatusOK {
		t.Fatalf("PUT: %d", st)
	}
	return c.apiCall("POST", "/r/"+token+"/uploads/"+u.ID+"/complete", "", "")
}

func tokenFrom(u string) string { return u[strings.LastIndex(u, "/")+1:] }

// TestUploadRequestFlow: the owner makes an upload link for a folder in the
// share dialog; someone without an account sends files through it into
// that folder (charged to the owner), within its limits; the owner sees
// them arrive and closes it.
func TestUploadRequestFlow(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	ann, annUser := ta.shareUser(t, "ann@example.com")
	bob, _ := ta.shareUser(t, "bob@example.com")
	inbox, err := ta.files.CreateFolder(t.Context(), annUser.ID, files.CreateFolderInput{Name: "Inbox"})
	if err != nil {
		t.Fatal(err)
	}
	ta.uploadTo(t, annUser.ID, inbox.ID, "secret-plans.txt", []byte("the owner's"))

	r := ann.htmxGet("/share/dialog?folder="+inbox.ID, "")
	wantBody(t, r, "Upload request", `id="share-request-form"`)
	r = ann.htmxPost("/share/requests", "share-dialog-body", url.Values{"folder": {inbox.ID}, "request_max_files": {"x"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, "whole number")
	wantStatus(t, bob.htmxPost("/share/requests", "share-dialog-body", url.Values{"folder": {inbox.ID}}), 404)
	r = ann.htmxPost("/share/requests", "share-dialog-body", url.Values{
		"folder": {inbox.ID}, "request_message": {"Your photos, please"}, "request_max_files": {"2"}, "request_max_mib": {"1"},
	})
	wantStatus(t, r, 200)
	wantBody(t, r, "Upload link created", "/r/")
	rs, _ := ta.shares.ListRequests(t.Context(), annUser.ID, false, "")
	if len(rs) != 1 || rs[0].MaxFiles != 2 || rs[0].MaxBytes != 1<<20 || rs[0].Message != "Your photos, please" {
		t.Fatalf("requests %+v", rs)
	}
	req := rs[0]
	token := tokenFrom(req.URL)
	if !strings.Contains(r.body, req.URL) {
		t.Fatal("the dialog does not show the new link")
	}

	up := ta.client(t)
	page := up.get("/r/" + token)
	wantStatus(t, page, 200)
	wantBody(t, page, "ann asks you for files", "Your photos, please", "Up to 2 more files", `data-upload-pick="files"`, `data-upload-api="/r/`+token+`/uploads"`)
	if strings.Contains(page.body, "secret-plans") || page.header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatal("the uploader page shows the folder or lacks no-referrer")
	}
	// A taken name is renamed, without telling the uploader.
	r = requestSend(t, up, token, "secret-plans.txt", []byte("mine"))
	wantStatus(t, r, 200)
	if strings.Contains(r.body, "secret-plans") || strings.Contains(r.body, inbox.ID) {
		t.Fatalf("complete tells the uploader about the folder: %s", r.body)
	}
	p, err := ta.files.List(t.Context(), annUser.ID, files.ListInput{FolderID: inbox.ID})
	if err != nil || len(p.Files) != 2 {
		t.Fatalf("inbox: %d files %v", len(p.Files), err)
	}
	// Too big for what is left, then the last place, then none left.
	wantProblem(t, requestSend(t, up, token, "big.bin", make([]byte, 1<<20)), http.StatusConflict, "does not fit")
	wantStatus(t, requestSend(t, up, token, "second.txt", []byte("two")), 200)
	wantProblem(t, requestSend(t, up, token, "third.txt", []byte("3")), http.StatusConflict, "at most 2 files")
	wantBody(t, up.get("/r/"+token), "takes no more files")
	// The uploader may say nothing about where files go.
	wantProblem(t, up.apiCall("POST", "/r/"+token+"/uploads", "", `{"name":"x","size":1,"folder_id":null}`), 400, "Unknown field")
	// Nor reach anything else.
	wantStatus(t, up.get("/api/v1/folders/"+inbox.ID+"/items"), 401)

	wantBody(t, ann.get("/shared"), "Upload requests", "2 files received")
	wantStatus(t, bob.htmxPost("/share/requests/"+req.ID+"/close", "shared-requests", nil), 404)
	r = ann.htmxPost("/share/requests/"+req.ID+"/close", "shared-requests", nil)
	wantStatus(t, r, 200)
	wantBody(t, r, `id="shared-requests"`, "Closed")
	r = up.get("/r/" + token)
	wantStatus(t, r, http.StatusGone)
	wantBody(t, r, "closed")
	wantProblem(t, requestSend(t, up, token, "late.txt", []byte("late")), http.StatusGone, "closed")
	if p, _ := ta.files.List(t.Context(), annUser.ID, files.ListInput{FolderID: inbox.ID}); len(p.Files) != 3 {
		t.Fatalf("after closing: %d files", len(p.Files))
	}
	wantStatus(t, up.get("/r/"+strings.Repeat("x", len(token))), 404)
}

func TestUploadRequestPassword(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	_, annUser := ta.shareUser(t, "ann@example.com")
	req, err := ta.shares.CreateRequest(t.Context(), annUser.ID, shares.CreateRequestInput{Password: "drop it here"})
	if err != nil {
		t.Fatal(err)
	}
	token := tokenFrom(req.URL)
	up := ta.client(t)
	wantBody(t, up.get("/r/"+token), "This upload link is protected", `name="password"`)
	wantProblem(t, requestSend(t, up, token, "a.txt", []byte("a")), http.StatusUnauthorized, "password")
	wantStatus(t, up.post("/r/"+token, url.Values{"password": {"nope nope"}}), http.StatusUnprocessableEntity)
	r := up.post("/r/"+token, url.Values{"password": {"drop it here"}})
	wantStatus(t, r, http.StatusSeeOther)
	wantBody(t, up.get("/r/"+token), `data-upload-api=`)
	wantStatus(t, requestSend(t, up, token, "a.txt", []byte("a")), 200)
	// Another visitor still needs the password.
	wantProblem(t, requestSend(t, ta.client(t), token, "b.txt", []byte("b")), http.StatusUnauthorized, "password")
}

// TestUploadRequestUploadState: the uploader's page reads the state of its
// own uploads to resume them, and learns nothing of the owner's folder or
// file; other uploads are not found.
func TestUploadRequestUploadState(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	ann, annUser := ta.shareUser(t, "ann@example.com")
	req, err := ta.shares.CreateRequest(t.Context(), annUser.ID, shares.CreateRequestInput{})
	if err != nil {
		t.Fatal(err)
	}
	token := tokenFrom(req.URL)
	up := ta.client(t)
	r := up.apiCall("POST", "/r/"+token+"/uploads", "", `{"name":"a.txt","size":1}`)
	wantStatus(t, r, http.StatusCreated)
	id := decode[apiUploadURLs](t, r).ID
	r = up.get("/r/" + token + "/uploads/" + id)
	wantStatus(t, r, http.StatusOK)
	if got := keys(t, r.body); strings.Join(got, ",") != "expires_at,id,mode,name,parts,size,state" {
		t.Fatalf("state keys %v", got)
	}
	wantBody(t, r, `"state":"pending"`, `"parts":[]`)
	own := decode[apiUploadURLs](t, ann.apiCall("POST", "/api/v1/uploads", "", `{"name":"mine.txt","size":1}`))
	wantProblem(t, up.get("/r/"+token+"/uploads/"+own.ID), http.StatusNotFound, "not found")
	wantProblem(t, up.get("/r/"+token+"/uploads/nope"), http.StatusNotFound, "not found")
}

// TestUploadRequestRateLimit: an uploader's JSON calls count per upload
// link and per client IP, with the API's rules; a call refused per link is
// not counted per IP. The metrics count what uploaders do.
func TestUploadRequestRateLimit(t *testing.T) {
	ta := newFilesTestApp(t, nil, func(a *app) {
		a.apiRules = apiRules{Caller: ratelimit.Rule{Limit: 3, Window: time.Minute}, IP: ratelimit.Rule{Limit: 5, Window: time.Minute}}
	})
	_, annUser := ta.shareUser(t, "ann@example.com")
	var tokens []string
	for range 2 {
		req, err := ta.shares.CreateRequest(t.Context(), annUser.ID, shares.CreateRequestInput{})
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, tokenFrom(req.URL))
	}
	up := ta.client(t)
	views, initiated, completed := requestEvents(t, ta, "view"), requestEvents(t, ta, "initiated"), requestEvents(t, ta, "completed")
	wantStatus(t, up.get("/r/"+tokens[0]), http.StatusOK)                             // pages are not counted
	wantStatus(t, requestSend(t, up, tokens[0], "a.txt", []byte("a")), http.StatusOK) // calls 1 and 2
	wantProblem(t, up.get("/r/"+tokens[0]+"/uploads/nope"), http.StatusNotFound, "not found")
	r := up.get("/r/" + tokens[0] + "/uploads/nope")
	wantProblem(t, r, http.StatusTooManyRequests, "")
	if r.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// The other link has its own count, but the address is near its limit
	// (3 calls counted; the refused one is not).
	wantProblem(t, up.get("/r/"+tokens[1]+"/uploads/nope"), http.StatusNotFound, "not found")
	wantProblem(t, up.get("/r/"+tokens[1]+"/uploads/nope"), http.StatusNotFound, "not found")
	wantProblem(t, up.get("/r/"+tokens[1]+"/uploads/nope"), http.StatusTooManyRequests, "")
	if requestEvents(t, ta, "view")-views != 1 || requestEvents(t, ta, "initiated")-initiated != 1 || requestEvents(t, ta, "completed")-completed != 1 {
		t.Errorf("metrics: views %v, initiated %v, completed %v", requestEvents(t, ta, "view")-views,
			requestEvents(t, ta, "initiated")-initiated, requestEvents(t, ta, "completed")-completed)
	}
}

// requestEvents reads the upload-request events counter.
func requestEvents(t testing.TB, ta *testApp, event string) float64 {
	t.Helper()
	var m dto.Metric
	if err := ta.metrics.requestEvents.WithLabelValues(event).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
