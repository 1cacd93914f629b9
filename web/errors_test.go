package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"

	"github.com/weupload/weupload/internal/apperr"
)

// The response policy (web/errors.go) through the real router: the route
// group decides the form of a failure, whatever the request looks like.

// goErrorText is what encoding/json and friends write, which speaks of Go
// types and must never reach a client.
var goErrorText = []string{"json:", "Go struct", "Go value", "unmarshal", "parsing time", "cannot parse", "UnmarshalJSON", "main."}

func wantNoGoErrorText(t testing.TB, r response) {
	t.Helper()
	for _, s := range goErrorText {
		if strings.Contains(r.body, s) {
			t.Errorf("the answer passes on Go's error text %q: %s", s, r.body)
		}
	}
}

// TestJSONBodyErrors sends bodies with a value of the wrong type to API
// routes and to an upload request's JSON calls: each answers a 400 problem
// that names the field in words, never encoding/json's text.
func TestJSONBodyErrors(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	c := ta.loggedIn(t, "ann@example.com")
	f := uploadViaAPI(t, c, "a.txt", []byte("a"))
	created := func(path, body string) (id, u string) {
		t.Helper()
		r := c.apiCall("POST", path, "", body)
		wantStatus(t, r, http.StatusCreated)
		var v struct{ ID, URL string }
		if err := json.Unmarshal([]byte(r.body), &v); err != nil {
			t.Fatal(err)
		}
		return v.ID, v.URL
	}
	linkID, _ := created("/api/v1/links", `{"file_ids":["`+f.ID+`"]}`)
	requestID, requestURL := created("/api/v1/requests", `{}`)

	tests := []struct {
		name, method, path, body string
		want                     string
	}{
		{"string expected", "POST", "/api/v1/folders", `{"name":5}`, `The field "name" must be a string.`},
		{"whole number expected", "POST", "/api/v1/uploads", `{"name":"b.txt","size":"big"}`, `The field "size" must be a whole number.`},
		{"fraction for a whole number", "POST", "/api/v1/uploads", `{"name":"b.txt","size":1.5}`, `The field "size" must be a whole number.`},
		{"list expected", "POST", "/api/v1/links", `{"file_ids":"` + f.ID + `"}`, `The field "file_ids" must be a list.`},
		{"date that does not parse", "POST", "/api/v1/links", `{"file_ids":["` + f.ID + `"],"expires_at":"tomorrow"}`, `The field "expires_at" must be a date and time`},
		{"date of the wrong type in an update", "PATCH", "/api/v1/links/" + linkID, `{"expires_at":5}`, `The field "expires_at"`},
		{"optional number in an update", "PATCH", "/api/v1/requests/" + requestID, `{"max_files":"ten"}`, `The field "max_files" must be a whole number.`},
		{"array for an object", "POST", "/api/v1/tokens", `[]`, "The request body must be a JSON object."},
		{"unknown field", "POST", "/api/v1/folders", `{"title":"x"}`, `Unknown field "title".`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			r := c.apiCall(tc.method, tc.path, "", tc.body)
			wantProblem(t, r, http.StatusBadRequest, tc.want)
			wantNoGoErrorText(t, r)
		})
	}
	c.t = t

	// The uploaders' JSON calls answer the same way.
	up := ta.client(t)
	r := up.apiCall("POST", "/r/"+tokenFrom(requestURL)+"/uploads", "", `{"name":"b.txt","size":"big"}`)
	wantProblem(t, r, http.StatusBadRequest, `The field "size" must be a whole number.`)
	wantNoGoErrorText(t, r)
}

