package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weupload/weupload/internal/auth"
	"github.com/weupload/weupload/internal/config"
	"github.com/weupload/weupload/internal/database/dbtest"
)

// testApp is the real app on a fresh database behind an httptest server.
type testApp struct {
	*app
	srv  *httptest.Server
	logs *syncBuffer

	specOnce sync.Once
	spec     *specValidator // see openapi_test.go
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testLinkKey is the LINK_KEY of tests, fixed so tests on a non-loopback
// BASE_URL need not set one.
const testLinkKey = "7e577e577e577e577e577e577e577e577e577e577e577e577e577e577e577e57"

// testConfig loads the config the way production does, from an environment
// with test defaults that env overrides.
func testConfig(t testing.TB, env map[string]string) config.Config {
	t.Helper()
	defaults := map[string]string{
		"DATABASE_URL": "postgres://test@127.0.0.1:5432/test", // the pool is made by dbtest
		"REGISTRATION": "open",
		"BASE_URL":     "http://127.0.0.1",
		"STORAGE_DIR":  t.TempDir(), // the disk store, so tests never write into the tree
		"LINK_KEY":     testLinkKey,
	}
	cfg, err := config.Load(func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return defaults[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func newTestApp(t testing.TB, env map[string]string) *testApp {
	t.Helper()
	return newTestAppWithPool(t, env, dbtest.New(t))
}

func newTestAppWithPool(t testing.TB, env map[string]string, pool *pgxpool.Pool) *testApp {
	t.Helper()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := newApp(testConfig(t, env), logger, pool)
	if err != nil {
		t.Fatal(err)
	}
	ta := &testApp{app: a, logs: logs}
	ta.srv = httptest.NewServer(a.routes())
	t.Cleanup(func() {
		ta.srv.Close()
		a.close()
		if t.Failed() {
			t.Logf("server logs:\n%s", logs.String())
		}
	})
	return ta
}

// createUser makes an account directly through the service.
func (ta *testApp) createUser(t testing.TB, email, password string) auth.User {
	t.Helper()
	u, err := ta.auth.CreateUser(t.Context(), auth.RegisterInput{Email: email, Password: password}, false)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// client is a browser-like HTTP client: a cookie jar, no automatic redirects.
// Every exchange with /api/v1 is checked against the OpenAPI document.
type client struct {
	t    testing.TB
	base string
	hc   *http.Client
	// header is sent with every request (e.g. HX-Request).
	header http.Header
	spec   *specValidator
}

func (ta *testApp) client(t testing.TB) *client {
	ta.specOnce.Do(func() { ta.spec = newSpecValidator(t) })
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: ta.srv.URL, header: http.Header{}, spec: ta.spec, hc: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (c *client) do(req *http.Request) response {
	c.t.Helper()
	for k, v := range c.header {
		req.Header[k] = v
	}
	var reqBody []byte
	if req.GetBody != nil {
		rc, _ := req.GetBody()
		reqBody, _ = io.ReadAll(rc)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if c.spec != nil && c.spec.applies(req) {
		c.spec.check(c.t, req, reqBody, res.StatusCode, res.Header, b)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

func (c *client) get(path string) response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
	return c.do(req)
}

func (c *client) post(path string, form url.Values) response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

func (c *client) login(email, password string) response {
	c.t.Helper()
	return c.post("/login", url.Values{"email": {email}, "password": {password}})
}

func (c *client) cookie(name string) string {
	u, _ := url.Parse(c.base)
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

func wantStatus(t testing.TB, r response, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body:\n%.2000s", r.status, want, r.body)
	}
}

func wantBody(t testing.TB, r response, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(r.body, s) {
			t.Fatalf("body lacks %q:\n%.3000s", s, r.body)
		}
	}
}
