package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/weupload/weupload/internal/files"
)

// TestPeopleRoutes runs the sharing-with-people routes and the file
// browser's routes on a shared folder as the owner, a viewer, an editor, a
// stranger and an anonymous visitor: roles give exactly what they say,
// strangers get 404 like for ids that do not exist, role changes and
// removal apply to the next request.
func TestPeopleRoutes(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	ann, annUser := ta.shareUser(t, "ann@example.com")
	vic, vicUser := ta.shareUser(t, "vic@example.com")
	eve, _ := ta.shareUser(t, "eve@example.com")
	sam, _ := ta.shareUser(t, "sam@example.com")
	anon := ta.client(t)

	folder, err := ta.files.CreateFolder(t.Context(), annUser.ID, files.CreateFolderInput{Name: "Team"})
	if err != nil {
		t.Fatal(err)
	}
	f := ta.uploadTo(t, annUser.ID, folder.ID, "plan.txt", []byte("the plan"))

	// The owner shares from the dialog; it lists the people with access.
	r := ann.htmxGet("/share/dialog?folder="+folder.ID, "")
	wantBody(t, r, "People", `id="share-people-form"`)
	share := func(email, role string) response {
		return ann.htmxPost("/share/people", "share-dialog-body", url.Values{"folder": {folder.ID}, "email": {email}, "role": {role}})
	}
	wantBody(t, share("vic@example.com", "viewer"), "(vic@example.com) as viewer", `data-person="vic@example.com"`)
	wantBody(t, share("EVE@example.com ", "editor"), "as editor")
	r = share("nobody@example.com", "viewer")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, "No user has this email address")
	wantStatus(t, share("vic@example.com", "owner"), http.StatusUnprocessableEntity)

	gs, err := ta.files.ListGrants(t.Context(), annUser.ID, files.GrantFilter{FolderID: folder.ID})
	if err != nil || len(gs) != 2 {
		t.Fatalf("grants = %+v, %v", gs, err)
	}
	grantOf := map[string]string{}
	for _, g := range gs {
		grantOf[g.GranteeEmail] = g.ID
	}

	// Shared with me: the item, its owner, the role.
	r = vic.get("/shared-with-me")
	wantBody(t, r, "Team", "Viewer")
	wantBody(t, eve.get("/shared-with-me"), "Team", "Editor")
	if r := sam.get("/shared-with-me"); strings.Contains(r.body, "Team") {
		t.Error("a stranger sees the share")
	}

	type call struct {
		name string
		do   func(c *client) response
	}
	made := 0 // folder names made by the calls, so none clashes
	calls := []call{
		{"browse", func(c *client) response { return c.get("/folders/" + folder.ID) }},
		{"details", func(c *client) response { return c.htmxGet("/files/"+f.ID, "drawer-body") }},
		{"download", func(c *client) response { return c.get("/files/" + f.ID + "/download") }},
		{"new folder", func(c *client) response {
			made++
			return c.htmxPost("/folders", "", url.Values{"parent_id": {folder.ID}, "name": {fmt.Sprint("New ", made)}})
		}},
		{"rename", func(c *client) response {
			return c.htmxPost("/items/rename", "", url.Values{"kind": {"file"}, "id": {f.ID}, "name": {"plan.txt"}})
		}},
		{"share dialog", func(c *client) response { return c.htmxGet("/share/dialog?folder="+folder.ID, "") }},
		{"add person", func(c *client) response {
			return c.htmxPost("/share/people", "share-dialog-body", url.Values{"folder": {folder.ID}, "email": {"sam@example.com"}, "role": {"viewer"}})
		}},
		{"change role", func(c *client) response {
			return c.htmxPost("/share/people/"+grantOf["vic@example.com"], "share-dialog-body", url.Values{"role": {"viewer"}})
		}},
		{"trash shared folder", func(c *client) response {
			return c.htmxPost("/items/trash", "", url.Values{"folder": {folder.ID}})
		}},
	}
	// The status each actor gets; anonymous visitors are sent to log in.
	want := map[string][]int{
		//                     browse details download new  rename share add  role trash
		"owner":  {200, 200, 303, 200, 200, 200, 200, 200, -1},
		"viewer": {200, 200, 303, 403, 403, 403, 404, 404, 403},
		"editor": {200, 200, 303, 200, 200, 403, 404, 404, 403},
		"sam":    {404, 404, 404, 404, 404, 404, 404, 404, 404},
	}
	actors := []struct {
		name string
		c    *client
	}{{"viewer", vic}, {"editor", eve}, {"sam", sam}, {"owner", ann}}
	for _, a := range actors {
		for i, c := range calls {
			if want[a.name][i] < 0 {
				continue
			}
			if r := c.do(a.c); r.status != want[a.name][i] {
				t.Errorf("%s %s: %d, want %d\n%.300s", a.name, c.name, r.status, want[a.name][i], r.body)
			}
		}
	}
	for _, c := range calls {
		if r := c.do(anon); r.status != http.StatusSeeOther && r.status != http.StatusNoContent {
			t.Errorf("anonymous %s: %d, want a redirect to log in", c.name, r.status)
		}
	}
	// Someone added by the owner's dialog in the loop above: sam.
	wantBody(t, sam.get("/shared-with-me"), "Team")

	// What the pages offer follows the role.
	r = vic.get("/folders/" + folder.ID)
	wantBody(t, r, "Shared by", "view and download only", "data-readonly", "Shared with me")
	if strings.Contains(r.body, `hx-get="/folders/new`) || strings.Contains(r.body, "/share/dialog?") {
		t.Error("a viewer is offered New folder or Share")
	}
	r = eve.get("/folders/" + folder.ID)
	wantBody(t, r, "you can add and change files", `hx-get="/folders/new`)
	if strings.Contains(r.body, "/share/dialog?") {
		t.Error("an editor is offered Share")
	}

	// A role change applies to the very next request.
	wantBody(t, ann.htmxPost("/share/people/"+grantOf["vic@example.com"], "share-dialog-body", url.Values{"role": {"editor"}}), "can now also add")
	wantStatus(t, vic.htmxPost("/folders", "", url.Values{"parent_id": {folder.ID}, "name": {"Vic's"}}), http.StatusOK)

	// Removal too; the editor's upload went to the owner's storage.
	before, _ := ta.files.Usage(t.Context(), annUser.ID)
	up := ta.uploadTo(t, vicUser.ID, folder.ID, "from-vic.txt", []byte("12345"))
	if after, _ := ta.files.Usage(t.Context(), annUser.ID); after.Used != before.Used+5 || up.OwnerID != annUser.ID {
		t.Errorf("owner's usage %d → %d, file owner %s", before.Used, after.Used, up.OwnerID)
	}
	wantBody(t, ann.htmxPost("/share/people/"+grantOf["vic@example.com"]+"/remove", "share-dialog-body", nil), "no longer has access")
	wantStatus(t, vic.get("/folders/"+folder.ID), http.StatusNotFound)
	wantStatus(t, vic.get("/files/"+up.ID+"/download"), http.StatusNotFound)

	// The grantee may leave; only theirs to leave.
	wantStatus(t, sam.htmxPost("/shared-with-me/"+grantOf["eve@example.com"]+"/leave", "", nil), http.StatusNotFound)
	r = eve.htmxPost("/shared-with-me/"+grantOf["eve@example.com"]+"/leave", "", nil)
	wantBody(t, r, "no longer shared with you")
	wantStatus(t, eve.get("/folders/"+folder.ID), http.StatusNotFound)
}

