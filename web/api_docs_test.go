package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/weupload/weupload/internal/database/dbtest"
	"github.com/weupload/weupload/internal/testenv"
)

// TestAPIDocsPage checks the reference page as served (the renderer's
// own test is in internal/apidocs): public, under the CSP, linked from the
// account page where tokens are made.
func TestAPIDocsPage(t *testing.T) {
	ta := newTestApp(t, nil)
	r := ta.client(t).get("/api/docs")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, `id="op-getMe"`, `href="/api/v1/openapi.json"`)
	if !strings.Contains(r.header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Error("no CSP")
	}
	ta.createUser(t, "ann@example.com", "correct horse battery")
	c := ta.client(t)
	c.login("ann@example.com", "correct horse battery")
	wantBody(t, c.get("/account"), `href="/api/docs"`)
}

// docExamples returns the sh blocks of a Markdown file as one script, each
// block announced on stderr with its line, so a failure points at it.
func docExamples(t testing.TB, path string) (script string, blocks int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	in := false
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		switch {
		case !in && text == "```sh":
			in = true
			blocks++
			fmt.Fprintf(&b, "echo '--- %s:%d' >&2\n", filepath.Base(path), line)
		case in && text == "```":
			in = false
		case in:
			b.WriteString(text + "\n")
		}
	}
	if err := sc.Err(); err != nil || in {
		t.Fatalf("%s: %v (unterminated block: %v)", path, err, in)
	}
	return b.String(), blocks
}

// specTransport passes requests on and checks every exchange with /api/v1
// against the OpenAPI document.
type specTransport struct {
	t testing.TB
	v *specValidator

	mu   sync.Mutex
	seen []string // the API requests, "METHOD /path?query"
}

func (st *specTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || !st.v.applies(req) {
		return res, err
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(b))
	st.v.check(st.t, req, body, res.StatusCode, res.Header, b)
	st.mu.Lock()
	st.seen = append(st.seen, req.Method+" "+req.URL.RequestURI())
	st.mu.Unlock()
	return res, nil
}

// TestAPIDocExamples runs the sh blocks of docs/api.md as written, with the
// real bash, curl and jq, against the real server (`serve` configured as
// `make dev` does: disk store, default limits) seen through a proxy that
// checks every API exchange against the OpenAPI document. The token comes
// from the account page, as the page says.
func TestAPIDocExamples(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Missing(t, tool, "install "+tool+" (docs/api.md uses it)")
		}
	}
	script, blocks := docExamples(t, filepath.Join("..", "docs", "api.md"))
	if blocks < 10 {
		t.Fatalf("docs/api.md has %d sh blocks", blocks)
	}

	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	env := map[string]string{
		"DATABASE_URL": dbtest.NewURL(t), "LISTEN_ADDR": fmt.Sprintf("127.0.0.1:%d", port), "BASE_URL": base,
		"REGISTRATION": "open", "STORAGE_BACKEND": "disk", "STORAGE_DIR": t.TempDir(), "LOG_LEVEL": "warn",
	}
	getenv := func(k string) string { return env[k] }
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, getenv, strings.NewReader(""), logs, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil || t.Failed() {
			t.Logf("serve: %v\n%s", err, logs.String())
		}
	})
	waitFor(t, base+"/healthz")
	const email, password = "ann@example.com", "correct horse battery"
	// bob is the colleague of "Share a folder with a colleague".
	for _, who := range []string{email, "bob@example.com"} {
		if err := run(ctx, []string{"user", "create", "--email", who, "--password-stdin"}, getenv, strings.NewReader(password+"\n"), io.Discard, io.Discard); err != nil {
			t.Fatal(err)
		}
	}

	// The account page, as a person would use it: sign in, create a token
	// with every scope, copy the secret shown once.
	jar, _ := cookiejar.New(nil)
	browser := &client{t: t, base: base, header: http.Header{}, hc: &http.Client{
		Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	wantStatus(t, browser.login(email, password), http.StatusSeeOther)
	browser.header.Set("HX-Request", "true")
	r := browser.post("/account/tokens", url.Values{"name": {"docs"}, "scopes": {"files:read", "files:write", "shares:write", "tokens:write"}})
	wantStatus(t, r, http.StatusOK)
	secret := shownSecret(t, r.body)

	target, _ := url.Parse(base)
	checked := &specTransport{t: t, v: newSpecValidator(t)}
	proxy := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		Transport: checked,
	})
	t.Cleanup(proxy.Close)
	// The account already holds a folder, so a listing takes more than one
	// page of 2.
	api := apiClient(t, proxy.URL)
	wantStatus(t, api.apiCall("POST", "/api/v1/folders", secret, `{"name":"Archive"}`), http.StatusCreated)

	// The files the examples upload: the large one just over the default
	// multipart threshold (64 MiB), so it goes in parts.
	dir := t.TempDir()
	report, backup := randomData(300<<10), randomData(70<<20)
	for name, data := range map[string][]byte{"report.pdf": report, "backup.tar": backup} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.CommandContext(ctx, "bash", "-c", "set -euo pipefail\n"+script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "WU="+proxy.URL)
	cmd.Stdin = strings.NewReader(secret + "\n") // pasted at `read -rs WU_TOKEN`
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("docs/api.md examples: %v\nstderr:\n%s\nstdout:\n%s", err, stderr.String(), stdout.String())
	}
	t.Logf("docs/api.md: %d blocks ran\n%s", blocks, stdout.String())

	// What the examples should have done.
	for _, name := range []string{"downloaded-report.pdf", "shared-report.pdf"} {
		if got, err := os.ReadFile(filepath.Join(dir, name)); err != nil || !bytes.Equal(got, report) {
			t.Errorf("%s: %v, or not the bytes uploaded", name, err)
		}
	}
	for _, want := range []string{`"mode": "single"`, `"mode": "multipart"`, `"size": 73400320`, "401\n", "412\n", `"stored": [`, `"state": "active"`, `"name": "Q3 report (final).pdf"`} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the examples' output lacks %q", want)
		}
	}
	if !slices.ContainsFunc(checked.seen, func(s string) bool { return strings.Contains(s, "/api/v1/files?limit=2&cursor=") }) {
		t.Error("the paging example never sent a cursor")
	}
	list := api.apiCall("GET", "/api/v1/files?q=backup", secret, "")
	wantBody(t, list, `"name":"backup.tar"`, `"size":73400320`)
	links := api.apiCall("GET", "/api/v1/links", secret, "")
	wantBody(t, links, `"state":"revoked"`)
}

// shownSecret finds the token secret the account page shows once.
func shownSecret(t testing.TB, page string) string {
	t.Helper()
	i := strings.Index(page, "wu_")
	if i < 0 {
		t.Fatalf("no token on the page:\n%.2000s", page)
	}
	return page[i : i+strings.IndexByte(page[i:], '<')]
}

// apiClient is a plain HTTP client of a server's API, checked against the
// document.
func apiClient(t testing.TB, base string) *client {
	return &client{t: t, base: base, header: http.Header{}, hc: &http.Client{}, spec: newSpecValidator(t)}
}
