package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/weupload/weupload/internal/browsertest"
	"github.com/weupload/weupload/internal/scan/clamdtest"
)

// TestBrowserScanStates shows the scan states in the file browser against
// a real clamd: rows of new files say "Being checked for viruses" and poll;
// as scans end (run here as the job would), the listing updates itself
// without a reload: the infected row says "Blocked: virus found
// (<signature>)" and its menu offers no download, the clean row says
// nothing, and once nothing is pending nothing polls. Screenshots land in
// tmp/screenshots.
func TestBrowserScanStates(t *testing.T) {
	clamd := clamdtest.Start(t)
	ta := diskTestApp(t, map[string]string{"CLAMD_ADDR": clamd.Addr})
	u := ta.createUser(t, "ann@example.com", "correct horse battery")
	eicar := ta.uploadTo(t, u.ID, "", "eicar.com", []byte(clamdtest.EICAR))
	clean := ta.uploadTo(t, u.ID, "", "clean.txt", []byte("clean"))
	later := ta.uploadTo(t, u.ID, "", "later.txt", []byte("later"))
	ctx := browsertest.New(t)
	browserLogin(t, ctx, ta.srv.URL, "ann@example.com")
	row := func(id string) string { return `document.querySelector('#rows [data-id="` + id + `"]')` }
	waitJS(t, ctx, `document.querySelectorAll('#rows [data-scan=pending]').length === 3`)
	if got := js[string](t, ctx, row(later.ID)+`.textContent`); !strings.Contains(got, "Being checked for viruses") {
		t.Fatalf("pending row says %q", got)
	}
	browsertest.Screenshot(t, ctx, "01-pending")

	ta.scanFile(t, eicar.ID)
	ta.scanFile(t, clean.ID)
	waitJS(t, ctx, row(eicar.ID)+`?.dataset.scan === 'infected' && `+row(clean.ID)+`?.dataset.scan === 'clean'`)
	if got := js[string](t, ctx, row(eicar.ID)+`.textContent`); !strings.Contains(got, "Blocked: virus found ("+clamdtest.EICARSignature+")") {
		t.Fatalf("infected row says %q", got)
	}
	if got := js[string](t, ctx, row(clean.ID)+`.textContent`); strings.Contains(got, "virus") {
		t.Fatalf("clean row says %q", got)
	}
	if got := js[string](t, ctx, row(later.ID)+`.dataset.scan`); got != "pending" {
		t.Fatalf("later.txt is %q", got)
	}
	if js[bool](t, ctx, `document.getElementById('drawer').open`) {
		t.Fatal("polling opened the details drawer")
	}
	browsertest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`#rows [data-id="`+eicar.ID+`"] summary`)),
		chromedp.WaitVisible(chromedp.CSS(`#rows [data-id="`+eicar.ID+`"] .menu`)),
	)
	menu := js[string](t, ctx, row(eicar.ID)+`.querySelector('.menu').textContent`)
	if strings.Contains(menu, "Download") || strings.Contains(menu, "Rename") || !strings.Contains(menu, "Move to Trash") {
		t.Fatalf("infected file's menu: %q", strings.Join(strings.Fields(menu), " "))
	}
	browsertest.Screenshot(t, ctx, "02-infected-and-clean")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#rows [data-id="`+eicar.ID+`"] summary`)))

	ta.scanFile(t, later.ID)
	waitJS(t, ctx, row(later.ID)+`?.dataset.scan === 'clean'`)
	if n := js[int](t, ctx, `document.querySelectorAll('[hx-get$="/scan"]').length`); n != 0 {
		t.Fatalf("%d rows still poll", n)
	}
	browsertest.Screenshot(t, ctx, "03-done")
}
