package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/weupload/weupload/internal/browsertest"
	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/shares"
)

// TestBrowserUploadRequest: the owner makes an upload link in the share
// dialog of a folder; someone in a fresh browser (no account) opens it and
// sends files with the file browser's upload widget (static/js/upload.js):
// a small one and one in parts, with progress, on a desktop and on a phone
// in dark mode; then a reload in the middle of a multipart upload, which
// resumes from the parts the store holds. Everything lands in the owner's
// folder, byte for byte, and the page never offers to list or download.
func TestBrowserUploadRequest(t *testing.T) {
	ta := diskTestApp(t, smallParts)
	ann, annUser := ta.shareUser(t, "ann@example.com")
	inbox, err := ta.files.CreateFolder(t.Context(), annUser.ID, files.CreateFolderInput{Name: "Inbox"})
	if err != nil {
		t.Fatal(err)
	}
	owner := browsertest.New(t)
	browserLogin(t, owner, ta.srv.URL, "ann@example.com")
	browsertest.Do(t, owner, chromedp.Navigate(ta.srv.URL+"/shared"), chromedp.WaitVisible(chromedp.ID("shared-links")))
	addShareButton(t, owner, "folder="+inbox.ID)
	browsertest.Do(t, owner,
		chromedp.Click(chromedp.ID("t-share")),
		chromedp.WaitVisible(chromedp.ID("share-dialog")),
		chromedp.Click(chromedp.CSS("#share-request-h ~ details summary")),
		chromedp.SendKeys(chromedp.ID("f-request_message"), "The signed contracts, please."),
		chromedp.SendKeys(chromedp.ID("f-request_max_files"), "6"),
		chromedp.Click(chromedp.CSS("#share-request-form button[type=submit]")),
	)
	waitJS(t, owner, `document.querySelector("#share-dialog")?.textContent.includes("Upload link created") || false`)
	browsertest.Screenshot(t, owner, "1-dialog-request")
	rs, _ := ta.shares.ListRequests(t.Context(), annUser.ID, false, "")
	if len(rs) != 1 {
		t.Fatalf("%d requests", len(rs))
	}
	sent := map[string][]byte{}

	for _, variant := range []string{"desktop", "phone-dark"} {
		t.Run(variant, func(t *testing.T) {
			ctx := browsertest.New(t)
			if variant == "phone-dark" {
				browsertest.PhoneDark(t, ctx)
			}
			browsertest.Do(t, ctx, chromedp.Navigate(rs[0].URL), chromedp.WaitVisible(chromedp.ID("request-heading")))
			browsertest.Screenshot(t, ctx, "2-uploader")
			if n := js[int](t, ctx, `document.querySelectorAll('a[href*="/files"], a[href*="download"], a[href^="/api"], #rows, #upload-folder').length`); n != 0 {
				t.Fatalf("the uploader's page offers %d ways to list or download", n)
			}
			small := []byte("%PDF signed " + variant)
			big := randomData(12<<20 + 321) // three parts of 5 MiB
			a, b := tempFile(t, variant+"-contract.pdf", small), tempFile(t, variant+"-scans.zip", big)
			sent[variant+"-contract.pdf"], sent[variant+"-scans.zip"] = small, big
			browsertest.Network(t, ctx, false, 4<<20) // slow enough to see the progress
			browsertest.Do(t, ctx, chromedp.SetUploadFiles(chromedp.ID("upload-files"), []string{a, b}))
			waitJS(t, ctx, `[...document.querySelectorAll('#upload-list [data-state=uploading]')].some(li => li.querySelector('progress').value > 0.2)`)
			browsertest.Screenshot(t, ctx, "3-sending")
			browsertest.Network(t, ctx, false, -1)
			waitJS(t, ctx, `document.querySelectorAll('#upload-list [data-state=done]').length === 2`)
			browsertest.Screenshot(t, ctx, "4-sent")
			if title := js[string](t, ctx, `document.querySelector('[data-tray-title]').textContent`); title != "Uploaded 2 files" {
				t.Errorf("tray title %q", title)
			}
			if st := js[string](t, ctx, `document.querySelector('#upload-list [data-state=done] [data-status]').textContent`); !strings.Contains(st, "Sent to ann") {
				t.Errorf("status %q", st)
			}
		})
	}

	t.Run("resume after a reload", func(t *testing.T) {
		ctx := browsertest.New(t)
		browsertest.Do(t, ctx, chromedp.Navigate(rs[0].URL), chromedp.WaitVisible(chromedp.ID("request-heading")))
		// Eight parts: at 4 MiB/s the first four are stored about five
		// seconds before the next, time enough to reload in between.
		data := randomData(36<<20 + 99)
		path := tempFile(t, "archive.tar", data)
		sent["archive.tar"] = data
		browsertest.Network(t, ctx, false, 4<<20)
		browsertest.Do(t, ctx, chromedp.SetUploadFiles(chromedp.ID("upload-files"), []string{path}))
		// Wait until the store holds a part, then reload.
		key := "weupload.uploads.v1:" + rs[0].ID
		deadline := time.Now().Add(25 * time.Second)
		for stored := 0; stored == 0; {
			if time.Now().After(deadline) {
				t.Fatal("no part stored in time")
			}
			time.Sleep(100 * time.Millisecond)
			id := js[string](t, ctx, fmt.Sprintf(`Object.values(JSON.parse(localStorage.getItem(%q) || "{}")).map(r => r.uploadId || "").join("")`, key))
			if id != "" {
				st, err := ta.shares.RequestUploadState(t.Context(), tokenFrom(rs[0].URL), shares.Visitor{}, id)
				if err != nil {
					t.Fatal(err)
				}
				stored = len(st.Parts)
			}
		}
		acceptDialogs(ctx) // "leave the page while uploading?"
		browsertest.Network(t, ctx, false, -1)
		browsertest.Do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("request-heading")))
		waitJS(t, ctx, `document.querySelector('#upload-list [data-state=interrupted]') !== null`)
		browsertest.Screenshot(t, ctx, "5-interrupted")
		puts := countLog(ta, `"method":"PUT"`, `"route":"/blob/*"`, `"status":200`)
		browsertest.Do(t, ctx, chromedp.SetUploadFiles(chromedp.ID("upload-files"), []string{path}))
		waitJS(t, ctx, `document.querySelectorAll('#upload-list [data-state=done]').length === 1 && !document.querySelector('#upload-list [data-state=interrupted]')`)
		browsertest.Screenshot(t, ctx, "6-resumed")
		if n := countLog(ta, `"method":"PUT"`, `"route":"/blob/*"`, `"status":200`) - puts; n >= 8 {
			t.Errorf("%d PUTs after the reload; the stored parts were sent again", n)
		}
	})

	p, err := ta.files.List(t.Context(), annUser.ID, files.ListInput{FolderID: inbox.ID})
	if err != nil || len(p.Files) != len(sent) {
		t.Fatalf("inbox holds %d files (%v), want %d", len(p.Files), err, len(sent))
	}
	for _, f := range p.Files {
		if _, got := downloadViaPage(t, ann, f.ID); !bytes.Equal(got, sent[f.Name]) {
			t.Errorf("%s: %d bytes, not the %d sent", f.Name, len(got), len(sent[f.Name]))
		}
	}
	browsertest.Do(t, owner, chromedp.KeyEvent("\u001b"), chromedp.WaitNotPresent(chromedp.ID("share-dialog")),
		chromedp.Navigate(ta.srv.URL+"/shared"), chromedp.WaitVisible(chromedp.ID("shared-requests")))
	browsertest.Screenshot(t, owner, "7-shared-requests")
	if txt := browsertest.Value(t, owner, chromedp.Text(chromedp.ID("shared-requests"))); !strings.Contains(txt, "5 files received") {
		t.Fatalf("Shared page: %q", txt)
	}
}
