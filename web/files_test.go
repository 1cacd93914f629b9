package main

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/weupload/weupload/internal/files"
)

// The file browser's handlers through the real router: which fragment
// each htmx request gets, escaping of user names, keyset pages, dialogs
// with their 422 answers, and that other users' ids are 404.

// htmx returns a copy of c that sends htmx's request headers for target.
func (c *client) htmx(target string) *client {
	h := c.header.Clone()
	h.Set("HX-Request", "true")
	h.Set("HX-Target", target)
	return &client{t: c.t, base: c.base, hc: c.hc, header: h}
}

// browseUser is a logged-in client and the user's id.
func browseUser(t *testing.T, ta *testApp, email string) (*client, string) {
	t.Helper()
	u := ta.createUser(t, email, "correct horse battery")
	c := ta.client(t)
	wantStatus(t, c.login(email, "correct horse battery"), http.StatusSeeOther)
	return c, u.ID
}

func mkdir(t *testing.T, ta *testApp, owner, parent, name string) files.Folder {
	t.Helper()
	f, err := ta.files.CreateFolder(context.Background(), owner, files.CreateFolderInput{ParentID: parent, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestBrowseFragments(t *testing.T) {
	ta := diskTestApp(t, nil)
	c, uid := browseUser(t, ta, "ann@example.com")
	docs := mkdir(t, ta, uid, "", "Docs")
	mkdir(t, ta, uid, docs.ID, "2024")
	uploadViaAPI(t, c, "readme.txt", []byte("hello"))

	// A full page has the layout, the browser region and the upload chrome.
	r := c.get("/files")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "<!doctype html>", `id="browser"`, `id="listing"`, `id="upload-tray"`, "js/upload.js", ">Docs<", ">readme.txt<")

	// Opening a folder with htmx swaps #browser: no layout, a <title>.
	r = c.htmx("browser").get("/folders/" + docs.ID)
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "<title>Docs · We-Upload</title>", `data-folder-id="`+docs.ID+`"`, ">2024<", `aria-label="Breadcrumb"`)
	if strings.Contains(r.body, "<html") || strings.Contains(r.body, "upload-tray") {
		t.Fatalf("browser fragment carries the page around it:\n%.500s", r.body)
	}

	// Search swaps #listing only.
	r = c.htmx("listing").get("/files?q=READ")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, `id="listing"`, "Results for", ">readme.txt<")
	if strings.Contains(r.body, ">Docs<") || strings.Contains(r.body, `id="browser"`) {
		t.Fatalf("search fragment:\n%.1000s", r.body)
	}

	// Back button: htmx asks for the history element and gets a full page.
	hist := c.htmx("browser")
	hist.header.Set("HX-History-Restore-Request", "true")
	wantBody(t, hist.get("/folders/"+docs.ID), "<!doctype html>", `hx-history-elt`)

	// The storage meter refreshes on its own.
	wantBody(t, c.htmx("usage").get("/usage"), `id="usage"`, "5 bytes", "of 10 GiB")
}

// TestBrowseEscapesNames: filenames are user data; a name made of markup
// is shown as text everywhere the browser shows it.
func TestBrowseEscapesNames(t *testing.T) {
	ta := diskTestApp(t, nil)
	c, uid := browseUser(t, ta, "ann@example.com")
	evil := `<svg onload=alert(1)>`
	mkdir(t, ta, uid, "", evil)
	f := uploadViaAPI(t, c, `"><img src=x onerror=alert(2)>.txt`, []byte("x"))
	for _, path := range []string{"/files", "/files/" + f.ID, "/items/rename?file=" + f.ID} {
		r := c.htmx("x").get(path)
		wantStatus(t, r, http.StatusOK)
		if strings.Contains(r.body, "<svg onload") || strings.Contains(r.body, "<img src=x") {
			t.Fatalf("%s renders a name as markup:\n%s", path, r.body)
		}
	}
	wantBody(t, c.get("/files"), html.EscapeString(evil))
}

