package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/weupload/weupload/internal/browsertest"
	"github.com/weupload/weupload/internal/files"
)

// TestBrowserFileBrowser drives the file browser in headless Chromium:
// dialogs (keyboard and focus), folders, rename, multi-select with bulk
// move, navigation without a page load, trash with Undo, the Trash,
// search, sort and infinite scroll; then the same pages on a phone in dark
// mode. Screenshots of each state land in tmp/screenshots.
func TestBrowserFileBrowser(t *testing.T) {
	ta := diskTestApp(t, nil)
	u := ta.createUser(t, "ann@example.com", "correct horse battery")
	ctx := browsertest.New(t)
	browserLogin(t, ctx, ta.srv.URL, "ann@example.com")
	c := browserClient(t, ctx, ta)
	for _, n := range []string{"Quarterly report.pdf", "budget.xlsx", "team photo.jpg", `<svg onload=alert(1)>.txt`} {
		uploadViaAPI(t, c, n, randomData(len(n)*1000))
	}
	browsertest.Do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("rows")))
	browsertest.Screenshot(t, ctx, "01-files")
	if n := js[int](t, ctx, `document.querySelectorAll('svg[onload]').length`); n != 0 {
		t.Fatal("a file name became markup")
	}

	// New folder: the dialog opens with the name field focused; Escape
	// closes it and focus returns to the button.
	browsertest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`button[hx-get^="/folders/new"]`)),
		chromedp.WaitVisible(chromedp.ID("new-folder-form")),
	)
	if id := js[string](t, ctx, `document.activeElement.id`); id != "f-name" {
		t.Errorf("focus on %q when the dialog opened", id)
	}
	browsertest.Do(t, ctx, chromedp.KeyEvent("\x1b"))
	waitJS(t, ctx, `!document.getElementById('modal').open`)
	if got := js[string](t, ctx, `document.activeElement.getAttribute('hx-get') || ''`); !strings.HasPrefix(got, "/folders/new") {
		t.Errorf("focus went to %q after Escape, not back to New folder", got)
	}
	browsertest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`button[hx-get^="/folders/new"]`)),
		chromedp.WaitVisible(chromedp.ID("f-name")),
		chromedp.SendKeys(chromedp.ID("f-name"), "Projects"),
	)
	browsertest.Screenshot(t, ctx, "02-new-folder-dialog")
	browsertest.Do(t, ctx, chromedp.SendKeys(chromedp.ID("f-name"), "\r"))
	waitJS(t, ctx, `!document.getElementById('modal').open && [...document.querySelectorAll('#rows [data-entry=folder]')].some(li => li.textContent.includes('Projects'))`)
	browsertest.Screenshot(t, ctx, "03-folder-created")

	// The same name again: the error shows in the dialog, which stays open.
	newFolderTaken(t, ctx, "Projects")
	browsertest.Screenshot(t, ctx, "04-folder-name-taken")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#modal [data-close-dialog]`)))
	waitJS(t, ctx, `!document.getElementById('modal').open`)

	// Rename from the row menu; the name without its extension is selected.
	ids := rowIDs(t, ctx)
	row := func(name string) string { return `#rows [data-id="` + ids[name] + `"]` }
	browsertest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(row("budget.xlsx")+" summary")),
		chromedp.WaitVisible(chromedp.CSS(row("budget.xlsx")+" .menu")),
	)
	browsertest.Screenshot(t, ctx, "05-row-menu")
	browsertest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(row("budget.xlsx")+` button[hx-get^="/items/rename"]`)),
		chromedp.WaitVisible(chromedp.ID("rename-form")),
	)
	if sel := js[string](t, ctx, `(e => e.value.slice(e.selectionStart, e.selectionEnd))(document.activeElement)`); sel != "budget" {
		t.Errorf("selected %q in the rename field", sel)
	}
	browsertest.Do(t, ctx, chromedp.SendKeys(chromedp.ID("f-name"), "budget 2026\r"))
	waitJS(t, ctx, `[...document.querySelectorAll('#rows .entry-name')].some(e => e.textContent.includes('budget 2026.xlsx'))`)

	// Select two files: the bulk bar replaces the header; move them into Projects.
	browsertest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(row("Quarterly report.pdf")+" [data-select]")),
		chromedp.Click(chromedp.CSS(row("team photo.jpg")+" [data-select]")),
		chromedp.WaitVisible(chromedp.CSS("[data-bulkbar]")),
	)
	browsertest.Screenshot(t, ctx, "06-selected")
	if s := browsertest.Value(t, ctx, chromedp.Text(chromedp.CSS("[data-selcount]"))); s != "2 selected" {
		t.Errorf("bulk bar says %q", s)
	}
	browsertest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`[data-bulkbar] button[hx-get="/items/move"]`)),
		chromedp.WaitVisible(chromedp.ID("move-form")),
		chromedp.Click(chromedp.CSS(`#move-form [data-move-list] button`)), // open Projects
		chromedp.WaitVisible(chromedp.CSS(`#move-form [aria-current=location]`)),
	)
	browsertest.Screenshot(t, ctx, "07-move-dialog")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#move-form button[type=submit]:not([name])`)))
	waitJS(t, ctx, `!document.getElementById('modal').open && document.querySelectorAll('#rows [data-entry=file]').length === 2`)
	browsertest.Screenshot(t, ctx, "08-moved")

	// Open Projects: htmx swaps the page's middle, the URL follows, and
	// the breadcrumbs lead back.
	browsertest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`#rows [data-entry=folder] a.entry-name`)),
		chromedp.WaitVisible(chromedp.CSS(`nav[aria-label=Breadcrumb] ol`)),
	)
	waitJS(t, ctx, `document.querySelectorAll('#rows [data-entry=file]').length === 2`)
	if loc := browsertest.Value(t, ctx, chromedp.Location()); !strings.Contains(loc, "/folders/") {
		t.Errorf("location %q after opening a folder", loc)
	}
	if title := browsertest.Value(t, ctx, chromedp.Title()); title != "Projects · We-Upload" {
		t.Errorf("title %q", title)
	}
	browsertest.Screenshot(t, ctx, "09-in-folder")

	// Move one to the Trash from its menu, undo, then trash it for real.
	ids = rowIDs(t, ctx)
	trash := func() {
		browsertest.Do(t, ctx,
			chromedp.Click(chromedp.CSS(row("team photo.jpg")+" summary")),
			chromedp.Click(chromedp.CSS(row("team photo.jpg")+` button[hx-post="/items/trash"]`)),
		)
		waitJS(t, ctx, `document.querySelectorAll('#rows [data-entry=file]').length === 1`)
	}
	trash()
	browsertest.Screenshot(t, ctx, "10-trashed-toast")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#flash form[hx-post="/trash/restore"] button`)))
	waitJS(t, ctx, `document.querySelectorAll('#rows [data-entry=file]').length === 2`)
	trash()

	// The Trash, restore from there; the Back button returns to Projects.
	browsertest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`a.side-link[href="/trash"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-view=trash] #rows`)),
	)
	browsertest.Screenshot(t, ctx, "11-trash")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#rows button[hx-post="/trash/restore"]`)))
	waitJS(t, ctx, `document.querySelector('[data-view=trash] [data-empty]') !== null`)
	browsertest.Screenshot(t, ctx, "12-trash-empty")
	browsertest.Do(t, ctx, chromedp.NavigateBack())
	waitJS(t, ctx, `document.querySelector('[data-view=files]')?.dataset.folderName === 'Projects' && document.querySelectorAll('#rows [data-entry=file]').length === 2`)

	// Search all files as you type; then sort by size.
	browsertest.Do(t, ctx, chromedp.Navigate(ta.srv.URL+"/files"), chromedp.WaitVisible(chromedp.ID("search")), chromedp.SendKeys(chromedp.ID("search"), "REPORT"))
	waitJS(t, ctx, `document.querySelector('#listing').textContent.includes('Results for') && document.querySelectorAll('#rows [data-entry]').length === 1`)
	browsertest.Screenshot(t, ctx, "13-search")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`[data-clear-search]`)))
	waitJS(t, ctx, `!document.querySelector('#listing').textContent.includes('Results for')`)
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`.hidden.sm\:flex a.sort-link`)))
	waitJS(t, ctx, `location.search.includes('sort=size')`)
	names := js[[]string](t, ctx, `[...document.querySelectorAll('#rows [data-entry=file] .entry-name .truncate')].map(e => e.textContent)`)
	if len(names) != 2 || names[0] != "budget 2026.xlsx" {
		t.Errorf("by size: %v", names)
	}

	// Infinite scroll: 130 entries load as the list scrolls.
	for i := range 130 {
		mkdir(t, ta, u.ID, "", fmt.Sprintf("box %03d", i))
	}
	browsertest.Do(t, ctx, chromedp.Navigate(ta.srv.URL+"/files"), chromedp.WaitVisible(chromedp.ID("rows")))
	if n := js[int](t, ctx, `document.querySelectorAll('#rows [data-entry]').length`); n != browsePageSize {
		t.Errorf("%d rows before scrolling", n)
	}
	browsertest.Do(t, ctx, chromedp.ScrollIntoView(chromedp.CSS(`[data-more]`)))
	waitJS(t, ctx, `document.querySelectorAll('#rows [data-entry]').length === 133 && !document.querySelector('[data-more]')`)

	// Dark mode on the desktop: the listing, a dialog, the drawer.
	darkMode(t, ctx)
	browsertest.Do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("rows")))
	js[bool](t, ctx, `window.scrollTo(0, 0), true`)
	browsertest.Screenshot(t, ctx, "14-desktop-dark")
	newFolderTaken(t, ctx, "Projects")
	browsertest.Screenshot(t, ctx, "15-desktop-dark-dialog")
	browsertest.Do(t, ctx, chromedp.KeyEvent("\x1b"))
	waitJS(t, ctx, `!document.getElementById('modal').open`)

	// A phone in dark mode.
	browsertest.PhoneDark(t, ctx)
	browsertest.Do(t, ctx, chromedp.Navigate(ta.srv.URL+"/folders/"+js[string](t, ctx, `[...document.querySelectorAll('#rows [data-entry=folder]')].find(li => li.textContent.includes('Projects')).dataset.id`)), chromedp.WaitVisible(chromedp.ID("rows")))
	browsertest.Screenshot(t, ctx, "16-phone-folder")
	ids = rowIDs(t, ctx)
	browsertest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(row("Quarterly report.pdf")+" summary")),
		chromedp.WaitVisible(chromedp.CSS(row("Quarterly report.pdf")+" .menu")),
	)
	browsertest.Screenshot(t, ctx, "17-phone-menu")
	browsertest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(row("Quarterly report.pdf")+` .menu button[hx-get^="/files/"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#drawer [data-details]`)),
	)
	browsertest.Screenshot(t, ctx, "18-phone-details")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#drawer [data-close-dialog]`)))
	waitJS(t, ctx, `!document.getElementById('drawer').open`)
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(row("Quarterly report.pdf")+" [data-select]")))
	browsertest.Screenshot(t, ctx, "19-phone-selected")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`a.side-link[href="/trash"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-view=trash]`)))
	browsertest.Screenshot(t, ctx, "20-phone-trash")
}

