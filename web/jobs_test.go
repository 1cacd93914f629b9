package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/weupload/weupload/internal/auth"
)

// The job queue UI is for administrators only: others find nothing there,
// and the page keeps the app's CSP (no inline code allowed).
func TestAdminJobsUI(t *testing.T) {
	ta := newTestApp(t, nil)
	ta.createUser(t, "user@example.com", "correct horse battery")
	admin, err := ta.auth.CreateUser(t.Context(), auth.RegisterInput{Email: "admin@example.com", Password: "correct horse battery"}, true)
	if err != nil || !admin.IsAdmin {
		t.Fatal(err)
	}

	if res := ta.client(t).get("/admin/jobs/"); res.status != http.StatusSeeOther {
		t.Errorf("anonymous: %d, want a redirect to sign in", res.status)
	}
	user := ta.client(t)
	user.login("user@example.com", "correct horse battery")
	for _, p := range []string{"/admin/jobs", "/admin/jobs/", "/admin/jobs/api/jobs?state=available"} {
		if res := user.get(p); res.status != http.StatusNotFound {
			t.Errorf("non-admin %s: %d, want 404", p, res.status)
		}
	}
	adm := ta.client(t)
	adm.login("admin@example.com", "correct horse battery")
	res := adm.get("/admin/jobs/")
	if res.status != http.StatusOK || !strings.Contains(res.body, `<script type="module" src="/admin/jobs/`) {
		t.Fatalf("admin UI: %d %.300s", res.status, res.body)
	}
	if csp := res.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	if res := adm.get("/admin/jobs/api/jobs?state=available"); res.status != http.StatusOK || !strings.Contains(res.body, `"data"`) {
		t.Errorf("admin API: %d %.300s", res.status, res.body)
	}
}