// TestBrowsePagination: the listing pages by keyset cursor; the last row of
// a page loads the next when it scrolls into view.
func TestBrowsePagination(t *testing.T) {
	ta := diskTestApp(t, nil)
	c, uid := browseUser(t, ta, "ann@example.com")
	for i := range browsePageSize + 5 {
		mkdir(t, ta, uid, "", fmt.Sprintf("folder %03d", i))
	}
	r := c.get("/files")
	wantStatus(t, r, http.StatusOK)
	if n := strings.Count(r.body, `data-entry="folder"`); n != browsePageSize {
		t.Fatalf("first page has %d rows, want %d", n, browsePageSize)
	}
	more := regexp.MustCompile(`<li hx-get="([^"]+)" hx-trigger="revealed"`).FindStringSubmatch(r.body)
	if more == nil {
		t.Fatalf("no load-more row:\n%.2000s", r.body[len(r.body)-2000:])
	}
	r = c.htmx("").get(html.UnescapeString(more[1]))
	wantStatus(t, r, http.StatusOK)
	if n := strings.Count(r.body, `data-entry="folder"`); n != 5 || strings.Contains(r.body, "data-more") || strings.Contains(r.body, `id="listing"`) {
		t.Fatalf("second page: %d rows\n%s", n, r.body)
	}
	wantBody(t, r, "folder 104")

	// A cursor from another order is refused, not misread.
	wantStatus(t, c.htmx("").get(strings.Replace(html.UnescapeString(more[1]), "/files?", "/files?sort=size&", 1)), http.StatusUnprocessableEntity)
}

// TestBrowseOtherUsersIDs: another user's folder and file are 404, the
// same as ids that do not exist.
func TestBrowseOtherUsersIDs(t *testing.T) {
	ta := diskTestApp(t, nil)
	ann, annID := browseUser(t, ta, "ann@example.com")
	secret := mkdir(t, ta, annID, "", "secret")
	f := uploadViaAPI(t, ann, "diary.txt", []byte("dear diary"))
	bob, _ := browseUser(t, ta, "bob@example.com")
	for _, path := range []string{
		"/folders/" + secret.ID, "/files/" + f.ID, "/items/rename?file=" + f.ID, "/items/rename?folder=" + secret.ID,
		"/items/move?file=" + f.ID + "&at=" + secret.ID, "/folders/not-a-uuid",
	} {
		wantStatus(t, bob.get(path), http.StatusNotFound)
	}
	for _, form := range []url.Values{
		{"kind": {"file"}, "id": {f.ID}, "name": {"mine.txt"}},
	} {
		wantStatus(t, bob.htmx("rename-form").post("/items/rename", form), http.StatusNotFound)
	}
	wantStatus(t, bob.htmx("x").post("/items/trash", url.Values{"file": {f.ID}}), http.StatusNotFound)
	wantStatus(t, bob.htmx("x").post("/items/move", url.Values{"file": {f.ID}, "folder_id": {""}}), http.StatusNotFound)
	wantStatus(t, bob.htmx("x").post("/folders", url.Values{"parent_id": {secret.ID}, "name": {"in yours"}}), http.StatusNotFound)
	// Ann still has both, untouched.
	wantBody(t, ann.get("/files"), ">secret<", ">diary.txt<")
}

// TestBrowseDialogs: the forms answer 422 with their errors in place, and
// a success with a toast in #flash plus the events that refresh the list.
func TestBrowseDialogs(t *testing.T) {
	ta := diskTestApp(t, nil)
	c, uid := browseUser(t, ta, "ann@example.com")
	mkdir(t, ta, uid, "", "Taken")
	f := uploadViaAPI(t, c, "a.txt", []byte("a"))
	uploadViaAPI(t, c, "b.txt", []byte("b"))

	wantBody(t, c.htmx("modal-body").get("/folders/new?parent="), `id="new-folder-form"`, `name="parent_id"`)
	tests := []struct {
		name, path string
		form       url.Values
		wantStatus int
		wantBody   string
	}{
		{"folder name taken", "/folders", url.Values{"name": {"Taken"}}, 422, "already taken"},
		{"folder name empty", "/folders", url.Values{"name": {"  "}}, 422, "Enter a name."},
		{"folder name with slash", "/folders", url.Values{"name": {"a/b"}}, 422, `cannot contain &#34;/&#34;`},
		{"new folder", "/folders", url.Values{"name": {"Fresh"}}, 200, "Folder “Fresh” created."},
		{"rename to a taken name", "/items/rename", url.Values{"kind": {"file"}, "id": {f.ID}, "name": {"b.txt"}}, 422, "already taken"},
		{"rename", "/items/rename", url.Values{"kind": {"file"}, "id": {f.ID}, "name": {"c.txt"}}, 200, "Renamed to “c.txt”."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			r := c.htmx("x").post(tc.path, tc.form)
			wantStatus(t, r, tc.wantStatus)
			wantBody(t, r, tc.wantBody)
			if tc.wantStatus == 200 {
				if got := r.header.Get("HX-Trigger"); !strings.Contains(got, "files-changed") || !strings.Contains(got, "close-dialog") {
					t.Errorf("HX-Trigger %q", got)
				}
				if r.header.Get("HX-Retarget") != "#flash" {
					t.Errorf("HX-Retarget %q", r.header.Get("HX-Retarget"))
				}
			}
		})
	}
	c.t = t
	wantBody(t, c.get("/files"), ">Fresh<", ">c.txt<")
}

