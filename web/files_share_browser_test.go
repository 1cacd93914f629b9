package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/weupload/weupload/internal/browsertest"
)

// TestBrowseOpensShareDialog checks the file browser's hooks into the share
// dialog: the row menu item and the bulk bar button open it in a real browser.
func TestBrowseOpensShareDialog(t *testing.T) {
	ta := diskTestApp(t, nil)
	c, _ := browseUser(t, ta, "ann@example.com")
	f := uploadViaAPI(t, c, "report.txt", []byte("numbers"))

	r := c.get("/files")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, `hx-get="/share/dialog?file=`+f.ID+`"`, `hx-get="/share/dialog"`)

	ctx := browsertest.New(t)
	browsertest.Do(t, ctx,
		chromedp.Navigate(ta.srv.URL+"/login"),
		chromedp.WaitVisible(chromedp.ID("f-email")),
		chromedp.SendKeys(chromedp.ID("f-email"), "ann@example.com"),
		chromedp.SendKeys(chromedp.ID("f-password"), "correct horse battery"),
		chromedp.Click(chromedp.CSS("#login-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#listing details[data-menu] summary")),
		chromedp.Click(chromedp.CSS("#listing details[data-menu] summary")),
		chromedp.Click(chromedp.CSS(`#listing button[hx-get^="/share/dialog?file="]`)),
		chromedp.WaitVisible(chromedp.ID("share-dialog")),
	)
	browsertest.Screenshot(t, ctx, "1-share-dialog-from-row")
	if title := browsertest.Value(t, ctx, chromedp.Text(chromedp.ID("share-dialog-title"))); !strings.Contains(title, "report.txt") {
		t.Fatalf("dialog title %q", title)
	}
}
