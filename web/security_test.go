package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

func wantSecurityHeaders(t *testing.T, r response) {
	t.Helper()
	h := r.header
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows unsafe sources: %q", csp)
	}
	for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"} {
		if h.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, h.Get(k), v)
		}
	}
	if h.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	ta := newTestApp(t, map[string]string{"BASE_URL": "https://files.example.com", "BLOB_SIGNING_KEY": testSigningKey})
	// The real router plus one route that panics, for the 500 path.
	router := ta.app.routes()
	router.Get("/test/panic", func(http.ResponseWriter, *http.Request) { panic("boom: secret detail") })
	ta.srv.Config.Handler = router
	c := ta.client(t)

	t.Run("200", func(t *testing.T) {
		r := c.get("/login")
		wantStatus(t, r, http.StatusOK)
		wantSecurityHeaders(t, r)
		if !strings.Contains(r.header.Get("Strict-Transport-Security"), "max-age=") {
			t.Error("no HSTS with an https base URL")
		}
	})
	t.Run("404", func(t *testing.T) {
		r := c.get("/no/such/page")
		wantStatus(t, r, http.StatusNotFound)
		wantSecurityHeaders(t, r)
		wantBody(t, r, "find that page", r.header.Get("X-Request-Id"))
	})
	t.Run("500 from a panic", func(t *testing.T) {
		r := c.get("/test/panic")
		wantStatus(t, r, http.StatusInternalServerError)
		wantSecurityHeaders(t, r)
		wantBody(t, r, "Something went wrong", r.header.Get("X-Request-Id"))
		if strings.Contains(r.body, "boom") || strings.Contains(r.body, "goroutine") {
			t.Fatal("panic detail or stack shown to the user")
		}
		if !strings.Contains(ta.logs.String(), "boom: secret detail") {
			t.Fatal("panic not logged")
		}
	})
	t.Run("static asset", func(t *testing.T) {
		r := c.get(ta.assets.URL("css/app.css"))
		wantStatus(t, r, http.StatusOK)
		wantSecurityHeaders(t, r)
		if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("hashed asset Cache-Control %q", cc)
		}
		if cc := c.get("/static/css/app.css?v=old").header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("stale-hash asset Cache-Control %q", cc)
		}
	})
	t.Run("method not allowed", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodDelete, ta.srv.URL+"/login", nil)
		r := c.do(req)
		wantStatus(t, r, http.StatusMethodNotAllowed)
		wantSecurityHeaders(t, r)
	})
}

func TestCrossOriginPostRefused(t *testing.T) {
	ta := newTestApp(t, nil)
	ta.createUser(t, "ann@example.com", "correct horse battery")
	c := ta.client(t)
	c.login("ann@example.com", "correct horse battery")

	tests := []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"sec-fetch-site cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"foreign origin", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"same origin", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": ta.srv.URL}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, ta.srv.URL+"/account/profile", strings.NewReader(url.Values{"display_name": {"Changed " + tt.name}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("HX-Request", "true")
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			r := c.do(req)
			wantStatus(t, r, tt.want)
			wantSecurityHeaders(t, r)
		})
	}
	var name string
	_ = ta.pool.QueryRow(context.Background(), "SELECT display_name FROM users").Scan(&name)
	if name != "Changed same origin" {
		t.Fatalf("display name %q: a refused request changed state, or the allowed one did not", name)
	}
	// Logout is state-changing too.
	req, _ := http.NewRequest(http.MethodPost, ta.srv.URL+"/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	wantStatus(t, c.do(req), http.StatusForbidden)
	wantStatus(t, c.get("/account"), http.StatusOK)
}

func TestHealth(t *testing.T) {
	ta := newTestApp(t, nil)
	c := ta.client(t)
	r := c.get("/healthz")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, `"status":"ok"`)
	r = c.get("/readyz")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, `"status":"ready"`)
}

// newTestAppDatabaseDown runs the app on a pool whose server is not there:
// a real connection refusal, not a mock.
func newTestAppDatabaseDown(t *testing.T) *testApp {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return newTestAppWithPool(t, nil, pool)
}

// TestDatabaseDown: readiness names the database, pages answer 503.
func TestDatabaseDown(t *testing.T) {
	ta := newTestAppDatabaseDown(t)
	c := ta.client(t)

	r := c.get("/readyz")
	wantStatus(t, r, http.StatusServiceUnavailable)
	wantBody(t, r, `"failing":["database"]`)
	wantStatus(t, c.get("/healthz"), http.StatusOK)

	u, _ := url.Parse(ta.srv.URL)
	c.hc.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: "some-session-token", Path: "/"}})
	r = c.get("/files")
	wantStatus(t, r, http.StatusServiceUnavailable)
	wantSecurityHeaders(t, r)
	wantBody(t, r, "temporarily unavailable", r.header.Get("X-Request-Id"))
	if r.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if strings.Contains(r.body, "127.0.0.1:1") || strings.Contains(r.body, "connect") {
		t.Fatal("503 page leaks connection details")
	}
	r = c.login("ann@example.com", "whatever password")
	wantStatus(t, r, http.StatusServiceUnavailable)
}

func TestClientIP(t *testing.T) {
	trusted := testConfig(t, map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"}).TrustedProxies
	tests := []struct {
		name, remote, xff, want string
	}{
		{"direct peer ignores XFF", "203.0.113.5:1234", "1.2.3.4", "203.0.113.5"},
		{"trusted proxy", "10.0.0.2:80", "198.51.100.9", "198.51.100.9"},
		{"spoofed left entry ignored", "10.0.0.2:80", "1.2.3.4, 198.51.100.9", "198.51.100.9"},
		{"chain of trusted proxies", "127.0.0.1:80", "198.51.100.9, 10.1.1.1", "198.51.100.9"},
		{"garbage stops the walk", "10.0.0.2:80", "198.51.100.9, nonsense", "10.0.0.2"},
		{"no XFF", "10.0.0.2:80", "", "10.0.0.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			if got := clientIP(r, trusted); got != tt.want {
				t.Fatalf("clientIP = %q, want %q", got, tt.want)
			}
		})
	}
}
