package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestLogsCarryNoSecrets sends secrets through every path that exists and
// scans the server's log output for them. Each feature that adds a secret
// (API tokens, share tokens and passwords, presigned URLs) extends it.
func TestLogsCarryNoSecrets(t *testing.T) {
	ta := newTestApp(t, nil)
	const (
		password    = "Secret-Passw0rd-For-Logs"
		newPassword = "Another-Secret-Passw0rd"
	)
	c := ta.client(t)
	c.post("/register", url.Values{"email": {"ann@example.com"}, "password": {password}})
	c.post("/logout", nil)
	c.login("ann@example.com", "wrong-"+password)
	c.post("/login?next=/account&password="+url.QueryEscape(password), url.Values{"email": {"ann@example.com"}, "password": {password}})
	session := c.cookie(sessionCookie)
	if session == "" {
		t.Fatal("not logged in")
	}
	c.post("/account/password", url.Values{"current_password": {password}, "new_password": {newPassword}})
	c.get("/no/such/page?token=" + url.QueryEscape(password))
	req, _ := http.NewRequest(http.MethodGet, ta.srv.URL+"/files", nil)
	req.Header.Set("Authorization", "Bearer "+password)
	c.do(req)

	logs := ta.logs.String()
	if !strings.Contains(logs, `"route":"/login"`) {
		t.Fatal("no request lines logged; the scan would prove nothing")
	}
	for name, secret := range map[string]string{
		"password":       password,
		"new password":   newPassword,
		"session cookie": session,
		"renewed cookie": c.cookie(sessionCookie),
	} {
		if secret != "" && strings.Contains(logs, secret) {
			t.Errorf("the %s appears in the logs", name)
		}
	}
}