// TestFailureForms: a JSON route answers problem+json even to htmx; an
// htmx form post with bad input gets its form back (422) in place; any
// other htmx call gets a toast in #flash; a plain request gets a page.
func TestFailureForms(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	c := ta.loggedIn(t, "ann@example.com")
	missing := "00000000-0000-4000-8000-000000000000"

	t.Run("JSON route, htmx headers", func(t *testing.T) {
		hx := c.htmx("x")
		hx.t = t
		r := hx.get("/api/v1/folders/" + missing)
		wantProblem(t, r, http.StatusNotFound, "")
		r = hx.get("/api/v1/nothing-here")
		wantProblem(t, r, http.StatusNotFound, "")
		r = hx.get("/api/nothing-here")
		wantProblem(t, r, http.StatusNotFound, "")
	})
	t.Run("htmx form post with bad input", func(t *testing.T) {
		hx := c.htmx("new-folder-form")
		hx.t = t
		r := hx.post("/folders", url.Values{"name": {"a/b"}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantBody(t, r, `id="new-folder-form"`, "cannot contain")
		wantFragment(t, r)
		hx = c.htmx("profile-form")
		hx.t = t
		r = hx.post("/account/profile", url.Values{"display_name": {"  "}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantBody(t, r, `name="display_name"`)
		wantFragment(t, r)
	})
	t.Run("plain form post with bad input", func(t *testing.T) {
		c.t = t
		r := c.post("/account/profile", url.Values{"display_name": {"  "}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantBody(t, r, "<html", `name="display_name"`)
	})
	t.Run("htmx call that is not a form", func(t *testing.T) {
		hx := c.htmx("modal-body")
		hx.t = t
		r := hx.get("/items/move")
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantToast(t, r, "Select at least one file or folder")
		r = hx.post("/share/links/"+missing+"/revoke", nil)
		wantStatus(t, r, http.StatusNotFound)
		wantToast(t, r, "")
	})
	t.Run("plain page", func(t *testing.T) {
		c.t = t
		r := c.get("/folders/" + missing)
		wantStatus(t, r, http.StatusNotFound)
		wantBody(t, r, "<html", "We can&#39;t find that page")
		if r.header.Get("HX-Retarget") != "" {
			t.Errorf("HX-Retarget %q on a page", r.header.Get("HX-Retarget"))
		}
	})
}

func wantFragment(t testing.TB, r response) {
	t.Helper()
	if strings.Contains(r.body, "<html") || r.header.Get("HX-Retarget") != "" {
		t.Errorf("want the form in place, got HX-Retarget %q and %.200s", r.header.Get("HX-Retarget"), r.body)
	}
}

func wantToast(t testing.TB, r response, msg string) {
	t.Helper()
	if r.header.Get("HX-Retarget") != "#flash" || r.header.Get("HX-Reswap") != "beforeend" {
		t.Errorf("HX-Retarget %q, HX-Reswap %q, want a toast in #flash", r.header.Get("HX-Retarget"), r.header.Get("HX-Reswap"))
	}
	wantBody(t, r, msg, r.header.Get("X-Request-Id"))
	if strings.Contains(r.body, "<html") {
		t.Error("a toast is a fragment, not a page")
	}
}

// TestRetryAfterEveryForm: a throttled request (429) and a dependency that
// is down (503) carry Retry-After in every form of answer: problem+json,
// toast, page and form.
func TestRetryAfterEveryForm(t *testing.T) {
	ta := newTestApp(t, nil)
	failures := []struct {
		name       string
		err        error
		status     int
		retryAfter string
	}{
		{"throttled", apperr.Throttled(30 * time.Second), http.StatusTooManyRequests, "30"},
		{"database down", apperr.Unavailablef(errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), "The database is unreachable."), http.StatusServiceUnavailable, "5"},
	}
	for _, fl := range failures {
		failing := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ta.app.error(w, r, fl.err) })
		form := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ta.app.formFailed(w, r, fl.err, func() (formView, error) {
				c := templ.Raw(`<form id="f"></form>`)
				return formView{fragment: c, page: c}, nil
			})
		})
		forms := []struct {
			name        string
			h           http.Handler
			htmx        bool
			contentType string
		}{
			{"problem+json", jsonResponses(failing), false, "application/problem+json"},
			{"problem+json to htmx", jsonResponses(failing), true, "application/problem+json"},
			{"toast", failing, true, "text/html; charset=utf-8"},
			{"page", failing, false, "text/html; charset=utf-8"},
			{"form", form, true, "text/html; charset=utf-8"},
			{"form without htmx", form, false, "text/html; charset=utf-8"},
		}
		for _, f := range forms {
			t.Run(fl.name+"/"+f.name, func(t *testing.T) {
				req := httptest.NewRequest(http.MethodPost, "/anything", nil)
				if f.htmx {
					req.Header.Set("HX-Request", "true")
				}
				rec := httptest.NewRecorder()
				ta.app.observe(f.h).ServeHTTP(rec, req)
				if rec.Code != fl.status {
					t.Errorf("status %d, want %d", rec.Code, fl.status)
				}
				if got := rec.Header().Get("Retry-After"); got != fl.retryAfter {
					t.Errorf("Retry-After %q, want %q", got, fl.retryAfter)
				}
				if got := rec.Header().Get("Content-Type"); got != f.contentType {
					t.Errorf("Content-Type %q, want %q", got, f.contentType)
				}
				if strings.Contains(rec.Body.String(), "127.0.0.1") {
					t.Errorf("the answer leaks the cause: %s", rec.Body.String())
				}
			})
		}
	}
}

// TestDatabaseDownEveryForm runs the app on a pool whose server is not
// there: the API and an htmx call answer 503 with Retry-After too, each
// in its form.
func TestDatabaseDownEveryForm(t *testing.T) {
	ta := newTestAppDatabaseDown(t)
	c := ta.client(t)
	u, _ := url.Parse(ta.srv.URL)
	c.hc.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: "some-session-token", Path: "/"}})

	r := c.apiCall("GET", "/api/v1/me", "", "")
	wantProblem(t, r, http.StatusServiceUnavailable, "")
	if r.header.Get("Retry-After") == "" {
		t.Error("API 503 without Retry-After")
	}
	r = c.htmx("browser").get("/files")
	wantStatus(t, r, http.StatusServiceUnavailable)
	wantToast(t, r, "")
	if r.header.Get("Retry-After") == "" {
		t.Error("toast 503 without Retry-After")
	}
}
