package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	rtmetrics "runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weupload/weupload/internal/auth"
	"github.com/weupload/weupload/internal/ratelimit"
	"github.com/weupload/weupload/internal/shares"
)

const sessionCookie = "weupload_session" // BASE_URL is http in tests, so no __Host- prefix

// testSigningKey is a BLOB_SIGNING_KEY for tests on a non-loopback BASE_URL.
const testSigningKey = "test-blob-signing-key-0123456789abcdef"

func TestRegisterLoginAccountLogout(t *testing.T) {
	ta := newTestApp(t, nil)
	c := ta.client(t)

	r := c.get("/files")
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != "/login?next=%2Ffiles" {
		t.Fatalf("anonymous /files → %q, want the login page with next", loc)
	}

	r = c.post("/register", url.Values{"email": {"Ann@Example.com"}, "display_name": {"Ann"}, "password": {"correct horse battery"}})
	wantStatus(t, r, http.StatusSeeOther)
	wantBody(t, c.get(r.header.Get("Location")), "Your account is ready")
	wantStatus(t, c.login("ann@example.com", "correct horse battery"), http.StatusSeeOther)
	r = c.get("/files")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "My files", "ann@example.com")

	r = c.post("/logout", nil)
	wantStatus(t, r, http.StatusSeeOther)
	wantStatus(t, c.get("/account"), http.StatusSeeOther)

	r = c.login("ann@example.com", "correct horse battery")
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != "/files" {
		t.Fatalf("login redirect %q, want /files", loc)
	}
	r = c.get("/account")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "Account", "ann@example.com", `value="Ann"`)

	t.Run("next is kept local", func(t *testing.T) {
		c2 := ta.client(t)
		r := c2.post("/login", url.Values{"email": {"ann@example.com"}, "password": {"correct horse battery"}, "next": {"//evil.example/x"}})
		if loc := r.header.Get("Location"); loc != "/files" {
			t.Fatalf("open redirect: Location %q", loc)
		}
		c3 := ta.client(t)
		r = c3.post("/login", url.Values{"email": {"ann@example.com"}, "password": {"correct horse battery"}, "next": {"/account"}})
		if loc := r.header.Get("Location"); loc != "/account" {
			t.Fatalf("Location %q, want /account", loc)
		}
	})
}

func TestLogoutDestroysSession(t *testing.T) {
	ta := newTestApp(t, nil)
	ta.createUser(t, "ann@example.com", "correct horse battery")
	c := ta.client(t)
	c.login("ann@example.com", "correct horse battery")
	token := c.cookie(sessionCookie)
	if token == "" {
		t.Fatal("no session cookie after login")
	}
	wantStatus(t, c.post("/logout", nil), http.StatusSeeOther)

	// Replaying the old cookie must not work: the session is gone server-side.
	replay := ta.client(t)
	req, _ := http.NewRequest(http.MethodGet, ta.srv.URL+"/account", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: token})
	wantStatus(t, replay.do(req), http.StatusSeeOther)
}

func TestWrongPasswordAndUnknownEmailLookAlike(t *testing.T) {
	ta := newTestApp(t, nil)
	ta.createUser(t, "ann@example.com", "correct horse battery")
	c := ta.client(t)
	wrong := c.login("ann@example.com", "wrong password!")
	unknown := c.login("nobody@example.com", "wrong password!")
	for _, r := range []response{wrong, unknown} {
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantBody(t, r, "Incorrect email or password.")
	}
	if c.cookie(sessionCookie) != "" {
		t.Fatal("a failed login set a session cookie")
	}
}

func TestLoginThrottled(t *testing.T) {
	ta := newTestApp(t, nil)
	ta.auth.AccountRule = ratelimit.Rule{Limit: 3, Window: 15 * time.Minute}
	ta.createUser(t, "ann@example.com", "correct horse battery")
	c := ta.client(t)
	for i := 0; i < 3; i++ {
		wantStatus(t, c.login("ann@example.com", "wrong password!"), http.StatusUnprocessableEntity)
	}
	r := c.login("ann@example.com", "correct horse battery")
	wantStatus(t, r, http.StatusTooManyRequests)
	wantBody(t, r, "Too many attempts, try again in")
	if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After %q", ra)
	}
}

