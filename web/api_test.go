package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weupload/weupload/internal/auth"
	"github.com/weupload/weupload/internal/blob/blobtest"
	"github.com/weupload/weupload/internal/ratelimit"
)

// newToken makes a token through the API with the signed-in client c and
// returns its id and secret.
func newToken(t testing.TB, c *client, body string) (id, secret string) {
	t.Helper()
	r := c.apiCall("POST", "/api/v1/tokens", "", body)
	wantStatus(t, r, http.StatusCreated)
	tok := decode[struct{ ID, Token string }](t, r)
	return tok.ID, tok.Token
}

// scopedToken makes a token with the given scopes.
func scopedToken(t testing.TB, c *client, scopes ...string) string {
	t.Helper()
	_, secret := newToken(t, c, fmt.Sprintf(`{"name":"test","scopes":["%s"]}`, strings.Join(scopes, `","`)))
	return secret
}

func TestAPIMe(t *testing.T) {
	ta := newFilesTestApp(t, map[string]string{"DEFAULT_QUOTA": "1GiB"})
	c := ta.loggedIn(t, "ann@example.com")
	uploadViaAPI(t, c, "a.txt", []byte("12345"))

	r := c.get("/api/v1/me")
	wantStatus(t, r, http.StatusOK)
	me := decode[struct {
		Email  string
		Scopes []string
		Token  *struct{ ID string }
		Usage  struct{ Used, Reserved, Quota int64 }
	}](t, r)
	if me.Email != "ann@example.com" || len(me.Scopes) != len(auth.Scopes) || me.Token != nil || me.Usage.Used != 5 || me.Usage.Quota != 1<<30 {
		t.Fatalf("session: %+v", me)
	}

	id, secret := newToken(t, c, `{"name":"ci","scopes":["files:read"]}`)
	r = ta.client(t).apiCall("GET", "/api/v1/me", secret, "")
	wantStatus(t, r, http.StatusOK)
	me = decode[struct {
		Email  string
		Scopes []string
		Token  *struct{ ID string }
		Usage  struct{ Used, Reserved, Quota int64 }
	}](t, r)
	if !slices.Equal(me.Scopes, []string{"files:read"}) || me.Token == nil || me.Token.ID != id {
		t.Fatalf("token: %+v", me)
	}
}

// listNames pages through a listing with limit 2 and returns the names in
// order.
func listNames(t testing.TB, c *client, path string) []string {
	t.Helper()
	var names []string
	next := ""
	for range 20 {
		p := path + "limit=2"
		if next != "" {
			p += "&cursor=" + next
		}
		r := c.get(p)
		wantStatus(t, r, http.StatusOK)
		page := decode[struct {
			Items   []struct{ Name string }
			Folders []struct{ Name string }
			Files   []struct{ Name string }
			Next    *string
		}](t, r)
		for _, e := range slices.Concat(page.Items, page.Folders, page.Files) {
			names = append(names, e.Name)
		}
		if page.Next == nil {
			return names
		}
		next = *page.Next
	}
	t.Fatalf("%s: no last page", path)
	return nil
}