// newFolderTaken asks for a new folder with a name that is taken and waits
// for the error in the dialog.
func newFolderTaken(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	browsertest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`button[hx-get^="/folders/new"]`)),
		chromedp.WaitVisible(chromedp.ID("f-name")),
		chromedp.SendKeys(chromedp.ID("f-name"), name+"\r"),
		chromedp.WaitVisible(chromedp.ID("f-name-error")),
	)
}

// darkMode makes the page prefer the dark colour scheme at its current size.
func darkMode(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
	}); err != nil {
		t.Fatalf("emulate dark mode: %v", err)
	}
}

// TestBrowserDropFolder: a folder picked (or dropped) keeps its structure;
// files dropped on the page show the overlay and upload into the folder on
// screen; pasted files upload as well.
func TestBrowserDropFolder(t *testing.T) {
	ta := diskTestApp(t, nil)
	u := ta.createUser(t, "ann@example.com", "correct horse battery")
	ctx := browsertest.New(t)
	browserLogin(t, ctx, ta.srv.URL, "ann@example.com")

	root := filepath.Join(t.TempDir(), "Trip")
	for path, body := range map[string]string{
		"itinerary.txt":        "day 1: fly",
		"photos/beach.jpg":     "jpeg bytes",
		"photos/raw/beach.dng": "raw bytes",
	} {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	browsertest.Do(t, ctx, chromedp.SetUploadFiles(chromedp.ID("upload-folder"), []string{root}))
	waitJS(t, ctx, `document.querySelectorAll('#upload-list [data-state=done]').length === 3`)
	browsertest.Screenshot(t, ctx, "1-folder-uploaded")

	// Trip/photos/raw holds beach.dng.
	at := ""
	for _, name := range []string{"Trip", "photos", "raw"} {
		at = childFolder(t, ta, u.ID, at, name)
	}
	p, err := ta.files.List(t.Context(), u.ID, files.ListInput{FolderID: at})
	if err != nil || len(p.Files) != 1 || p.Files[0].Name != "beach.dng" {
		t.Fatalf("Trip/photos/raw holds %v (%v)", p.Files, err)
	}

	// Open Trip and drop two files on the page (a synthetic drop: the
	// DataTransfer a script can build holds files, not directories).
	browsertest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`#rows [data-entry=folder] a.entry-name`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-view=files][data-folder-name=Trip]`)),
	)
	js[bool](t, ctx, `(() => {
		window.__dt = new DataTransfer();
		__dt.items.add(new File(['packing list'], 'packing.txt', {type: 'text/plain'}));
		__dt.items.add(new File(['tickets'], 'tickets.pdf', {type: 'application/pdf'}));
		window.dispatchEvent(new DragEvent('dragenter', {dataTransfer: __dt, cancelable: true}));
		return true;
	})()`)
	waitJS(t, ctx, `!document.getElementById('drop-overlay').hidden`)
	browsertest.Screenshot(t, ctx, "2-drop-overlay")
	if s := browsertest.Value(t, ctx, chromedp.Text(chromedp.CSS(`[data-drop-target]`))); s != "Trip" {
		t.Errorf("overlay names %q", s)
	}
	js[bool](t, ctx, `window.dispatchEvent(new DragEvent('drop', {dataTransfer: __dt, cancelable: true})), true`)
	waitJS(t, ctx, `document.getElementById('drop-overlay').hidden && [...document.querySelectorAll('#rows .entry-name')].filter(e => /packing|tickets/.test(e.textContent)).length === 2`)
	browsertest.Screenshot(t, ctx, "3-dropped")

	// Pasting a file (a screenshot, say) uploads it too.
	js[bool](t, ctx, `(() => {
		const dt = new DataTransfer();
		dt.items.add(new File(['png bytes'], 'image.png', {type: 'image/png'}));
		document.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, cancelable: true}));
		return true;
	})()`)
	waitJS(t, ctx, `[...document.querySelectorAll('#rows .entry-name')].some(e => e.textContent.includes('image.png'))`)
}

// childFolder returns the id of the folder called name in parent.
func childFolder(t *testing.T, ta *testApp, owner, parent, name string) string {
	t.Helper()
	p, err := ta.files.List(t.Context(), owner, files.ListInput{FolderID: parent, Limit: files.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range p.Folders {
		if f.Name == name {
			return f.ID
		}
	}
	t.Fatalf("no folder %q in %q", name, parent)
	return ""
}