// TestBrowseMoveTrashRestore: bulk move (with the keep-both choice on a
// clash), trash with undo, the Trash page, restore and empty.
func TestBrowseMoveTrashRestore(t *testing.T) {
	ta := diskTestApp(t, nil)
	c, uid := browseUser(t, ta, "ann@example.com")
	dst := mkdir(t, ta, uid, "", "Archive")
	sub := mkdir(t, ta, uid, "", "Sub")
	a := uploadViaAPI(t, c, "a.txt", []byte("a"))
	b := uploadViaAPI(t, c, "b.txt", []byte("b"))

	// The picker lists the destination's folders, with the moved folder disabled.
	r := c.htmx("modal-body").get("/items/move?file=" + a.ID + "&folder=" + sub.ID)
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "Move 2 items", ">Archive<", "Being moved", `name="file" value="`+a.ID+`"`)
	r = c.htmx("move-form").get("/items/move?file=" + a.ID + "&at=" + dst.ID)
	wantBody(t, r, `name="folder_id" value="`+dst.ID+`"`, "No folders in here.")
	wantStatus(t, c.htmx("modal-body").get("/items/move"), http.StatusUnprocessableEntity)

	r = c.htmx("move-form").post("/items/move", url.Values{"file": {a.ID}, "folder": {sub.ID}, "folder_id": {dst.ID}})
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "Moved 2 items to “Archive”.")
	wantBody(t, c.get("/folders/"+dst.ID), ">a.txt<", ">Sub<")

	// A clash: b.txt, renamed to a.txt, moved where a.txt now is.
	if _, err := ta.files.RenameFile(t.Context(), uid, b.ID, files.RenameInput{Name: "a.txt"}); err != nil {
		t.Fatal(err)
	}
	r = c.htmx("move-form").post("/items/move", url.Values{"file": {b.ID}, "folder_id": {dst.ID}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, "already exists", `value="rename"`, "Keep both")
	r = c.htmx("move-form").post("/items/move", url.Values{"file": {b.ID}, "folder_id": {dst.ID}, "on_conflict": {"rename"}})
	wantStatus(t, r, http.StatusOK)
	wantBody(t, c.get("/folders/"+dst.ID), ">a (1).txt<")

	// Trash answers with an Undo that restores exactly those entries.
	r = c.htmx("x").post("/items/trash", url.Values{"file": {a.ID}, "folder": {sub.ID}})
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "Moved 2 items to the Trash.", `hx-post="/trash/restore"`, `value="`+a.ID+`"`, `value="`+sub.ID+`"`)
	tr := c.get("/trash")
	wantBody(t, tr, ">a.txt<", ">Sub<", "deleted for good after 30 days")
	wantBody(t, c.htmx("listing").get("/trash"), `id="listing"`, ">a.txt<")
	wantStatus(t, c.htmx("x").post("/trash/restore", url.Values{"file": {a.ID}}), http.StatusOK)
	wantBody(t, c.get("/folders/"+dst.ID), ">a.txt<")

	wantBody(t, c.htmx("modal-body").get("/trash/empty"), "The item in the Trash")
	r = c.htmx("empty-trash-form").post("/trash/empty", nil)
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "Deleted 1 item for good.")
	wantBody(t, c.get("/trash"), "The Trash is empty")

	// Without htmx, a post redirects back with a flash message, also when
	// it fails.
	r = c.post("/items/trash", url.Values{"file": {a.ID}})
	wantStatus(t, r, http.StatusSeeOther)
	wantBody(t, c.get("/files"), "Moved 1 file to the Trash.")
	r = c.post("/folders", url.Values{"name": {"Archive"}})
	wantStatus(t, r, http.StatusSeeOther)
	wantBody(t, c.get(r.header.Get("Location")), "This name is already taken in the folder.")
}