func TestAPIListFilesAndFolders(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	c := ta.loggedIn(t, "ann@example.com")
	var alpha string
	// The root as parent: left out, null, or "" (what the upload module sends).
	for i, name := range []string{"Beta", "Alpha", "Gamma"} {
		r := c.apiCall("POST", "/api/v1/folders", "", fmt.Sprintf(`{"name":%q%s}`, name, []string{``, `,"parent_id":null`, `,"parent_id":""`}[i]))
		wantStatus(t, r, http.StatusCreated)
		if name == "Alpha" {
			alpha = decode[struct{ ID string }](t, r).ID
		}
	}
	uploadViaAPI(t, c, "root.txt", []byte("r"))
	f := uploadViaAPI(t, c, "inner.txt", []byte("i"))
	wantStatus(t, c.apiCall("POST", "/api/v1/files/"+f.ID+"/move", "", fmt.Sprintf(`{"folder_id":%q}`, alpha)), http.StatusOK)

	tests := []struct {
		name, path string
		want       []string
	}{
		{"root", "/api/v1/files?", []string{"Alpha", "Beta", "Gamma", "root.txt"}},
		{"root by name", "/api/v1/files?folder_id=root&", []string{"Alpha", "Beta", "Gamma", "root.txt"}},
		{"root, newest first", "/api/v1/files?sort=date&order=desc&", []string{"Gamma", "Alpha", "Beta", "root.txt"}},
		{"a folder", "/api/v1/files?folder_id=" + alpha + "&", []string{"inner.txt"}},
		{"search", "/api/v1/files?q=T.TXT&", []string{"root.txt"}},
		{"search everywhere", "/api/v1/files?q=txt&", []string{"inner.txt", "root.txt"}},
		{"folders", "/api/v1/folders?", []string{"Alpha", "Beta", "Gamma"}},
		{"folders of a folder", "/api/v1/folders?parent_id=" + alpha + "&", nil},
		{"folder items", "/api/v1/folders/root/items?", []string{"Alpha", "Beta", "Gamma", "root.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := listNames(t, c, tt.path); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("errors", func(t *testing.T) {
		r := c.get("/api/v1/files?q=x&folder_id=root&sort=size")
		wantProblem(t, r, http.StatusUnprocessableEntity, "correct")
		wantBody(t, r, `"field":"folder_id"`, `"field":"sort"`)
		wantProblem(t, c.get("/api/v1/files?folder_id=00000000-0000-4000-8000-000000000000"), http.StatusNotFound, "not found")
		wantProblem(t, c.get("/api/v1/folders?parent_id=00000000-0000-4000-8000-000000000000"), http.StatusNotFound, "not found")
		wantProblem(t, c.get("/api/v1/files?limit=0"), http.StatusUnprocessableEntity, "correct")
		wantProblem(t, c.get("/api/v1/files?order=up"), http.StatusUnprocessableEntity, "correct")
		wantProblem(t, c.get("/api/v1/files?q="), http.StatusUnprocessableEntity, "correct")
	})
}

func TestAPIConditionalUpdates(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	c := ta.loggedIn(t, "ann@example.com")
	f := uploadViaAPI(t, c, "draft.txt", []byte("d"))
	r := c.apiCall("POST", "/api/v1/folders", "", `{"name":"Docs"}`)
	wantStatus(t, r, http.StatusCreated)
	docs := decode[struct{ ID string }](t, r).ID
	folderTag := r.header.Get("ETag")

	// call sends a JSON request with If-Match (none when ifMatch is "").
	call := func(path, ifMatch, body string) response {
		t.Helper()
		req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if ifMatch != "" {
			req.Header.Set("If-Match", ifMatch)
		}
		return c.do(req)
	}
	r = c.get("/api/v1/files/" + f.ID)
	wantStatus(t, r, http.StatusOK)
	v1 := r.header.Get("ETag")
	if !strings.HasPrefix(v1, `"`) {
		t.Fatalf("ETag %q", v1)
	}

	r = call("/api/v1/files/"+f.ID+"/rename", v1, `{"name":"final.txt"}`)
	wantStatus(t, r, http.StatusOK)
	v2 := r.header.Get("ETag")
	if v2 == v1 || c.get("/api/v1/files/"+f.ID).header.Get("ETag") != v2 {
		t.Fatalf("versions %s, %s", v1, v2)
	}
	stale := []struct{ name, path, ifMatch, body string }{
		{"rename from an old version", "/api/v1/files/" + f.ID + "/rename", v1, `{"name":"lost.txt"}`},
		{"move from an old version", "/api/v1/files/" + f.ID + "/move", v1, fmt.Sprintf(`{"folder_id":%q}`, docs)},
		{"a weak tag", "/api/v1/files/" + f.ID + "/rename", "W/" + v2, `{"name":"lost.txt"}`},
		{"a tag not ours", "/api/v1/files/" + f.ID + "/rename", `"not-a-version"`, `{"name":"lost.txt"}`},
		{"a folder from another version", "/api/v1/folders/" + docs + "/rename", v2, `{"name":"Lost"}`},
	}
	for _, tt := range stale {
		t.Run(tt.name, func(t *testing.T) {
			r := call(tt.path, tt.ifMatch, tt.body)
			wantProblem(t, r, http.StatusPreconditionFailed, "changed since")
			wantBody(t, r, `"code":"stale"`)
		})
	}
	if got := decode[apiFile](t, c.get("/api/v1/files/"+f.ID)); got.Name != "final.txt" || got.FolderID != nil {
		t.Fatalf("a refused update changed the file: %+v", got)
	}

	r = call("/api/v1/files/"+f.ID+"/move", `"x", `+v2, fmt.Sprintf(`{"folder_id":%q}`, docs))
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, `"folder_id":"`+docs)
	wantStatus(t, call("/api/v1/files/"+f.ID+"/rename", "*", `{"name":"any.txt"}`), http.StatusOK)
	// If-Match is optional: without it the last change wins.
	wantStatus(t, call("/api/v1/files/"+f.ID+"/rename", "", `{"name":"last.txt"}`), http.StatusOK)

	if got := c.get("/api/v1/folders/" + docs).header.Get("ETag"); got != folderTag {
		t.Fatalf("folder ETag %s after create, %s on GET", folderTag, got)
	}
	r = call("/api/v1/folders/"+docs+"/rename", folderTag, `{"name":"Papers"}`)
	wantStatus(t, r, http.StatusOK)
	wantStatus(t, call("/api/v1/folders/"+docs+"/move", r.header.Get("ETag"), `{"folder_id":null}`), http.StatusOK)
	wantProblem(t, call("/api/v1/folders/"+docs+"/move", folderTag, `{"folder_id":null}`), http.StatusPreconditionFailed, "changed since")
}

