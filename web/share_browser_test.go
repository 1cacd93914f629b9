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