// TestAPIGrants shares through /api/v1/grants and uses the share with the
// ordinary files API: the editor's upload is the owner's file.
func TestAPIGrants(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	ann, annUser := ta.shareUser(t, "ann@example.com")
	bob, bobUser := ta.shareUser(t, "bob@example.com")
	folder, err := ta.files.CreateFolder(t.Context(), annUser.ID, files.CreateFolderInput{Name: "Reports"})
	if err != nil {
		t.Fatal(err)
	}
	f := ta.uploadTo(t, annUser.ID, folder.ID, "q1.txt", []byte("q1"))
	annToken := linkSecret(t, ta, annUser.ID, "files:read", "shares:write")
	bobToken := linkSecret(t, ta, bobUser.ID, "files:read", "files:write")

	type grant struct {
		ID       string  `json:"id"`
		FolderID *string `json:"folder_id"`
		FileID   *string `json:"file_id"`
		Name     string  `json:"name"`
		Role     string  `json:"role"`
		Owner    struct {
			Email string `json:"email"`
		} `json:"owner"`
		Grantee struct {
			ID    string `json:"id"`
			Email string `json:"email"`
		} `json:"grantee"`
	}
	type list struct {
		Items []grant `json:"items"`
	}
	r := ann.apiCall("POST", "/api/v1/grants", annToken, fmt.Sprintf(`{"folder_id":%q,"email":"bob@example.com","role":"viewer"}`, folder.ID))
	wantStatus(t, r, http.StatusCreated)
	g := decode[grant](t, r)
	if g.FolderID == nil || *g.FolderID != folder.ID || g.FileID != nil || g.Role != "viewer" || g.Name != "Reports" ||
		g.Owner.Email != "ann@example.com" || g.Grantee.ID != bobUser.ID || r.header.Get("Location") != "/api/v1/grants/"+g.ID {
		t.Fatalf("created %+v", g)
	}
	wantProblem(t, ann.apiCall("POST", "/api/v1/grants", annToken, fmt.Sprintf(`{"folder_id":%q,"email":"nobody@example.com","role":"viewer"}`, folder.ID)),
		http.StatusUnprocessableEntity, "")
	wantProblem(t, bob.apiCall("POST", "/api/v1/grants", bobToken, fmt.Sprintf(`{"file_id":%q,"email":"ann@example.com","role":"viewer"}`, f.ID)),
		http.StatusForbidden, "") // bob's token lacks shares:write

	if l := decode[list](t, ann.apiCall("GET", "/api/v1/grants?folder_id="+folder.ID, annToken, "")); len(l.Items) != 1 || l.Items[0].ID != g.ID {
		t.Fatalf("owner's list %+v", l)
	}
	if l := decode[list](t, bob.apiCall("GET", "/api/v1/grants/received", bobToken, "")); len(l.Items) != 1 || l.Items[0].ID != g.ID {
		t.Fatalf("received %+v", l)
	}
	wantStatus(t, bob.apiCall("GET", "/api/v1/grants/"+g.ID, bobToken, ""), http.StatusOK)
	wantStatus(t, bob.apiCall("GET", "/api/v1/grants?folder_id="+folder.ID, bobToken, ""), http.StatusNotFound)

	// The viewer lists and downloads through the files API, cannot upload.
	wantBody(t, bob.apiCall("GET", "/api/v1/folders/"+folder.ID+"/items", bobToken, ""), "q1.txt")
	wantStatus(t, bob.apiCall("GET", "/api/v1/files/"+f.ID+"/download", bobToken, ""), http.StatusOK)
	initiate := fmt.Sprintf(`{"name":"bob.txt","size":3,"content_type":"text/plain","folder_id":%q}`, folder.ID)
	wantProblem(t, bob.apiCall("POST", "/api/v1/uploads", bobToken, initiate), http.StatusForbidden, "viewer")

	// As editor, the upload succeeds and is the owner's.
	r = ann.apiCall("PATCH", "/api/v1/grants/"+g.ID, annToken, `{"role":"editor"}`)
	wantStatus(t, r, http.StatusOK)
	if decode[grant](t, r).Role != "editor" {
		t.Fatal("role not changed")
	}
	wantProblem(t, ann.apiCall("PATCH", "/api/v1/grants/"+g.ID, annToken, `{"role":"owner"}`), http.StatusUnprocessableEntity, "")
	r = bob.apiCall("POST", "/api/v1/uploads", bobToken, initiate)
	wantStatus(t, r, http.StatusCreated)
	u := decode[apiUploadURLs](t, r)
	if st, _ := put(t, u.URL, u.Headers, []byte("bob")); st != http.StatusOK {
		t.Fatalf("PUT %d", st)
	}
	r = bob.apiCall("POST", "/api/v1/uploads/"+u.ID+"/complete", bobToken, `{"parts":[]}`)
	wantStatus(t, r, http.StatusOK)
	nf, err := ta.files.FindFile(t.Context(), annUser.ID, decode[struct {
		ID string `json:"id"`
	}](t, r).ID)
	if err != nil || nf.OwnerID != annUser.ID || nf.FolderID != folder.ID {
		t.Fatalf("the editor's file %+v, %v", nf, err)
	}

	// Removal applies at once; a second delete is 404.
	wantStatus(t, ann.apiCall("DELETE", "/api/v1/grants/"+g.ID, annToken, ""), http.StatusNoContent)
	wantStatus(t, bob.apiCall("GET", "/api/v1/folders/"+folder.ID+"/items", bobToken, ""), http.StatusNotFound)
	wantStatus(t, ann.apiCall("DELETE", "/api/v1/grants/"+g.ID, annToken, ""), http.StatusNotFound)
}

// TestPeopleMultiSelection shares a multi-selection from the dialog: the
// People section adds the person to each file.
func TestPeopleMultiSelection(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	ann, annUser := ta.shareUser(t, "ann@example.com")
	bob, _ := ta.shareUser(t, "bob@example.com")
	a := ta.uploadTo(t, annUser.ID, "", "a.txt", []byte("a"))
	b := ta.uploadTo(t, annUser.ID, "", "b.txt", []byte("b"))

	r := ann.htmxGet("/share/dialog?file="+a.ID+"&file="+b.ID, "")
	wantBody(t, r, `id="share-people-form"`, "each of the 2 files")
	r = ann.htmxPost("/share/people", "share-dialog-body", url.Values{"file": {a.ID, b.ID}, "email": {"bob@example.com"}, "role": {"viewer"}})
	wantBody(t, r, "Shared 2 files with")
	for _, id := range []string{a.ID, b.ID} {
		wantStatus(t, bob.get("/files/"+id+"/download"), http.StatusSeeOther)
	}
	wantBody(t, bob.get("/shared-with-me"), "a.txt", "b.txt")
}