func TestAPIRestoreItems(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	c := ta.loggedIn(t, "ann@example.com")
	f := uploadViaAPI(t, c, "a.txt", []byte("a"))
	r := c.apiCall("POST", "/api/v1/folders", "", `{"name":"Docs"}`)
	docs := decode[struct{ ID string }](t, r).ID

	for _, item := range []struct{ kind, id string }{{"files", f.ID}, {"folders", docs}} {
		t.Run(item.kind, func(t *testing.T) {
			path := "/api/v1/" + item.kind + "/" + item.id
			wantStatus(t, c.apiCall("DELETE", path, "", ""), http.StatusNoContent)
			wantStatus(t, c.get(path), http.StatusNotFound)
			wantBody(t, c.get("/api/v1/trash"), `"id":"`+item.id)
			wantStatus(t, c.apiCall("POST", path+"/restore", "", ""), http.StatusNoContent)
			wantStatus(t, c.get(path), http.StatusOK)
			wantProblem(t, c.apiCall("POST", path+"/restore", "", ""), http.StatusNotFound, "not found")
		})
	}
}

// TestAPIScopes calls every operation of the document with a token that
// lacks the scope the document names for it (403, before anything else
// happens), and the operations that need no scope with a token of another
// scope (allowed).
func TestAPIScopes(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	c := ta.loggedIn(t, "ann@example.com")
	f := uploadViaAPI(t, c, "keep.txt", []byte("k"))
	lacking := map[string]string{
		"files:read":   scopedToken(t, c, "shares:write"),
		"files:write":  scopedToken(t, c, "files:read"),
		"shares:write": scopedToken(t, c, "files:read", "files:write"),
		"tokens:write": scopedToken(t, c, "files:read", "files:write", "shares:write"),
	}
	any := scopedToken(t, c, "shares:write")
	const someID = "0b7e6c3e-5a2f-4c1d-9a8e-3f2b1c0d9e8f"

	script := ta.client(t)
	for _, op := range script.spec.operations() {
		method, path, _ := strings.Cut(op, " ")
		scopes, secured := requiredScopes(script.spec, method, strings.TrimPrefix(path, "/api/v1"))
		path = strings.NewReplacer("{id}", someID).Replace(path)
		body := ""
		if method == "POST" || method == "PATCH" {
			body = "{}"
		}
		t.Run(op, func(t *testing.T) {
			switch {
			case !secured:
				r := ta.client(t).apiCall(method, path, "", "")
				if r.status >= 400 {
					t.Fatalf("without credentials: %d", r.status)
				}
			case len(scopes) > 0:
				for _, scope := range scopes {
					r := script.apiCall(method, path, lacking[scope], body)
					wantProblem(t, r, http.StatusForbidden, "lacks the "+scope+" scope")
				}
			default:
				r := script.apiCall(method, path, any, body)
				if r.status == http.StatusForbidden || r.status == http.StatusUnauthorized {
					t.Fatalf("a token of any scope was refused: %d %s", r.status, r.body)
				}
			}
		})
	}
	t.Run("a files:read token cannot upload, change, delete or share", func(t *testing.T) {
		read := lacking["files:write"]
		wantProblem(t, script.apiCall("POST", "/api/v1/uploads", read, `{"name":"x.txt","size":1}`), http.StatusForbidden, "files:write")
		wantProblem(t, script.apiCall("DELETE", "/api/v1/files/"+f.ID, read, ""), http.StatusForbidden, "files:write")
		wantProblem(t, script.apiCall("POST", "/api/v1/links", read, fmt.Sprintf(`{"file_ids":[%q]}`, f.ID)), http.StatusForbidden, "shares:write")
		wantStatus(t, script.apiCall("GET", "/api/v1/files/"+f.ID, read, ""), http.StatusOK)
	})
	t.Run("an upload request's url only for a token that could make it", func(t *testing.T) {
		r := c.apiCall("POST", "/api/v1/requests", "", `{}`)
		wantStatus(t, r, http.StatusCreated)
		req := decode[struct{ ID, URL string }](t, r)
		for _, tc := range []struct {
			name, token string
			visible     bool
		}{
			{"files:read", lacking["files:write"], false},
			{"files:read, shares:write", scopedToken(t, c, "files:read", "shares:write"), false},
			{"files:read, files:write", lacking["shares:write"], false},
			{"files:read, files:write, shares:write", lacking["tokens:write"], true},
		} {
			list := script.apiCall("GET", "/api/v1/requests", tc.token, "")
			one := script.apiCall("GET", "/api/v1/requests/"+req.ID, tc.token, "")
			wantStatus(t, list, http.StatusOK)
			wantStatus(t, one, http.StatusOK)
			for _, r := range []response{list, one} {
				if got := strings.Contains(r.body, req.URL); got != tc.visible {
					t.Errorf("%s: url shown %v, want %v:\n%s", tc.name, got, tc.visible, r.body)
				}
			}
			if !tc.visible {
				wantBody(t, one, `"url":null`)
			}
		}
		wantBody(t, c.get("/api/v1/requests"), req.URL) // the session has every scope
	})
	t.Run("a token cannot manage tokens without tokens:write, nor stronger ones", func(t *testing.T) {
		strong, _ := newToken(t, c, `{"name":"strong","scopes":["files:read","files:write","shares:write","tokens:write"]}`)
		weakID, _ := newToken(t, c, `{"name":"weak","scopes":["files:read"]}`)
		_, manager := newToken(t, c, `{"name":"manager","scopes":["files:read","tokens:write"]}`)
		read := lacking["files:write"]
		wantProblem(t, script.apiCall("DELETE", "/api/v1/tokens/"+strong, read, ""), http.StatusForbidden, "lacks the tokens:write scope")
		wantProblem(t, script.apiCall("POST", "/api/v1/tokens", read, `{"name":"x","scopes":["files:read"]}`), http.StatusForbidden, "lacks the tokens:write scope")
		wantProblem(t, script.apiCall("DELETE", "/api/v1/tokens/"+strong, manager, ""), http.StatusForbidden, "files:write")
		wantProblem(t, script.apiCall("POST", "/api/v1/tokens", manager, `{"name":"x","scopes":["files:write"]}`), http.StatusUnprocessableEntity, "correct")
		wantBody(t, c.get("/api/v1/tokens"), strong)
		wantStatus(t, script.apiCall("DELETE", "/api/v1/tokens/"+weakID, manager, ""), http.StatusNoContent)
		wantStatus(t, script.apiCall("POST", "/api/v1/tokens", manager, `{"name":"x","scopes":["files:read"]}`), http.StatusCreated)
		wantStatus(t, c.apiCall("DELETE", "/api/v1/tokens/"+strong, "", ""), http.StatusNoContent) // the session may
		wantBody(t, c.get("/account"), `value="tokens:write"`)                                     // the token form offers it
	})
}

