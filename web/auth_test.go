package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/weupload/weupload/internal/ratelimit"
)

const sessionCookie = "weupload_session" // BASE_URL is http in tests, so no __Host- prefix

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
	r = c.get("/files")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "My files", "Welcome to We-Upload, Ann!", "ann@example.com")

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
		{"taken any case", url.Values{"email": {"TAKEN@example.com"}, "password": {"password1"}}, "already registered", "email"},
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
const testSigningKey = "test-blob-signing-key-0123456789abcdef"
