package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/weupload/weupload/internal/browsertest"
	"github.com/weupload/weupload/internal/files"
)

// TestBrowserSharePeople is "a colleague sees a shared folder under Shared
// with me and, as editor, uploads into it" in Chromium: the owner adds the
// colleague from the file browser's row menu (share dialog, People), the
// colleague in another browser opens Shared with me, the folder, and
// uploads a file with the upload module; the file is the owner's.
func TestBrowserSharePeople(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	_, ann := ta.shareUser(t, "ann@example.com")
	_, bob := ta.shareUser(t, "bob@example.com")
	folder, err := ta.files.CreateFolder(t.Context(), ann.ID, files.CreateFolderInput{Name: "Team plans"})
	if err != nil {
		t.Fatal(err)
	}
	ta.uploadTo(t, ann.ID, folder.ID, "roadmap.txt", []byte("Q1: ship"))

	owner := browsertest.New(t)
	browserLogin(t, owner, ta.srv.URL, "ann@example.com")
	row := `#rows [data-id="` + folder.ID + `"]`
	browsertest.Do(t, owner,
		chromedp.Click(chromedp.CSS(row+" summary")),
		chromedp.Click(chromedp.CSS(row+` [hx-get^="/share/dialog"]`)),
		chromedp.WaitVisible(chromedp.ID("f-person_email")),
		chromedp.SendKeys(chromedp.ID("f-person_email"), "bob@example.com"),
		chromedp.SetValue(chromedp.ID("f-person_role"), "editor"),
		chromedp.Click(chromedp.CSS("#share-people-form button[type=submit]")),
	)
	waitJS(t, owner, `document.querySelector('[data-person="bob@example.com"]') !== null`)
	browsertest.Do(t, owner, chromedp.ScrollIntoView(chromedp.CSS("[data-share-people]")))
	browsertest.Screenshot(t, owner, "1-dialog-people")
	if got := js[string](t, owner, `document.querySelector('[data-person="bob@example.com"] [data-person-role]').value`); got != "editor" {
		t.Fatalf("role shown %q, want editor", got)
	}

	// Several files at once: the People section adds the person to each.
	a := ta.uploadTo(t, ann.ID, "", "minutes.txt", []byte("m"))
	b := ta.uploadTo(t, ann.ID, "", "agenda.txt", []byte("a"))
	browsertest.Do(t, owner,
		chromedp.Navigate(ta.srv.URL+"/share/dialog?file="+a.ID+"&file="+b.ID),
		chromedp.WaitVisible(chromedp.ID("f-person_email")),
		chromedp.ScrollIntoView(chromedp.CSS("[data-share-people]")),
	)
	browsertest.Screenshot(t, owner, "1b-dialog-people-two-files")
	if s := browsertest.Value(t, owner, chromedp.Text(chromedp.CSS("[data-share-people]"))); !strings.Contains(s, "each of the 2 files") {
		t.Errorf("People section for two files says %q", s)
	}

	colleague := browsertest.New(t)
	browserLogin(t, colleague, ta.srv.URL, "bob@example.com")
	browsertest.Do(t, colleague,
		chromedp.Click(chromedp.CSS(`a.side-link[href="/shared-with-me"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-shared-item="Team plans"]`)),
	)
	browsertest.Screenshot(t, colleague, "2-shared-with-me")
	browsertest.Do(t, colleague,
		chromedp.Click(chromedp.CSS(`[data-shared-item="Team plans"] a`)),
		chromedp.WaitVisible(chromedp.CSS("[data-shared-by]")),
	)
	if crumb := browsertest.Value(t, colleague, chromedp.Text(chromedp.CSS(`nav[aria-label=Breadcrumb]`))); !strings.Contains(crumb, "Shared with me") {
		t.Errorf("breadcrumbs %q, want them to start at Shared with me", crumb)
	}
	data := []byte("notes from bob\n")
	browsertest.Do(t, colleague, chromedp.SetUploadFiles(chromedp.ID("upload-files"), []string{tempFile(t, "bob notes.txt", data)}))
	waitJS(t, colleague, `[...document.querySelectorAll('#rows [data-entry=file] [data-name]')].some(n => n.textContent === 'bob notes.txt')`)
	browsertest.Screenshot(t, colleague, "3-editor-uploaded")

	p, err := ta.files.List(t.Context(), ann.ID, files.ListInput{FolderID: folder.ID})
	if err != nil {
		t.Fatal(err)
	}
	var got *files.File
	for i := range p.Files {
		if p.Files[i].Name == "bob notes.txt" {
			got = &p.Files[i]
		}
	}
	if got == nil || got.OwnerID != ann.ID || got.Size != int64(len(data)) {
		t.Fatalf("the colleague's upload in the owner's folder: %+v", got)
	}
	if u, _ := ta.files.Usage(t.Context(), bob.ID); u.Used != 0 {
		t.Errorf("the editor was charged %d bytes", u.Used)
	}

	// As a viewer: no upload button, and a file dropped on the page goes
	// nowhere (no overlay, no upload, the page stays).
	gs, err := ta.files.ListGrants(t.Context(), ann.ID, files.GrantFilter{FolderID: folder.ID})
	if err != nil || len(gs) != 1 {
		t.Fatalf("grants %v, %v", gs, err)
	}
	if _, err := ta.files.SetGrantRole(t.Context(), ann.ID, gs[0].ID, files.RoleViewer); err != nil {
		t.Fatal(err)
	}
	browsertest.Do(t, colleague, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("[data-view][data-readonly]")))
	if n := js[int](t, colleague, `document.querySelectorAll('#browser [data-upload-pick]').length`); n != 0 {
		t.Errorf("a viewer sees %d upload buttons", n)
	}
	js[bool](t, colleague, `(() => {
		const dt = new DataTransfer();
		dt.items.add(new File(['nope'], 'viewer.txt', {type: 'text/plain'}));
		window.dispatchEvent(new DragEvent('dragenter', {dataTransfer: dt, cancelable: true}));
		window.__overlay = !document.getElementById('drop-overlay').hidden;
		window.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, cancelable: true}));
		return true;
	})()`)
	if js[bool](t, colleague, `new Promise(r => setTimeout(r, 500)).then(() => window.__overlay ||
		[...document.querySelectorAll('#upload-list li')].some(li => li.textContent.includes('viewer.txt')))`) {
		t.Error("a drop on a folder shared as viewer showed the overlay or queued an upload")
	}
	browsertest.Screenshot(t, colleague, "4-viewer")

	browsertest.PhoneDark(t, colleague)
	browsertest.Do(t, colleague, chromedp.Navigate(ta.srv.URL+"/shared-with-me"), chromedp.WaitVisible(chromedp.CSS(`[data-shared-item="Team plans"]`)))
	browsertest.Screenshot(t, colleague, "5-phone-dark")
}