// requiredScopes returns the bearer scopes an operation names (none for
// the operations any token may call) and whether it needs credentials.
func requiredScopes(v *specValidator, method, path string) (scopes []string, secured bool) {
	op := v.doc.Paths.Value(path).GetOperation(method)
	reqs := v.doc.Security
	if op.Security != nil {
		reqs = *op.Security
	}
	for _, req := range reqs {
		if scopes, ok := req["bearerAuth"]; ok {
			return scopes, true
		}
	}
	return nil, len(reqs) > 0
}

func TestAPITokenRevokedOrExpired(t *testing.T) {
	clock := blobtest.NewClock(time.Now())
	ta := newFilesTestApp(t, nil, func(a *app) { a.auth.Now = clock.Now })
	c := ta.loggedIn(t, "ann@example.com")
	script := ta.client(t)

	t.Run("revoked", func(t *testing.T) {
		id, secret := newToken(t, c, `{"name":"ci","scopes":["files:read"]}`)
		wantStatus(t, script.apiCall("GET", "/api/v1/files", secret, ""), http.StatusOK)
		wantStatus(t, c.apiCall("DELETE", "/api/v1/tokens/"+id, "", ""), http.StatusNoContent)
		wantProblem(t, script.apiCall("GET", "/api/v1/files", secret, ""), http.StatusUnauthorized, "expired or revoked")
	})
	t.Run("expired", func(t *testing.T) {
		expiry := clock.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		_, secret := newToken(t, c, `{"name":"ci","scopes":["files:read"],"expires_at":"`+expiry+`"}`)
		wantStatus(t, script.apiCall("GET", "/api/v1/files", secret, ""), http.StatusOK)
		clock.Advance(time.Hour)
		wantProblem(t, script.apiCall("GET", "/api/v1/files", secret, ""), http.StatusUnauthorized, "expired or revoked")
	})
}

