package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// apiCall sends a JSON request, with a bearer token when token is set.
func (c *client) apiCall(method, path, token, body string) response {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return c.do(req)
}

func wantProblem(t testing.TB, r response, status int, detail string) {
	t.Helper()
	wantStatus(t, r, status)
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	var p struct {
		Status   int    `json:"status"`
		Detail   string `json:"detail"`
		Instance string `json:"instance"`
	}
	if err := json.Unmarshal([]byte(r.body), &p); err != nil {
		t.Fatalf("problem body: %v\n%s", err, r.body)
	}
	if p.Status != status || !strings.Contains(p.Detail, detail) || !strings.HasSuffix(p.Instance, r.header.Get("X-Request-Id")) {
		t.Fatalf("problem %+v, want status %d and detail containing %q", p, status, detail)
	}
}

func TestAPITokens(t *testing.T) {
	ta := newTestApp(t, nil)
	ta.createUser(t, "ann@example.com", "correct horse battery")
	ta.createUser(t, "bob@example.com", "correct horse battery")
	ann := ta.client(t)
	ann.login("ann@example.com", "correct horse battery")

	// The web app's session may manage tokens.
	r := ann.apiCall("POST", "/api/v1/tokens", "", `{"name":"ci","scopes":["files:read","tokens:write"]}`)
	wantStatus(t, r, http.StatusCreated)
	var created struct {
		ID     string   `json:"id"`
		Token  string   `json:"token"`
		Prefix string   `json:"prefix"`
		Scopes []string `json:"scopes"`
	}
	if err := json.Unmarshal([]byte(r.body), &created); err != nil || !strings.HasPrefix(created.Token, "wu_") || created.ID == "" {
		t.Fatalf("create: %v %s", err, r.body)
	}

	anon := ta.client(t)
	r = anon.apiCall("GET", "/api/v1/tokens", created.Token, "")
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(r.body, created.Token) || !strings.Contains(r.body, created.Prefix) {
		t.Fatalf("list leaks the secret or lacks the prefix: %s", r.body)
	}

	t.Run("errors", func(t *testing.T) {
		wantProblem(t, anon.apiCall("GET", "/api/v1/tokens", "", ""), http.StatusUnauthorized, "Log in or send an API token")
		wantProblem(t, anon.apiCall("GET", "/api/v1/tokens", "wu_nope", ""), http.StatusUnauthorized, "expired or revoked")
		wantProblem(t, anon.apiCall("GET", "/api/v1/tokens?access_token="+created.Token, "", ""), http.StatusUnauthorized, "never in the URL")
		req, _ := http.NewRequest("GET", ta.srv.URL+"/api/v1/tokens", nil)
		req.Header.Set("Authorization", "Basic abc")
		wantProblem(t, anon.do(req), http.StatusUnauthorized, "Bearer")
		wantProblem(t, ann.apiCall("POST", "/api/v1/tokens", "", `{"name":"x","scopes":["files:read"],"extra":1}`), http.StatusBadRequest, `Unknown field "extra"`)
		wantProblem(t, ann.apiCall("POST", "/api/v1/tokens", "", `{"name":5}`), http.StatusBadRequest, `"name" must be a string`)
		wantProblem(t, ann.apiCall("POST", "/api/v1/tokens", "", `{"name":`), http.StatusBadRequest, "not valid JSON")
		wantProblem(t, ann.apiCall("POST", "/api/v1/tokens", "", ``), http.StatusBadRequest, "Content-Type: application/json")
		wantProblem(t, ann.apiCall("POST", "/api/v1/tokens", "", `{"name":"`+strings.Repeat("x", 2<<20)+`"}`), http.StatusBadRequest, "too large")
		r := ann.apiCall("POST", "/api/v1/tokens", "", `{"name":"","scopes":[]}`)
		wantProblem(t, r, http.StatusUnprocessableEntity, "correct")
		if !strings.Contains(r.body, `"field":"name"`) || !strings.Contains(r.body, `"field":"scopes"`) {
			t.Fatalf("no per-field errors: %s", r.body)
		}
		// A files:read token cannot mint a files:write token, even with tokens:write.
		wantProblem(t, anon.apiCall("POST", "/api/v1/tokens", created.Token, `{"name":"x","scopes":["files:write"]}`), http.StatusUnprocessableEntity, "correct")
		wantProblem(t, anon.apiCall("GET", "/api/v1/nothing-here", created.Token, ""), http.StatusNotFound, "does not exist")
	})

	t.Run("someone else's token is not found", func(t *testing.T) {
		bob := ta.client(t)
		bob.login("bob@example.com", "correct horse battery")
		wantProblem(t, bob.apiCall("DELETE", "/api/v1/tokens/"+created.ID, "", ""), http.StatusNotFound, "not found")
	})

	t.Run("revoke takes effect at once", func(t *testing.T) {
		wantStatus(t, anon.apiCall("DELETE", "/api/v1/tokens/"+created.ID, created.Token, ""), http.StatusNoContent)
		wantProblem(t, anon.apiCall("GET", "/api/v1/tokens", created.Token, ""), http.StatusUnauthorized, "revoked")
	})

	t.Run("cross-origin cookie request refused", func(t *testing.T) {
		req, _ := http.NewRequest("POST", ta.srv.URL+"/api/v1/tokens", strings.NewReader(`{"name":"x","scopes":["files:read"]}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		wantStatus(t, ann.do(req), http.StatusForbidden)
	})
}

func TestAccountTokensForm(t *testing.T) {
	ta := newTestApp(t, nil)
	ta.createUser(t, "ann@example.com", "correct horse battery")
	c := ta.client(t)
	c.login("ann@example.com", "correct horse battery")
	c.header.Set("HX-Request", "true")

	r := c.post("/account/tokens", url.Values{"name": {"backup"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, `<div id="tokens"`, "Choose at least one scope.")

	r = c.post("/account/tokens", url.Values{"name": {"backup <script>"}, "scopes": {"files:read", "files:write"}, "expires_at": {"2999-01-31"}})
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "Copy it now", `id="new-token"`, "backup &lt;script&gt;", "expires Jan 31, 2999")
	secret := shownSecret(t, r.body)
	wantStatus(t, ta.client(t).apiCall("GET", "/api/v1/tokens", secret, ""), http.StatusOK)

	c.header.Del("HX-Request")
	page := c.get("/account")
	wantBody(t, page, "backup &lt;script&gt;")
	if strings.Contains(page.body, secret) {
		t.Fatal("the account page shows the secret again")
	}
	tokens, _ := ta.auth.ListTokens(t.Context(), currentUserID(t, ta, "ann@example.com"))
	r = c.post("/account/tokens/"+tokens[0].ID+"/revoke", nil)
	wantStatus(t, r, http.StatusSeeOther)
	wantStatus(t, ta.client(t).apiCall("GET", "/api/v1/tokens", secret, ""), http.StatusUnauthorized)
}

func currentUserID(t *testing.T, ta *testApp, email string) string {
	t.Helper()
	var id string
	if err := ta.pool.QueryRow(t.Context(), "SELECT id FROM users WHERE email = $1", email).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}