func TestLoginThrottledPerIPBehindTrustedProxy(t *testing.T) {
	ta := newTestApp(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.0/8"})
	ta.auth.IPRule = ratelimit.Rule{Limit: 2, Window: 15 * time.Minute}
	c := ta.client(t)
	fromIP := func(ip, email string) response {
		req, _ := http.NewRequest(http.MethodPost, ta.srv.URL+"/login", strings.NewReader(url.Values{"email": {email}, "password": {"wrong password"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", ip)
		return c.do(req)
	}
	fromIP("198.51.100.7", "a@example.com")
	fromIP("198.51.100.7", "b@example.com")
	wantStatus(t, fromIP("198.51.100.7", "c@example.com"), http.StatusTooManyRequests)
	// Another client behind the same proxy is not affected.
	wantStatus(t, fromIP("198.51.100.8", "c@example.com"), http.StatusUnprocessableEntity)
}

// TestSessionFixation plants a session token before login (as an attacker
// would) and checks login issues a different one and drops the planted one.
func TestSessionFixation(t *testing.T) {
	ta := newTestApp(t, nil)
	ta.createUser(t, "ann@example.com", "correct horse battery")
	planted := "planted-token-0123456789abcdefghijklmno"
	expiry := time.Now().Add(time.Hour)
	data, err := ta.sessions.Codec.Encode(expiry, map[string]any{"seen": true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ta.pool.Exec(context.Background(), "INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3)", planted, data, expiry); err != nil {
		t.Fatal(err)
	}
	c := ta.client(t)
	u, _ := url.Parse(ta.srv.URL)
	c.hc.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: planted, Path: "/"}})
	wantStatus(t, c.login("ann@example.com", "correct horse battery"), http.StatusSeeOther)
	got := c.cookie(sessionCookie)
	if got == "" || got == planted {
		t.Fatalf("session token after login = %q; want a new one", got)
	}
	var n int
	_ = ta.pool.QueryRow(context.Background(), "SELECT count(*) FROM sessions WHERE token = $1", planted).Scan(&n)
	if n != 0 {
		t.Fatal("the planted session still exists")
	}
}

func TestSessionCookieFlags(t *testing.T) {
	ta := newTestApp(t, map[string]string{"BASE_URL": "https://files.example.com", "BLOB_SIGNING_KEY": testSigningKey})
	ta.createUser(t, "ann@example.com", "correct horse battery")
	r := ta.client(t).login("ann@example.com", "correct horse battery")
	sc := r.header.Get("Set-Cookie")
	for _, want := range []string{"__Host-weupload_session=", "Path=/", "HttpOnly", "Secure", "SameSite=Lax"} {
		if !strings.Contains(sc, want) {
			t.Fatalf("Set-Cookie %q lacks %q", sc, want)
		}
	}
	if strings.Contains(sc, "Domain=") {
		t.Fatalf("__Host- cookie must not set Domain: %q", sc)
	}
}

func TestChangePasswordEndsOtherSessions(t *testing.T) {
	ta := newTestApp(t, nil)
	ta.createUser(t, "ann@example.com", "old password 1")
	laptop, phone := ta.client(t), ta.client(t)
	laptop.login("ann@example.com", "old password 1")
	phone.login("ann@example.com", "old password 1")
	before := laptop.cookie(sessionCookie)

	r := laptop.post("/account/password", url.Values{"current_password": {"wrong one"}, "new_password": {"new password 2"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, "This is not your current password.")

	r = laptop.post("/account/password", url.Values{"current_password": {"old password 1"}, "new_password": {"new password 2"}})
	wantStatus(t, r, http.StatusSeeOther)
	if after := laptop.cookie(sessionCookie); after == before || after == "" {
		t.Fatal("session token not renewed on password change")
	}
	r = laptop.get("/account")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "Password changed.")
	wantStatus(t, phone.get("/account"), http.StatusSeeOther)
	wantStatus(t, ta.client(t).login("ann@example.com", "new password 2"), http.StatusSeeOther)
}

func TestRegisterBadInput(t *testing.T) {
	ta := newTestApp(t, nil)
	ta.createUser(t, "taken@example.com", "correct horse battery")
	tests := []struct {
		name  string
		form  url.Values
		want  string
		field string
	}{
		{"no at", url.Values{"email": {"taken.example.com"}, "password": {"password1"}}, "Enter an email address like", "email"},
		{"300-char email", url.Values{"email": {strings.Repeat("a", 288) + "@example.com"}, "password": {"password1"}}, "at most 254 characters", "email"},
		{"7-char password", url.Values{"email": {"new@example.com"}, "password": {"1234567"}}, "at least 8 characters", "password"},
		{"1025-char password", url.Values{"email": {"new@example.com"}, "password": {strings.Repeat("p", 1025)}}, "at most 1024 characters", "password"},
		{"empty", url.Values{}, "Enter your email address.", "email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ta.client(t).post("/register", tt.form)
			wantStatus(t, r, http.StatusUnprocessableEntity)
			wantBody(t, r, tt.want, `id="f-`+tt.field+`-error"`, `aria-invalid="true"`)
		})
	}
	var n int
	_ = ta.pool.QueryRow(context.Background(), "SELECT count(*) FROM users").Scan(&n)
	if n != 1 {
		t.Fatalf("%d users after bad registrations, want 1", n)
	}
}

func TestRegistrationClosed(t *testing.T) {
	ta := newTestApp(t, map[string]string{"REGISTRATION": "closed"})
	c := ta.client(t)
	wantStatus(t, c.get("/register"), http.StatusNotFound)
	wantStatus(t, c.post("/register", url.Values{"email": {"a@example.com"}, "password": {"password1"}}), http.StatusNotFound)
	r := c.get("/login")
	if strings.Contains(r.body, `href="/register"`) {
		t.Fatal("login page links to a closed sign-up")
	}
}

func TestHTMXForms(t *testing.T) {
	ta := newTestApp(t, nil)
	ta.createUser(t, "ann@example.com", "correct horse battery")
	c := ta.client(t)
	c.header.Set("HX-Request", "true")

	r := c.login("ann@example.com", "wrong password!")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, `<form id="login-form"`, "Incorrect email or password.")
	if strings.Contains(r.body, "<html") {
		t.Fatal("htmx error answer is a whole page, want the form fragment")
	}
	r = c.login("ann@example.com", "correct horse battery")
	wantStatus(t, r, http.StatusNoContent)
	if r.header.Get("HX-Redirect") != "/files" {
		t.Fatalf("HX-Redirect %q", r.header.Get("HX-Redirect"))
	}
	r = c.post("/account/profile", url.Values{"display_name": {"Ann <b>Bold</b>"}})
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "Saved.", `value="Ann &lt;b&gt;Bold&lt;/b&gt;"`)
}

func TestBadRequestBodies(t *testing.T) {
	ta := newTestApp(t, nil)
	c := ta.client(t)
	big := url.Values{"email": {strings.Repeat("a", 2<<20)}, "password": {"x"}}
	r := c.post("/login", big)
	wantStatus(t, r, http.StatusBadRequest)
	wantBody(t, r, "Request id")

	req, _ := http.NewRequest(http.MethodPost, ta.srv.URL+"/register", strings.NewReader("email=%zz&password"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r = c.do(req)
	wantStatus(t, r, http.StatusBadRequest)
	wantBody(t, r, "The form could not be read.")
}

// countOnly lets password checks wait as long as needed for a hash slot, for
// tests that count throttle answers: on a loaded machine a 503 (busy) would
// stand in for a 422.
func (ta *testApp) countOnly() { ta.hasher.Wait = time.Minute }

// postForm builds a form POST to the test server, from the client IP ip
// (the app must trust loopback proxies) and with the session cookie when
// session is set.
func (ta *testApp) postForm(path string, form url.Values, ip, session string) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, ta.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if ip != "" {
		req.Header.Set("X-Forwarded-For", ip)
	}
	if session != "" {
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: session})
	}
	return req
}

// fire sends the n requests at the same moment and returns their answers.
// Concurrency tests use it rather than client, whose helpers stop the test
// from the calling goroutine.
func fire(t testing.TB, reqs []*http.Request) []response {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	out := make([]response, len(reqs))
	errs := make([]error, len(reqs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, req := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := hc.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			out[i] = response{status: res.StatusCode, header: res.Header, body: string(b)}
		}()
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return out
}

// statuses counts answers by status code.
func statuses(rs []response) map[int]int {
	m := map[int]int{}
	for _, r := range rs {
		m[r.status]++
	}
	return m
}

// heapPeak samples the live heap until stop is called and returns the
// largest growth over the level at the start.
func heapPeak() (stop func() uint64) {
	runtime.GC()
	sample := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	rtmetrics.Read(sample)
	base, peak := sample[0].Value.Uint64(), uint64(0)
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		for {
			rtmetrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > base && v-base > peak {
				peak = v - base
			}
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		return peak
	}
}

// TestConcurrentLoginsBoundHashing fires 40 logins at once (distinct
// emails and IPs, so no throttle applies): at most PASSWORD_HASH_CONCURRENCY
// argon2 runs (19 MiB each) may be in memory together; the rest wait
// briefly and then get 503 with Retry-After, never an unbounded heap.
func TestConcurrentLoginsBoundHashing(t *testing.T) {
	ta := newTestApp(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.0/8", "PASSWORD_HASH_CONCURRENCY": "2"})
	ta.hasher.Wait = 0 // refuse at once when both slots are taken
	const n = 40
	reqs := make([]*http.Request, n)
	for i := range reqs {
		reqs[i] = ta.postForm("/login", url.Values{"email": {fmt.Sprintf("u%d@example.com", i)}, "password": {"wrong password"}}, fmt.Sprintf("198.51.100.%d", i+1), "")
	}
	stop := heapPeak()
	rs := fire(t, reqs)
	peak := stop()
	got := statuses(rs)
	t.Logf("answers %v; heap peak +%d MiB", got, peak>>20)
	if got[http.StatusServiceUnavailable] == 0 || got[http.StatusServiceUnavailable]+got[http.StatusUnprocessableEntity] != n {
		t.Fatalf("answers %v; want 422s and 503s only, some 503", got)
	}
	for _, r := range rs {
		if r.status == http.StatusServiceUnavailable && r.header.Get("Retry-After") == "" {
			t.Fatal("503 without Retry-After")
		}
	}
	// Two slots hold 2 × 19 MiB; garbage from finished runs may double it
	// before a collection. 40 unbounded runs hold 760 MiB.
	if limit := uint64(8 * 19 << 20); peak > limit {
		t.Fatalf("heap grew %d MiB during the burst, want under %d MiB", peak>>20, limit>>20)
	}
}

// TestLoginRefusesHugeEmailsCheaply: an email no account can have is
// refused as bad credentials, not hashed and not a throttle insert that
// fails (500) with the email in an error log line.
func TestLoginRefusesHugeEmailsCheaply(t *testing.T) {
	ta := newTestApp(t, nil)
	// Random, so PostgreSQL cannot compress the key under its index limit.
	b := make([]byte, 1500)
	_, _ = rand.Read(b)
	huge := hex.EncodeToString(b) + "@example.com"
	for range 3 {
		r := ta.client(t).login(huge, "wrong password")
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantBody(t, r, "Incorrect email or password.")
	}
	if logs := ta.logs.String(); strings.Contains(logs, huge[:100]) || strings.Contains(logs, `"level":"ERROR"`) {
		t.Fatalf("the huge email reached the error log:\n%.500s", logs)
	}
}

// TestConcurrentWrongLoginsTakeBeforeVerify fires 20 wrong passwords for one
// account at once (from 20 IPs) against a limit of 5: exactly 5 reach
// argon2 (422), the other 15 are refused before it (429).
func TestConcurrentWrongLoginsTakeBeforeVerify(t *testing.T) {
	ta := newTestApp(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.0/8"})
	ta.countOnly()
	ta.createUser(t, "ann@example.com", "correct horse battery")
	reqs := make([]*http.Request, 20)
	for i := range reqs {
		reqs[i] = ta.postForm("/login", url.Values{"email": {"ann@example.com"}, "password": {"wrong password"}}, fmt.Sprintf("198.51.100.%d", i+1), "")
	}
	got := statuses(fire(t, reqs))
	t.Logf("answers %v", got)
	if got[http.StatusUnprocessableEntity] != 5 || got[http.StatusTooManyRequests] != 15 {
		t.Fatalf("answers %v; want 5 verified (422) and 15 throttled (429)", got)
	}

	t.Run("per IP", func(t *testing.T) {
		ta.auth.IPRule = ratelimit.Rule{Limit: 5, Window: 15 * time.Minute}
		reqs := make([]*http.Request, 20)
		for i := range reqs {
			reqs[i] = ta.postForm("/login", url.Values{"email": {fmt.Sprintf("u%d@example.com", i)}, "password": {"wrong password"}}, "203.0.113.9", "")
		}
		got := statuses(fire(t, reqs))
		if got[http.StatusUnprocessableEntity] != 5 || got[http.StatusTooManyRequests] != 15 {
			t.Fatalf("answers %v; want 5 verified (422) and 15 throttled (429)", got)
		}
	})
	t.Run("a success gives its attempt back", func(t *testing.T) {
		ta.createUser(t, "bob@example.com", "correct horse battery")
		ta.auth.IPRule = ratelimit.Rule{Limit: 3, Window: 15 * time.Minute}
		for range 5 {
			wantStatus(t, ta.client(t).do(ta.postForm("/login", url.Values{"email": {"bob@example.com"}, "password": {"correct horse battery"}}, "203.0.113.10", "")), http.StatusSeeOther)
		}
	})
}

// TestConcurrentWrongLinkPasswordsPerIP fires 30 wrong passwords for a link
// from one IP at once against the IP limit of 10: exactly 10 are verified.
func TestConcurrentWrongLinkPasswordsPerIP(t *testing.T) {
	ta := newFilesTestApp(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.0/8"})
	ta.countOnly()
	_, ann := ta.shareUser(t, "ann@example.com")
	f := ta.uploadTo(t, ann.ID, "", "a.txt", []byte("a"))
	l := ta.link(t, ann.ID, shares.CreateInput{FileIDs: []string{f.ID}, Password: "open sesame"})
	reqs := make([]*http.Request, 30)
	for i := range reqs {
		reqs[i] = ta.postForm("/s/"+l.Token, url.Values{"password": {"wrong one"}}, "203.0.113.7", "")
	}
	got := statuses(fire(t, reqs))
	t.Logf("answers %v", got)
	if got[http.StatusUnprocessableEntity] != 10 || got[http.StatusTooManyRequests] != 20 {
		t.Fatalf("answers %v; want 10 verified (422) and 20 throttled (429)", got)
	}
	// The right password from another IP still opens it, and gives its
	// attempt back (the link allows 20: 10 used).
	for range 12 {
		wantStatus(t, ta.client(t).do(ta.postForm("/s/"+l.Token, url.Values{"password": {"open sesame"}}, "203.0.113.8", "")), http.StatusSeeOther)
	}

	t.Run("upload link", func(t *testing.T) {
		req, err := ta.shares.CreateRequest(t.Context(), ann.ID, shares.CreateRequestInput{Password: "drop it here"})
		if err != nil {
			t.Fatal(err)
		}
		token := tokenFrom(req.URL)
		reqs := make([]*http.Request, 30)
		for i := range reqs {
			reqs[i] = ta.postForm("/r/"+token, url.Values{"password": {"nope nope"}}, "203.0.113.9", "")
		}
		got := statuses(fire(t, reqs))
		if got[http.StatusUnprocessableEntity] != 10 || got[http.StatusTooManyRequests] != 20 {
			t.Fatalf("answers %v; want 10 verified (422) and 20 throttled (429)", got)
		}
	})
}

// TestConcurrentSignUpsThrottledPerIP fires 20 sign-ups from one IP at once
// against a limit of 5: 5 are hashed, 15 refused.
func TestConcurrentSignUpsThrottledPerIP(t *testing.T) {
	ta := newTestApp(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.0/8"})
	ta.countOnly()
	ta.auth.RegisterRule = ratelimit.Rule{Limit: 5, Window: time.Hour}
	reqs := make([]*http.Request, 20)
	for i := range reqs {
		reqs[i] = ta.postForm("/register", url.Values{"email": {fmt.Sprintf("u%d@example.com", i)}, "password": {"correct horse battery"}}, "203.0.113.5", "")
	}
	got := statuses(fire(t, reqs))
	t.Logf("answers %v", got)
	if got[http.StatusSeeOther] != 5 || got[http.StatusTooManyRequests] != 15 {
		t.Fatalf("answers %v; want 5 accepted (303) and 15 throttled (429)", got)
	}
	var n int
	_ = ta.pool.QueryRow(t.Context(), "SELECT count(*) FROM users").Scan(&n)
	if n != 5 {
		t.Fatalf("%d users, want 5", n)
	}
}

// TestSignUpDoesNotRevealAccounts: a taken email and a new one get the same
// answer, and neither logs the visitor in.
func TestSignUpDoesNotRevealAccounts(t *testing.T) {
	ta := newTestApp(t, nil)
	ta.createUser(t, "ann@example.com", "correct horse battery")
	taken, fresh := ta.client(t), ta.client(t)
	rt := taken.post("/register", url.Values{"email": {"ANN@example.com"}, "password": {"another password"}})
	rf := fresh.post("/register", url.Values{"email": {"bob@example.com"}, "password": {"another password"}})
	for _, r := range []response{rt, rf} {
		wantStatus(t, r, http.StatusSeeOther)
		if loc := r.header.Get("Location"); loc != "/login?registered=1" {
			t.Fatalf("Location %q", loc)
		}
	}
	if rt.body != rf.body || taken.cookie(sessionCookie) != "" || fresh.cookie(sessionCookie) != "" {
		t.Fatal("the answers differ or a session was made")
	}
	wantBody(t, taken.get("/login?registered=1"), "sign in with your email and password")
	// The taken account keeps its password; the new one works.
	wantStatus(t, ta.client(t).login("ann@example.com", "another password"), http.StatusUnprocessableEntity)
	wantStatus(t, ta.client(t).login("ann@example.com", "correct horse battery"), http.StatusSeeOther)
	wantStatus(t, ta.client(t).login("bob@example.com", "another password"), http.StatusSeeOther)
}

// TestEmailUnicodeForms: the NFC and NFD spellings of one address are one
// account, on sign-up and sign-in.
func TestEmailUnicodeForms(t *testing.T) {
	ta := newTestApp(t, nil)
	nfc, nfd := "jos\u00e9@example.com", "jose\u0301@example.com"
	wantStatus(t, ta.client(t).post("/register", url.Values{"email": {nfd}, "password": {"correct horse battery"}}), http.StatusSeeOther)
	wantStatus(t, ta.client(t).post("/register", url.Values{"email": {strings.ToUpper(nfc)}, "password": {"other password"}}), http.StatusSeeOther)
	var emails []string
	rows, _ := ta.pool.Query(t.Context(), "SELECT email FROM users")
	emails, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(emails) != 1 || emails[0] != nfc {
		t.Fatalf("users %q (%v), want one, stored as NFC", emails, err)
	}
	wantStatus(t, ta.client(t).login(nfc, "correct horse battery"), http.StatusSeeOther)
	wantStatus(t, ta.client(t).login(nfd, "correct horse battery"), http.StatusSeeOther)
}

func TestSafeNext(t *testing.T) {
	tests := []struct {
		next, want string
	}{
		{"/account", "/account"},
		{"/files?folder=abc#top", "/files?folder=abc#top"},
		{"/s/abc%2Fdef", "/s/abc%2Fdef"},
		{"", "/files"},
		{"account", "/files"},
		{"//evil.example", "/files"},
		{"/\t/evil.example", "/files"},
		{"/\n/evil.example", "/files"},
		{"/\r/evil.example", "/files"},
		{"\t//evil.example", "/files"},
		{"/\\evil.example", "/files"},
		{"/\\/evil.example", "/files"},
		{"\\\\evil.example", "/files"},
		{"/x\\..\\..\\/evil.example", "/files"},
		{"https://evil.example", "/files"},
		{"/https://evil.example", "/https://evil.example"},
		{"javascript:alert(1)", "/files"},
		{"/%2F/evil.example", "/files"},
		{"/\x00/evil.example", "/files"},
		{"/\x7f/evil.example", "/files"},
		{"/\u0085/evil.example", "/files"},
		{" /evil", "/files"},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.next), func(t *testing.T) {
			if got := safeNext(tt.next); got != tt.want {
				t.Fatalf("safeNext(%q) = %q, want %q", tt.next, got, tt.want)
			}
		})
	}
}

// TestLoginNextTabRedirect: next=/<tab>/evil.example must not become a
// redirect browsers and htmx follow to //evil.example. The input check
// refuses the tab (422, no redirect at all); a next that only safeNext
// catches (a backslash) signs in and goes home.
func TestLoginNextTabRedirect(t *testing.T) {
	ta := newTestApp(t, nil)
	ta.createUser(t, "ann@example.com", "correct horse battery")
	for _, htmx := range []bool{false, true} {
		c := ta.client(t)
		if htmx {
			c.header.Set("HX-Request", "true")
		}
		r := c.post("/login", url.Values{"email": {"ann@example.com"}, "password": {"correct horse battery"}, "next": {"/\t/evil.example"}})
		if r.status != http.StatusUnprocessableEntity || r.header.Get("Location") != "" || r.header.Get("HX-Redirect") != "" {
			t.Fatalf("htmx %v: tab in next: status %d, Location %q, HX-Redirect %q; want 422 and no redirect", htmx, r.status, r.header.Get("Location"), r.header.Get("HX-Redirect"))
		}
		r = c.post("/login", url.Values{"email": {"ann@example.com"}, "password": {"correct horse battery"}, "next": {"/\\evil.example"}})
		want, got := "/files", r.header.Get("Location")
		if htmx {
			got = r.header.Get("HX-Redirect")
		}
		if got != want {
			t.Fatalf("htmx %v: backslash in next: redirect %q, want %q", htmx, got, want)
		}
	}
}

// TestChangePasswordRevokesTokensWhenAsked: tokens survive a password change
// unless the checkbox asks to revoke them.
func TestChangePasswordRevokesTokensWhenAsked(t *testing.T) {
	ta := newTestApp(t, nil)
	u := ta.createUser(t, "ann@example.com", "old password 1")
	_, kept, err := ta.auth.CreateToken(t.Context(), u.ID, nil, auth.CreateTokenInput{Name: "kept", Scopes: auth.Scopes})
	if err != nil {
		t.Fatal(err)
	}
	c := ta.client(t)
	c.login("ann@example.com", "old password 1")
	wantBody(t, c.get("/account"), `name="revoke_tokens"`, "Also revoke my API tokens")
	wantStatus(t, c.post("/account/password", url.Values{"current_password": {"old password 1"}, "new_password": {"new password 2"}}), http.StatusSeeOther)
	wantStatus(t, c.apiCall("GET", "/api/v1/files", kept, ""), http.StatusOK)

	wantStatus(t, c.post("/account/password", url.Values{"current_password": {"new password 2"}, "new_password": {"new password 3"}, "revoke_tokens": {"1"}}), http.StatusSeeOther)
	wantBody(t, c.get("/account"), "Your API tokens were revoked.")
	wantStatus(t, c.apiCall("GET", "/api/v1/files", kept, ""), http.StatusUnauthorized)
}

// TestConcurrentWrongCurrentPasswords fires 20 wrong current passwords at
// once from one session against the per-user limit of 5.
func TestConcurrentWrongCurrentPasswords(t *testing.T) {
	ta := newTestApp(t, nil)
	ta.countOnly()
	ta.createUser(t, "ann@example.com", "old password 1")
	c := ta.client(t)
	c.login("ann@example.com", "old password 1")
	session := c.cookie(sessionCookie)
	reqs := make([]*http.Request, 20)
	for i := range reqs {
		reqs[i] = ta.postForm("/account/password", url.Values{"current_password": {fmt.Sprintf("guess %d!", i)}, "new_password": {"new password 2"}}, "", session)
	}
	got := statuses(fire(t, reqs))
	t.Logf("answers %v", got)
	if got[http.StatusUnprocessableEntity] != 5 || got[http.StatusTooManyRequests] != 15 {
		t.Fatalf("answers %v; want 5 verified (422) and 15 throttled (429)", got)
	}
}