// TestAPIBadBodies sends malformed bodies to every operation that takes
// one: each is a 400 problem, and the document refuses it too.
func TestAPIBadBodies(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	c := ta.loggedIn(t, "ann@example.com")
	const id = "0b7e6c3e-5a2f-4c1d-9a8e-3f2b1c0d9e8f"
	ops := []struct{ path, wrongType, field, kind string }{
		{"/api/v1/tokens", `{"name":5}`, "name", "string"},
		{"/api/v1/folders", `{"name":["a"]}`, "name", "string"},
		{"/api/v1/folders/" + id + "/rename", `{"name":true}`, "name", "string"},
		{"/api/v1/folders/" + id + "/move", `{"folder_id":5}`, "folder_id", "string"},
		{"/api/v1/files/" + id + "/rename", `{"name":{}}`, "name", "string"},
		{"/api/v1/files/" + id + "/move", `{"on_conflict":1}`, "on_conflict", "string"},
		{"/api/v1/items/move", `{"files":"a"}`, "files", "list"},
		{"/api/v1/items/trash", `{"folders":{}}`, "folders", "list"},
		{"/api/v1/trash/restore", `{"files":[1]}`, "files", "string"},
		{"/api/v1/uploads", `{"name":"a","size":"1"}`, "size", "whole number"},
		{"/api/v1/uploads/" + id + "/parts", `{"numbers":[1.5]}`, "numbers", "whole number"},
		{"/api/v1/uploads/" + id + "/complete", `{"parts":{}}`, "parts", "list"},
	}
	huge := `{"padding":"` + strings.Repeat("x", 2<<20) + `"}`
	for _, op := range ops {
		cases := []struct{ name, contentType, body, detail string }{
			{"malformed JSON", "application/json", `{"name":`, "not valid JSON"},
			{"unknown field", "application/json", `{"owner_id":"x"}`, `Unknown field "owner_id"`},
			{"wrong type", "application/json", op.wrongType, fmt.Sprintf("%q must be a %s", op.field, op.kind)},
			{"two objects", "application/json", `{}{}`, "exactly one"},
			{"not JSON", "text/plain", `{}`, "Content-Type: application/json"},
			{"huge", "application/json", huge, "too large"},
		}
		for _, tt := range cases {
			t.Run(op.path+"/"+tt.name, func(t *testing.T) {
				req, _ := http.NewRequest("POST", c.base+op.path, strings.NewReader(tt.body))
				req.Header.Set("Content-Type", tt.contentType)
				wantProblem(t, c.do(req), http.StatusBadRequest, tt.detail)
				wantSpecRefuses(t, c, req, tt.body)
			})
		}
	}
}

