package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weupload/weupload/internal/auth"
)

type apiLink struct {
	ID           string     `json:"id"`
	URL          string     `json:"url"`
	State        string     `json:"state"`
	Kind         string     `json:"kind"`
	FileIDs      []string   `json:"file_ids"`
	FolderID     *string    `json:"folder_id"`
	Title        string     `json:"title"`
	Note         string     `json:"note"`
	HasPassword  bool       `json:"has_password"`
	ExpiresAt    *time.Time `json:"expires_at"`
	MaxDownloads *int       `json:"max_downloads"`
	Downloads    int        `json:"downloads"`
	RevokedAt    *time.Time `json:"revoked_at"`
}

// linkSecret makes an API token with scopes for the user.
func linkSecret(t testing.TB, ta *testApp, userID string, scopes ...string) string {
	t.Helper()
	_, secret, err := ta.auth.CreateToken(t.Context(), userID, nil, auth.CreateTokenInput{Name: "links", Scopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func TestAPILinks(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	ann, annUser := ta.shareUser(t, "ann@example.com")
	f := ta.uploadTo(t, annUser.ID, "", "a.txt", []byte("a"))
	g := ta.uploadTo(t, annUser.ID, "", "b.txt", []byte("b"))

	r := ann.apiCall("POST", "/api/v1/links", "", fmt.Sprintf(`{"file_ids":[%q,%q],"password":"open sesame","max_downloads":2,`+
		`"expires_at":"2031-05-06T07:08:09Z","title":"Both","note":"hi"}`, f.ID, g.ID))
	wantStatus(t, r, http.StatusCreated)
	l := decode[apiLink](t, r)
	if got := keys(t, r.body); !slices.Equal(got, []string{"created_at", "downloads", "expires_at", "file_ids", "folder_id", "has_password", "id",
		"kind", "last_access_at", "max_downloads", "note", "revoked_at", "state", "title", "updated_at", "url", "views"}) {
		t.Errorf("link keys %v", got)
	}
	if !strings.HasPrefix(l.URL, ta.srv.URL+"/s/") || l.State != "active" || l.Kind != "files" || !slices.Equal(l.FileIDs, []string{f.ID, g.ID}) ||
		!l.HasPassword || *l.MaxDownloads != 2 || !l.ExpiresAt.Equal(time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)) || l.FolderID != nil {
		t.Fatalf("created %+v", l)
	}
	if strings.Contains(r.body, "password_hash") || strings.Contains(r.body, "open sesame") {
		t.Fatal("the password leaks into the answer")
	}
	if loc := r.header.Get("Location"); loc != "/api/v1/links/"+l.ID {
		t.Errorf("Location %q", loc)
	}
	token := l.URL[strings.LastIndex(l.URL, "/")+1:]
	// The recipient path works with the URL from the API.
	wantBody(t, ta.unlocked(t, token, "open sesame").get("/s/"+token), "Both")

	r = ann.get("/api/v1/links")
	wantStatus(t, r, 200)
	list := decode[struct {
		Items []apiLink `json:"items"`
		Next  *string   `json:"next"`
	}](t, r)
	if len(list.Items) != 1 || list.Items[0].ID != l.ID || list.Next != nil {
		t.Fatalf("list %+v", list)
	}
	wantStatus(t, ann.get("/api/v1/links/"+l.ID), 200)

	// PATCH: given fields change, absent ones stay, null clears.
	r = ann.apiCall("PATCH", "/api/v1/links/"+l.ID, "", `{"title":"Renamed","expires_at":null,"password":null}`)
	wantStatus(t, r, 200)
	l = decode[apiLink](t, r)
	if l.Title != "Renamed" || l.Note != "hi" || l.ExpiresAt != nil || l.HasPassword || l.MaxDownloads == nil || *l.MaxDownloads != 2 {
		t.Fatalf("patched %+v", l)
	}
	r = ann.apiCall("PATCH", "/api/v1/links/"+l.ID, "", `{"max_downloads":null}`)
	if l = decode[apiLink](t, r); l.MaxDownloads != nil || l.Title != "Renamed" {
		t.Fatalf("patched limit %+v", l)
	}
	wantProblem(t, ann.apiCall("PATCH", "/api/v1/links/"+l.ID, "", `{"max_downloads":0}`), 422, "correct")
	wantProblem(t, ann.apiCall("PATCH", "/api/v1/links/"+l.ID, "", `{"token":"mine"}`), 400, "Unknown field")

	r = ann.apiCall("DELETE", "/api/v1/links/"+l.ID, "", "")
	wantStatus(t, r, http.StatusNoContent)
	wantStatus(t, ta.client(t).get("/s/"+token), 404)
	r = ann.get("/api/v1/links/" + l.ID)
	if l = decode[apiLink](t, r); l.State != "revoked" || l.RevokedAt == nil {
		t.Fatalf("after DELETE %+v", l)
	}
	wantProblem(t, ann.apiCall("PATCH", "/api/v1/links/"+l.ID, "", `{"title":"x"}`), 409, "revoked")

	// A folder link.
	dir := fmt.Sprint(decode[map[string]any](t, ann.apiCall("POST", "/api/v1/folders", "", `{"name":"Docs"}`))["id"])
	r = ann.apiCall("POST", "/api/v1/links", "", fmt.Sprintf(`{"folder_id":%q}`, dir))
	wantStatus(t, r, http.StatusCreated)
	if fl := decode[apiLink](t, r); fl.Kind != "folder" || fl.FolderID == nil || *fl.FolderID != dir || len(fl.FileIDs) != 0 || fl.MaxDownloads != nil {
		t.Fatalf("folder link %+v", fl)
	}

	wantProblem(t, ann.apiCall("POST", "/api/v1/links", "", fmt.Sprintf(`{"file_ids":[%q],"folder_id":%q}`, f.ID, dir)), 422, "correct")
	wantProblem(t, ann.apiCall("POST", "/api/v1/links", "", `{}`), 422, "correct")
	wantProblem(t, ann.apiCall("POST", "/api/v1/links", "", fmt.Sprintf(`{"file_ids":[%q],"expires_at":"tomorrow"}`, f.ID)), 400, "")
}

// TestAPILinksScoping: someone else's links and files are 404 whatever the
// verb; tokens need files:read to read and also shares:write to change.
func TestAPILinksScoping(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	ann, annUser := ta.shareUser(t, "ann@example.com")
	bob, bobUser := ta.shareUser(t, "bob@example.com")
	f := ta.uploadTo(t, annUser.ID, "", "a.txt", []byte("a"))
	bobs := ta.uploadTo(t, bobUser.ID, "", "b.txt", []byte("b"))
	r := ann.apiCall("POST", "/api/v1/links", "", fmt.Sprintf(`{"file_ids":[%q]}`, f.ID))
	wantStatus(t, r, http.StatusCreated)
	l := decode[apiLink](t, r)

	wantProblem(t, bob.get("/api/v1/links/"+l.ID), 404, "not found")
	wantProblem(t, bob.apiCall("PATCH", "/api/v1/links/"+l.ID, "", `{"title":"mine"}`), 404, "not found")
	wantProblem(t, bob.apiCall("DELETE", "/api/v1/links/"+l.ID, "", ""), 404, "not found")
	wantProblem(t, bob.get("/api/v1/links/not-a-uuid"), 404, "not found")
	wantProblem(t, ann.apiCall("POST", "/api/v1/links", "", fmt.Sprintf(`{"file_ids":[%q]}`, bobs.ID)), 404, "not found")
	if list := decode[struct{ Items []apiLink }](t, bob.get("/api/v1/links")); len(list.Items) != 0 {
		t.Fatalf("bob lists %d links", len(list.Items))
	}
	wantProblem(t, ta.client(t).get("/api/v1/links"), 401, "")

	c := ta.client(t)
	read := linkSecret(t, ta, annUser.ID, auth.ScopeFilesRead)
	write := linkSecret(t, ta, annUser.ID, auth.ScopeSharesWrite)
	both := linkSecret(t, ta, annUser.ID, auth.ScopeFilesRead, auth.ScopeSharesWrite)
	create := fmt.Sprintf(`{"file_ids":[%q]}`, f.ID)
	wantStatus(t, c.apiCall("GET", "/api/v1/links", read, ""), 200)
	wantProblem(t, c.apiCall("POST", "/api/v1/links", read, create), 403, "shares:write")
	wantProblem(t, c.apiCall("DELETE", "/api/v1/links/"+l.ID, read, ""), 403, "shares:write")
	wantProblem(t, c.apiCall("GET", "/api/v1/links", write, ""), 403, "files:read")
	wantProblem(t, c.apiCall("POST", "/api/v1/links", write, create), 403, "files:read")
	wantStatus(t, c.apiCall("POST", "/api/v1/links", both, create), 201)
	wantStatus(t, c.apiCall("DELETE", "/api/v1/links/"+l.ID, both, ""), 204)
}
