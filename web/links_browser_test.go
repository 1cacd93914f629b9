package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/weupload/weupload/internal/browsertest"
	"github.com/weupload/weupload/internal/shares"
)

// allowDownloads saves the browser's downloads into a fresh directory and
// returns it.
func allowDownloads(t *testing.T, ctx context.Context) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir,
	}); err != nil {
		t.Fatalf("browser: allow downloads: %v", err)
	}
	return dir
}

// waitDownload waits until a file in dir holds want.
func waitDownload(t *testing.T, dir string, want []byte) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil && bytes.Equal(b, want) {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	entries, _ := os.ReadDir(dir)
	t.Fatalf("no download with the shared bytes in %s (%d files)", dir, len(entries))
}

// TestBrowserShareRecipient is the recipient's path in a fresh browser (its
// own profile: no session, no cookies): open a password link with a
// one-download limit, get the password wrong, then right, download the
// file, and be refused the second time. Desktop first, then the same pages
// on a phone in dark mode.
func TestBrowserShareRecipient(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	_, ann := ta.shareUser(t, "ann@example.com")
	data := []byte("quarterly numbers, for your eyes only\n")
	f := ta.uploadTo(t, ann.ID, "", "Q3 report.txt", data)
	ta.uploadTo(t, ann.ID, "", "unshared.txt", []byte("no"))
	exp := time.Now().Add(72 * time.Hour)
	l := ta.link(t, ann.ID, shares.CreateInput{FileIDs: []string{f.ID}, Password: "open sesame", MaxDownloads: ptrTo(1), ExpiresAt: &exp,
		Title: "Q3 numbers", Note: "Hi! Here are the numbers we talked about.\nDelete them after reading."})
	for _, variant := range []string{"desktop", "phone-dark"} {
		t.Run(variant, func(t *testing.T) {
			if variant == "phone-dark" {
				// A fresh link: the desktop run used up the first one.
				l = ta.link(t, ann.ID, shares.CreateInput{FileIDs: []string{f.ID}, Password: "open sesame", MaxDownloads: ptrTo(1), ExpiresAt: &exp,
					Title: "Q3 numbers", Note: "Hi! Here are the numbers we talked about.\nDelete them after reading."})
			}
			ctx := browsertest.New(t)
			if variant == "phone-dark" {
				browsertest.PhoneDark(t, ctx)
			}
			dir := allowDownloads(t, ctx)
			browsertest.Do(t, ctx,
				chromedp.Navigate(ta.srv.URL+"/s/"+l.Token),
				chromedp.WaitVisible(chromedp.ID("f-password")),
			)
			browsertest.Screenshot(t, ctx, "1-password")
			if body := browsertest.Value(t, ctx, chromedp.Text(chromedp.CSS("main"))); strings.Contains(body, "Q3") {
				t.Fatalf("the password page shows the link: %q", body)
			}
			browsertest.Do(t, ctx,
				chromedp.SendKeys(chromedp.ID("f-password"), "open sesamE\n"),
				chromedp.WaitVisible(chromedp.ID("f-password-error")),
			)
			browsertest.Screenshot(t, ctx, "2-wrong-password")
			if msg := browsertest.Value(t, ctx, chromedp.Text(chromedp.ID("f-password-error"))); !strings.Contains(msg, "not right") {
				t.Fatalf("wrong password message %q", msg)
			}
			browsertest.Do(t, ctx,
				chromedp.SendKeys(chromedp.ID("f-password"), "open sesame\n"),
				chromedp.WaitVisible(chromedp.ID("share-heading")),
			)
			browsertest.Screenshot(t, ctx, "3-landing")
			page := browsertest.Value(t, ctx, chromedp.Text(chromedp.CSS("main")))
			for _, want := range []string{"Q3 numbers", "ann shared 1 file with you", "Q3 report.txt", "Delete them after reading", "1 download left", "Available until"} {
				if !strings.Contains(page, want) {
					t.Fatalf("landing page lacks %q:\n%s", want, page)
				}
			}
			if strings.Contains(page, "unshared.txt") {
				t.Fatal("the landing page lists an unshared file")
			}
			browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS("a.btn-primary[data-share-download]")))
			waitDownload(t, dir, data)
			// The second time: the link is used up.
			browsertest.Do(t, ctx,
				chromedp.Click(chromedp.CSS("a.btn-primary[data-share-download]")),
				chromedp.WaitVisible(chromedp.CSS("main h1")),
			)
			browsertest.Screenshot(t, ctx, "4-refused")
			if h := browsertest.Value(t, ctx, chromedp.Text(chromedp.CSS("main"))); !strings.Contains(h, "reached its download limit") {
				t.Fatalf("second download: %q", h)
			}
			browsertest.Do(t, ctx, chromedp.Navigate(ta.srv.URL+"/s/"+l.Token), chromedp.WaitVisible(chromedp.CSS("main h1")))
			if h := browsertest.Value(t, ctx, chromedp.Text(chromedp.CSS("main h1"))); !strings.Contains(h, "no longer available") {
				t.Fatalf("landing after the limit: %q", h)
			}
		})
	}
}