// wantSpecRefuses fails when the OpenAPI document accepts a request the
// server refused as malformed.
func wantSpecRefuses(t testing.TB, c *client, req *http.Request, body string) {
	t.Helper()
	if c.spec.refuses(req, []byte(body)) == nil {
		t.Errorf("the server refuses %s %s with %.80q, but the document accepts it", req.Method, req.URL.Path, body)
	}
}

func TestAPIRateLimits(t *testing.T) {
	ta := newFilesTestApp(t, nil, func(a *app) {
		a.apiRules.Caller = ratelimit.Rule{Limit: 3, Window: time.Minute}
		a.apiRules.IP = ratelimit.Rule{Limit: 6, Window: time.Minute}
	})
	c := ta.loggedIn(t, "ann@example.com")
	first := scopedToken(t, c, "files:read") // API request 1 from this IP
	script := ta.client(t)
	for range 3 {
		wantStatus(t, script.apiCall("GET", "/api/v1/me", first, ""), http.StatusOK)
	}
	r := script.apiCall("GET", "/api/v1/me", first, "")
	wantProblem(t, r, http.StatusTooManyRequests, "try again")
	wantBody(t, r, `"code":"too_many_requests"`)
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}

	// Per caller: another token of the same user still works, until the
	// limit per IP stops every caller from this address (a request refused
	// per caller is not counted per IP).
	second := scopedToken(t, c, "files:read") // 5
	wantStatus(t, script.apiCall("GET", "/api/v1/me", second, ""), http.StatusOK)
	r = script.apiCall("GET", "/api/v1/me", second, "")
	wantProblem(t, r, http.StatusTooManyRequests, "try again")
	if r.header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
}

