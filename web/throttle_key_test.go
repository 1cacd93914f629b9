package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/weupload/weupload/internal/ratelimit"
)

func TestThrottleKey(t *testing.T) {
	tests := []struct{ ip, want string }{
		{"198.51.100.7", "198.51.100.7"},
		{"::ffff:198.51.100.7", "198.51.100.7"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"not an address", "not an address"},
	}
	for _, tt := range tests {
		if got := throttleKey(tt.ip); got != tt.want {
			t.Errorf("throttleKey(%q) = %q, want %q", tt.ip, got, tt.want)
		}
	}
}

// TestThrottlePerIPv6Prefix: two addresses in one /64 share the per-IP
// login and API limits (a host with a /64 could otherwise take a fresh
// address per attempt); another /64 does not, and IPv4-mapped IPv6 counts
// as its IPv4 address.
func TestThrottlePerIPv6Prefix(t *testing.T) {
	ta := newFilesTestApp(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.0/8"}, func(a *app) {
		a.auth.IPRule = ratelimit.Rule{Limit: 2, Window: 15 * time.Minute}
		a.apiRules.IP = ratelimit.Rule{Limit: 3, Window: time.Minute}
	})
	c := ta.client(t)
	fromIP := func(ip string, req *http.Request) response {
		t.Helper()
		req.Header.Set("X-Forwarded-For", ip)
		return c.do(req)
	}
	login := func(ip, email string) response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, ta.srv.URL+"/login", strings.NewReader(url.Values{"email": {email}, "password": {"wrong password"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return fromIP(ip, req)
	}
	t.Run("login", func(t *testing.T) {
		wantStatus(t, login("2001:db8:1:2::1", "a@example.com"), http.StatusUnprocessableEntity)
		wantStatus(t, login("2001:db8:1:2::2", "b@example.com"), http.StatusUnprocessableEntity)
		wantStatus(t, login("2001:db8:1:2:ffff::9", "c@example.com"), http.StatusTooManyRequests)
		wantStatus(t, login("2001:db8:1:3::1", "c@example.com"), http.StatusUnprocessableEntity)

		wantStatus(t, login("198.51.100.7", "a@example.com"), http.StatusUnprocessableEntity)
		wantStatus(t, login("::ffff:198.51.100.7", "b@example.com"), http.StatusUnprocessableEntity)
		wantStatus(t, login("198.51.100.7", "c@example.com"), http.StatusTooManyRequests)
		wantStatus(t, login("198.51.100.8", "c@example.com"), http.StatusUnprocessableEntity)
	})
	t.Run("API", func(t *testing.T) {
		ta.createUser(t, "ann@example.com", "correct horse battery")
		_, secret := newToken(t, ta.loggedIn(t, "bob@example.com"), `{"name":"ci","scopes":["files:read"]}`)
		me := func(ip string) response {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, ta.srv.URL+"/api/v1/me", nil)
			req.Header.Set("Authorization", "Bearer "+secret)
			return fromIP(ip, req)
		}
		for _, ip := range []string{"2001:db8:5:6::1", "2001:db8:5:6::2", "2001:db8:5:6:abcd::3"} {
			wantStatus(t, me(ip), http.StatusOK)
		}
		wantProblem(t, me("2001:db8:5:6::4"), http.StatusTooManyRequests, "try again")
		wantStatus(t, me("2001:db8:5:7::1"), http.StatusOK)
	})
}