// addShareButton puts the file browser's hook on the page: a button that
// opens the share dialog (query: "file=<id>" or "folder=<id>"), exactly as
// the browser's rows will.
func addShareButton(t *testing.T, ctx context.Context, query string) {
	t.Helper()
	browsertest.Do(t, ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		const b = document.createElement("button");
		b.id = "t-share";
		b.type = "button";
		b.className = "btn-secondary";
		b.textContent = "Share";
		b.setAttribute("hx-get", "/share/dialog?`+query+`");
		b.setAttribute("hx-target", "body");
		b.setAttribute("hx-swap", "beforeend");
		document.querySelector("main").prepend(b);
		htmx.process(b);
	})()`))
}

// active describes the focused element: its id, name or text.
func active(t *testing.T, ctx context.Context) string {
	t.Helper()
	return browsertest.Value(t, ctx, chromedp.Evaluate[string](`(() => {
		const a = document.activeElement;
		return a ? (a.id || a.name || a.textContent.trim()) : "";
	})()`))
}

// tabTo presses Tab until the focused element matches sel (keyboard only).
func tabTo(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	for range 30 {
		if browsertest.Value(t, ctx, chromedp.Evaluate[bool](`document.activeElement?.matches(`+"`"+sel+"`"+`) || false`)) {
			return
		}
		browsertest.Do(t, ctx, chromedp.KeyEvent("\t"))
	}
	t.Fatalf("Tab never reached %s (at %q)", sel, active(t, ctx))
}

// TestBrowserShareDialog drives the share dialog in Chromium: open it from
// an element (the file browser's hook) and create a link with the keyboard
// only, copy it, edit it, close it with Escape (focus returns), then open
// it from the Shared page and revoke the link.
func TestBrowserShareDialog(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	_, ann := ta.shareUser(t, "ann@example.com")
	f := ta.uploadTo(t, ann.ID, "", "Q3 report.pdf", []byte("numbers"))
	ctx := browsertest.New(t)
	origin := ta.srv.URL
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted, Origin: origin,
		}); err != nil {
			t.Fatalf("grant %s: %v", name, err)
		}
	}
	browserLogin(t, ctx, origin, "ann@example.com")
	browsertest.Do(t, ctx, chromedp.Navigate(origin+"/shared"), chromedp.WaitVisible(chromedp.ID("shared-links")))
	browsertest.Screenshot(t, ctx, "1-shared-empty")
	addShareButton(t, ctx, "file="+f.ID)

	// Keyboard only: focus the opener, Enter, type the options, Enter.
	browsertest.Do(t, ctx,
		chromedp.Focus(chromedp.ID("t-share")),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.ID("share-dialog")),
	)
	if got := active(t, ctx); got != "f-password" {
		t.Fatalf("focus in the new dialog: %q, want the password field", got)
	}
	browsertest.Do(t, ctx, chromedp.KeyEvent("open sesame"))
	tabTo(t, ctx, "[name=max_downloads]")
	browsertest.Do(t, ctx, chromedp.KeyEvent("1"))
	tabTo(t, ctx, "[name=title]")
	browsertest.Do(t, ctx, chromedp.KeyEvent("Q3 numbers"))
	tabTo(t, ctx, "[name=note]")
	browsertest.Do(t, ctx, chromedp.KeyEvent("For the board."))
	browsertest.Screenshot(t, ctx, "2-create-form")
	tabTo(t, ctx, "#share-create-form button[type=submit]")
	browsertest.Do(t, ctx,
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.ID("share-url")),
	)
	ls, err := ta.shares.List(t.Context(), ann.ID)
	if err != nil || len(ls) != 1 {
		t.Fatalf("links after create: %d %v", len(ls), err)
	}
	l := ls[0]
	if !l.HasPassword || l.MaxDownloads != 1 || l.Title != "Q3 numbers" || l.Note != "For the board." {
		t.Fatalf("created by keyboard: %+v", l)
	}
	if got := browsertest.Value(t, ctx, chromedp.Value(chromedp.ID("share-url"))); got != l.URL {
		t.Fatalf("dialog shows %q, want %q", got, l.URL)
	}
	// Focus stays trapped: Tab from the last control comes back to the first.
	tabTo(t, ctx, "#share-dialog-body > div:last-child [data-share-close]")
	browsertest.Do(t, ctx, chromedp.KeyEvent("\t"))
	if got := browsertest.Value(t, ctx, chromedp.Evaluate[bool](`document.activeElement.closest("dialog") !== null`)); !got {
		t.Fatalf("Tab left the dialog for %q", active(t, ctx))
	}

	// Copy: the clipboard holds the link and the dialog says so.
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#share-dialog [data-copy="#share-url"]`)))
	waitJS(t, ctx, `document.getElementById("share-copied").textContent.includes("copied")`)
	browsertest.Screenshot(t, ctx, "3-created-copied")
	if hint := browsertest.Value(t, ctx, chromedp.Text(chromedp.CSS("#share-dialog [data-utc-hint]"))); !strings.Contains(hint, "time zone") {
		t.Fatalf("expiry hint after a swap %q: share.js did not run", hint)
	}
	if clip := browsertest.Value(t, ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise)); clip != l.URL {
		t.Fatalf("clipboard %q, want %q", clip, l.URL)
	}

	// Edit: a new title and no limit.
	browsertest.Do(t, ctx,
		chromedp.SetValue(chromedp.CSS("#share-edit-form [name=title]"), "Q3 final numbers"),
		chromedp.SetValue(chromedp.CSS("#share-edit-form [name=max_downloads]"), ""),
		chromedp.Click(chromedp.CSS("#share-edit-form button[type=submit]")),
	)
	waitJS(t, ctx, `document.querySelector("#share-dialog [role=status]")?.textContent.includes("Changes saved") || false`)
	browsertest.Screenshot(t, ctx, "4-edited")
	if got, _ := ta.shares.Find(t.Context(), ann.ID, l.ID); got.Title != "Q3 final numbers" || got.MaxDownloads != 0 || !got.HasPassword {
		t.Fatalf("after edit: %+v", got)
	}

	// Escape closes; focus returns to the opener; the list shows the link.
	browsertest.Do(t, ctx,
		chromedp.KeyEvent("\u001b"),
		chromedp.WaitNotPresent(chromedp.ID("share-dialog")),
		chromedp.WaitVisible(chromedp.CSS(`#shared-links [data-link="`+l.ID+`"]`)),
	)
	if got := active(t, ctx); got != "t-share" {
		t.Fatalf("focus after Escape: %q, want the opener", got)
	}
	browsertest.Screenshot(t, ctx, "5-shared-list")

	// Revoke from the dialog, opened with the list's Edit button.
	browsertest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`#shared-links [data-link="`+l.ID+`"] [hx-get^="/share/dialog"]`)),
		chromedp.WaitVisible(chromedp.ID("share-dialog")),
		chromedp.Click(chromedp.CSS("#share-dialog details summary")),
		chromedp.WaitVisible(chromedp.CSS("#share-dialog [data-share-revoke]")),
	)
	browsertest.Screenshot(t, ctx, "6-revoke-confirm")
	browsertest.Do(t, ctx,
		chromedp.Click(chromedp.CSS("#share-dialog [data-share-revoke]")),
	)
	waitJS(t, ctx, `document.querySelector("#share-dialog [role=status]")?.textContent.includes("revoked") || false`)
	browsertest.Screenshot(t, ctx, "7-revoked")
	if r := ta.client(t).get("/s/" + l.Token); r.status != 404 {
		t.Fatalf("revoked link answers %d", r.status)
	}
	browsertest.Do(t, ctx,
		chromedp.Click(chromedp.CSS("#share-dialog [data-share-close]")),
		chromedp.WaitNotPresent(chromedp.ID("share-dialog")),
	)
	waitJS(t, ctx, `document.querySelector("#shared-links").textContent.includes("Revoked")`)

	// The page and the dialog on a phone in dark mode.
	ta.link(t, ann.ID, shares.CreateInput{FileIDs: []string{f.ID}, MaxDownloads: ptrTo(5), ExpiresAt: ptrTo(time.Now().Add(48 * time.Hour)), Title: "For the auditors"})
	browsertest.PhoneDark(t, ctx)
	browsertest.Do(t, ctx, chromedp.Navigate(origin+"/shared"), chromedp.WaitVisible(chromedp.ID("shared-links")))
	browsertest.Screenshot(t, ctx, "8-phone-shared")
	addShareButton(t, ctx, "file="+f.ID)
	browsertest.Do(t, ctx,
		chromedp.Click(chromedp.ID("t-share")),
		chromedp.WaitVisible(chromedp.ID("share-dialog")),
	)
	browsertest.Screenshot(t, ctx, "9-phone-dialog")
	if hint := browsertest.Value(t, ctx, chromedp.Text(chromedp.CSS("#share-dialog [data-utc-hint]"))); !strings.Contains(hint, "time zone") {
		t.Fatalf("expiry hint %q: share.js did not run", hint)
	}
}