// TestAPIEndToEndS3 is a script's whole upload through the S3 store, with a
// token and a plain HTTP client: it makes a folder, uploads 20 MiB in
// parts straight to the store (parallel PUTs to the URLs the API returned,
// with exactly their headers), resumes from the stored parts, completes,
// finds the file and downloads it from the URL the API gives.
func TestAPIEndToEndS3(t *testing.T) {
	ta, cfg := newS3TestApp(t, map[string]string{"UPLOAD_MULTIPART_THRESHOLD": "5MiB", "UPLOAD_PART_SIZE": "5MiB"})
	token := scopedToken(t, ta.loggedIn(t, "ann@example.com"), "files:read", "files:write", "shares:write")
	script := ta.client(t)
	call := func(method, path, body string) response {
		t.Helper()
		return script.apiCall(method, path, token, body)
	}

	r := call("POST", "/api/v1/folders", `{"name":"backups"}`)
	wantStatus(t, r, http.StatusCreated)
	folder := decode[struct{ ID string }](t, r).ID

	data := randomData(20 << 20)
	r = call("POST", "/api/v1/uploads", fmt.Sprintf(`{"name":"db.dump","size":%d,"folder_id":%q,"content_type":"application/octet-stream"}`, len(data), folder))
	wantStatus(t, r, http.StatusCreated)
	u := decode[apiUploadURLs](t, r)
	if u.Mode != "multipart" || u.PartSize != 5<<20 || len(u.Parts) != 4 {
		t.Fatalf("upload %+v", u)
	}
	for _, p := range u.Parts {
		if !strings.HasPrefix(p.URL, cfg.Endpoint) {
			t.Fatalf("part URL %s is not the store's", p.URL)
		}
	}
	// Parts 1-3 in parallel; then, as after a crash, the stored parts are
	// read back and only part 4 is sent, with a fresh URL.
	etags := make([]string, len(u.Parts))
	var wg sync.WaitGroup
	for i, p := range u.Parts[:3] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, etag := put(t, p.URL, p.Headers, data[int64(i)*u.PartSize:int64(i+1)*u.PartSize])
			if st != http.StatusOK || etag == "" {
				t.Errorf("PUT part %d: %d %q", p.Number, st, etag)
			}
			etags[i] = etag
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	r = call("GET", "/api/v1/uploads/"+u.ID, "")
	wantStatus(t, r, http.StatusOK)
	state := decode[struct {
		State string
		Parts []struct {
			Number int32
			ETag   string
		}
	}](t, r)
	if state.State != "pending" || len(state.Parts) != 3 || state.Parts[2].ETag != etags[2] {
		t.Fatalf("state %+v", state)
	}
	r = call("POST", "/api/v1/uploads/"+u.ID+"/parts", `{"numbers":[4]}`)
	wantStatus(t, r, http.StatusOK)
	last := decode[apiUploadURLs](t, r).Parts[0]
	st, etag := put(t, last.URL, last.Headers, data[3*u.PartSize:])
	if st != http.StatusOK {
		t.Fatalf("PUT part 4: %d", st)
	}
	etags[3] = etag

	var parts []string
	for i, e := range etags {
		parts = append(parts, fmt.Sprintf(`{"number":%d,"etag":%q}`, i+1, e))
	}
	r = call("POST", "/api/v1/uploads/"+u.ID+"/complete", `{"parts":[`+strings.Join(parts, ",")+`]}`)
	wantStatus(t, r, http.StatusOK)
	f := decode[apiFile](t, r)
	if f.Size != int64(len(data)) || f.FolderID == nil || *f.FolderID != folder || r.header.Get("ETag") == "" {
		t.Fatalf("file %+v", f)
	}

	wantBody(t, call("GET", "/api/v1/files?folder_id="+folder, ""), `"id":"`+f.ID+`"`, `"size":20971520`)
	wantBody(t, call("GET", "/api/v1/me", ""), `"used":20971520`, `"reserved":0`)
	r = call("GET", "/api/v1/files/"+f.ID+"/download", "")
	wantStatus(t, r, http.StatusOK)
	dl := decode[struct{ URL string }](t, r)
	if !strings.HasPrefix(dl.URL, cfg.Endpoint) {
		t.Fatalf("download URL %s is not the store's", dl.URL)
	}
	wantDownload(t, dl.URL, data)

	// Share it with a link that expires, and download it as a recipient:
	// the link's page for the file redirects to the store.
	r = call("POST", "/api/v1/links", fmt.Sprintf(`{"file_ids":[%q],"expires_at":%q,"max_downloads":1}`,
		f.ID, time.Now().Add(24*time.Hour).UTC().Format(time.RFC3339)))
	wantStatus(t, r, http.StatusCreated)
	link := decode[struct{ URL string }](t, r)
	wantDownload(t, link.URL+"/files/"+f.ID, data)
	res, err := http.Get(link.URL + "/files/" + f.ID)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusGone {
		t.Errorf("a second download of a 1-download link: %d, want 410", res.StatusCode)
	}
}

// wantDownload fetches url with a plain client, following redirects, and
// compares the bytes with data.
func wantDownload(t testing.TB, url string, data []byte) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	h := sha256.New()
	n, _ := io.Copy(h, res.Body)
	if want := sha256.Sum256(data); res.StatusCode != http.StatusOK || n != int64(len(data)) || !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatalf("download %s: %d, %d bytes, digest differs: %v", url, res.StatusCode, n, !bytes.Equal(h.Sum(nil), want[:]))
	}
}
