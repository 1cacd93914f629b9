package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/weupload/weupload/internal/blob/s3test"
	"github.com/weupload/weupload/internal/browsertest"
)

// Browser tests of the upload path: static/js/upload.js in headless
// Chromium against the real app, with the bytes going to versitygw (S3) or
// to the disk store's signed /blob/ URLs. Screenshots of each checked state
// land in tmp/screenshots.

// smallParts configures 5 MiB parts (S3's minimum) from 5 MiB on, so a
// 12 MiB file goes in three parts.
var smallParts = map[string]string{"UPLOAD_PART_SIZE": "5MiB", "UPLOAD_MULTIPART_THRESHOLD": "5MiB"}

// withEnv is base with more's settings added (neither is changed).
func withEnv(base, more map[string]string) map[string]string {
	out := map[string]string{}
	maps.Copy(out, base)
	maps.Copy(out, more)
	return out
}

// s3TestApp is the app on a fresh versitygw bucket.
func s3TestApp(t *testing.T, env map[string]string) *testApp {
	t.Helper()
	cfg := s3test.New(t)
	// The app's S3 client takes credentials from the SDK's default chain.
	t.Setenv("AWS_ACCESS_KEY_ID", cfg.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", cfg.SecretKey)
	return newFilesTestApp(t, withEnv(env, map[string]string{
		"STORAGE_BACKEND": "s3", "S3_BUCKET": cfg.Bucket, "S3_ENDPOINT": cfg.Endpoint,
		"S3_REGION": cfg.Region, "S3_PATH_STYLE": "true",
	}))
}

// diskTestApp is the app on the local-disk store.
func diskTestApp(t *testing.T, env map[string]string) *testApp {
	t.Helper()
	return newFilesTestApp(t, withEnv(env, map[string]string{"STORAGE_DIR": t.TempDir()}))
}

// browserLogin signs in through the login form and waits for the browser.
func browserLogin(t *testing.T, ctx context.Context, base, email string) {
	t.Helper()
	browsertest.Do(t, ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.ID("f-email")),
		chromedp.SendKeys(chromedp.ID("f-email"), email),
		chromedp.SendKeys(chromedp.ID("f-password"), "correct horse battery"),
		chromedp.Click(chromedp.CSS("#login-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("listing")),
	)
}

// waitJS waits until a JavaScript expression is true in the page.
func waitJS(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	browsertest.Value(t, ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(28*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))
}

// js evaluates an expression (awaiting a promise) and returns its value.
func js[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	return browsertest.Value(t, ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// acceptDialogs answers every JavaScript dialog of the page with OK (the
// beforeunload prompt the upload module shows while uploads run).
func acceptDialogs(ctx context.Context) {
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
}

// tempFile writes data to a file named name in a fresh directory.
func tempFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// browserClient is an HTTP client carrying the browser's session cookie.
func browserClient(t *testing.T, ctx context.Context, ta *testApp) *client {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{ta.srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	c := ta.client(t)
	u, _ := url.Parse(ta.srv.URL)
	jar, _ := cookiejar.New(nil)
	for _, ck := range res.Cookies {
		jar.SetCookies(u, []*http.Cookie{{Name: ck.Name, Value: ck.Value, Path: "/"}})
	}
	c.hc.Jar = jar
	return c
}

// rowIDs maps the names in the listing to their ids.
func rowIDs(t *testing.T, ctx context.Context) map[string]string {
	t.Helper()
	return js[map[string]string](t, ctx, `Object.fromEntries([...document.querySelectorAll('#rows [data-entry]')].map(li => [li.querySelector('.entry-name .truncate').textContent.trim(), li.dataset.id]))`)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// pageSHA256 downloads a file in the page (following the redirect to the
// store) and returns the SHA-256 of the bytes it got.
func pageSHA256(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	return js[string](t, ctx, fmt.Sprintf(`fetch('/files/%s/download').then(r => { if (!r.ok) throw new Error('status ' + r.status); return r.arrayBuffer() })
		.then(b => crypto.subtle.digest('SHA-256', b))
		.then(d => [...new Uint8Array(d)].map(x => x.toString(16).padStart(2, '0')).join(''))`, id))
}

// uploadTwoFiles is the upload module's end-to-end check in a real browser:
// pick two files (one above the multipart threshold, so both upload modes
// run), watch them upload, see both in the list, download each and compare
// the bytes.
func uploadTwoFiles(t *testing.T, ta *testApp) {
	ta.createUser(t, "ann@example.com", "correct horse battery")
	ctx := browsertest.New(t)
	browserLogin(t, ctx, ta.srv.URL, "ann@example.com")
	browsertest.Screenshot(t, ctx, "1-empty")

	small := randomData(300<<10 + 7)
	big := randomData(12<<20 + 12345) // three parts of 5 MiB
	smallPath, bigPath := tempFile(t, "notes.txt", small), tempFile(t, "holiday video.mp4", big)

	// Slow the link so the progress can be seen (and photographed).
	browsertest.Network(t, ctx, false, 3<<20)
	browsertest.Do(t, ctx, chromedp.SetUploadFiles(chromedp.ID("upload-files"), []string{smallPath, bigPath}))
	waitJS(t, ctx, `[...document.querySelectorAll('#upload-list [data-state=uploading]')].some(li => li.querySelector('progress').value > 0.25 && li.querySelector('[data-status]').textContent.includes('/s'))`)
	browsertest.Screenshot(t, ctx, "2-uploading")
	status := js[string](t, ctx, `document.querySelector('#upload-list [data-state=uploading] [data-status]').textContent`)
	if !strings.Contains(status, " of ") || !strings.Contains(status, "/s") || !strings.Contains(status, "left") {
		t.Errorf("status line %q lacks progress, speed or time left", status)
	}
	browsertest.Network(t, ctx, false, -1)

	waitJS(t, ctx, `document.querySelectorAll('#upload-list [data-state=done]').length === 2 && document.querySelectorAll('#rows [data-entry=file]').length === 2`)
	browsertest.Screenshot(t, ctx, "3-uploaded")
	if title := js[string](t, ctx, `document.querySelector('[data-tray-title]').textContent`); title != "Uploaded 2 files" {
		t.Errorf("tray title %q", title)
	}
	ids := rowIDs(t, ctx)
	if len(ids) != 2 || ids["notes.txt"] == "" || ids["holiday video.mp4"] == "" {
		t.Fatalf("listing %v", ids)
	}

	// The big file with the browser's cookie through our HTTP client.
	c := browserClient(t, ctx, ta)
	res, got := downloadViaPage(t, c, ids["holiday video.mp4"])
	if res.StatusCode != http.StatusOK || !bytes.Equal(got, big) {
		t.Fatalf("download of the multipart file: status %d, %d bytes (want %d), equal %v", res.StatusCode, len(got), len(big), bytes.Equal(got, big))
	}
	// The small one inside the page itself.
	if sum := pageSHA256(t, ctx, ids["notes.txt"]); sum != sha256Hex(small) {
		t.Fatalf("downloaded notes.txt has SHA-256 %s, want %s", sum, sha256Hex(small))
	}

	// The details drawer shows the SHA-256 the page computed and the store checked.
	browsertest.Do(t, ctx,
		chromedp.Click(chromedp.CSS(`#rows [data-id="`+ids["notes.txt"]+`"] .entry-name`)),
		chromedp.WaitVisible(chromedp.ID("sha256-value")),
	)
	browsertest.Screenshot(t, ctx, "4-details")
	if got := browsertest.Value(t, ctx, chromedp.Text(chromedp.ID("sha256-value"))); got != sha256Hex(small) {
		t.Errorf("details SHA-256 %q, want %q", got, sha256Hex(small))
	}
	browsertest.Do(t, ctx, chromedp.KeyEvent("\x1b")) // Escape closes the drawer
	waitJS(t, ctx, `!document.getElementById('drawer').open`)

	// The same on a phone in dark mode.
	browsertest.PhoneDark(t, ctx)
	browsertest.Do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("listing")))
	browsertest.Screenshot(t, ctx, "5-phone-dark")
}

// TestBrowserUploadS3 runs the upload in the browser against versitygw:
// presigned single PUT (with its SHA-256) and presigned multipart.
func TestBrowserUploadS3(t *testing.T) {
	uploadTwoFiles(t, s3TestApp(t, smallParts))
}

// TestBrowserUploadDisk runs the same against the disk store.
func TestBrowserUploadDisk(t *testing.T) {
	uploadTwoFiles(t, diskTestApp(t, smallParts))
}

// countLog counts the server's request log lines that contain every one of subs.
func countLog(ta *testApp, subs ...string) int {
	n := 0
	for _, line := range strings.Split(ta.logs.String(), "\n") {
		ok := line != ""
		for _, s := range subs {
			ok = ok && strings.Contains(line, s)
		}
		if ok {
			n++
		}
	}
	return n
}

// TestBrowserUploadResume reloads the page in the middle of a multipart
// upload: the tray offers to resume, the same file picked again continues
// from the parts the store holds (no part is stored twice), and a lost
// connection pauses the upload until the network is back.
func TestBrowserUploadResume(t *testing.T) {
	resumeAfterReload(t, diskTestApp(t, smallParts), true)
}

// TestBrowserUploadResumeS3 is the reload on versitygw, which keeps the
// partial body of a part PUT cut off by the reload as if it were whole: the
// resumed upload must send such parts again (the page trusts only parts it
// saw stored), or the assembled file differs from the one picked.
func TestBrowserUploadResumeS3(t *testing.T) {
	resumeAfterReload(t, s3TestApp(t, smallParts), false)
}

// resumeAfterReload is the reload-and-resume flow; countPUTs checks in the
// disk store's request log that no part was stored twice.
func resumeAfterReload(t *testing.T, ta *testApp, countPUTs bool) {
	ta.createUser(t, "ann@example.com", "correct horse battery")
	ctx := browsertest.New(t)
	browserLogin(t, ctx, ta.srv.URL, "ann@example.com")
	c := browserClient(t, ctx, ta)

	data := randomData(26<<20 + 999) // six parts
	path := tempFile(t, "backup.tar", data)
	browsertest.Network(t, ctx, false, 6<<20)
	browsertest.Do(t, ctx, chromedp.SetUploadFiles(chromedp.ID("upload-files"), []string{path}))

	// Wait until the store holds at least one part, then reload.
	var uploadID string
	deadline := time.Now().Add(25 * time.Second)
	for stored := 0; stored == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no part stored in time")
		}
		time.Sleep(100 * time.Millisecond)
		list := decode[struct {
			Items []struct{ ID string } `json:"items"`
		}](t, c.apiCall("GET", "/api/v1/uploads", "", ""))
		if len(list.Items) == 1 {
			uploadID = list.Items[0].ID
			st := decode[struct {
				Parts []struct{ Number int } `json:"parts"`
			}](t, c.apiCall("GET", "/api/v1/uploads/"+uploadID, "", ""))
			stored = len(st.Parts)
		}
	}
	acceptDialogs(ctx) // "leave the page while uploading?"
	browsertest.Do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("listing")))
	waitJS(t, ctx, `document.querySelector('#upload-list [data-state=interrupted]') !== null`)
	browsertest.Screenshot(t, ctx, "1-interrupted")
	status := js[string](t, ctx, `document.querySelector('#upload-list [data-state=interrupted] [data-status]').textContent`)
	if strings.HasPrefix(status, "0 bytes") {
		t.Errorf("interrupted item says %q; the store holds parts", status)
	}

	// Pick the same file again: it continues from the stored parts.
	browsertest.Do(t, ctx, chromedp.SetUploadFiles(chromedp.ID("upload-files"), []string{path}))
	waitJS(t, ctx, `document.querySelector('#upload-list [data-state=done]') !== null && document.querySelectorAll('#rows [data-entry=file]').length === 1`)
	browsertest.Screenshot(t, ctx, "2-resumed-done")
	if n := js[int](t, ctx, `document.querySelectorAll('#upload-list li').length`); n != 1 {
		t.Errorf("%d items in the tray, want the one resumed", n)
	}
	ids := rowIDs(t, ctx)
	res, got := downloadViaPage(t, c, ids["backup.tar"])
	if res.StatusCode != http.StatusOK || !bytes.Equal(got, data) {
		t.Fatalf("download: status %d, %d bytes (want %d), same bytes %v", res.StatusCode, len(got), len(data), bytes.Equal(got, data))
	}
	// Each of the six parts was stored exactly once: the parts from before
	// the reload were not sent again.
	if n := countLog(ta, `"method":"PUT"`, `"route":"/blob/*"`, `"status":200`); countPUTs && n != 6 {
		t.Errorf("%d part PUTs succeeded, want 6", n)
	}

	// Another file; the connection drops half way and comes back.
	more := randomData(12<<20 + 1)
	browsertest.Network(t, ctx, false, 4<<20)
	browsertest.Do(t, ctx, chromedp.SetUploadFiles(chromedp.ID("upload-files"), []string{tempFile(t, "photos.zip", more)}))
	waitJS(t, ctx, `[...document.querySelectorAll('#upload-list [data-state=uploading] progress')].some(p => p.value > 0.2)`)
	browsertest.Network(t, ctx, true, 4<<20)
	waitJS(t, ctx, `document.querySelector('#upload-list [data-state=paused]') !== null`)
	browsertest.Screenshot(t, ctx, "3-offline")
	if s := js[string](t, ctx, `document.querySelector('#upload-list [data-state=paused] [data-status]').textContent`); !strings.Contains(s, "Offline") {
		t.Errorf("paused item says %q", s)
	}
	browsertest.Network(t, ctx, false, -1)
	waitJS(t, ctx, `document.querySelectorAll('#upload-list [data-state=done]').length === 2 && document.querySelectorAll('#rows [data-entry=file]').length === 2`)
	browsertest.Screenshot(t, ctx, "4-back-online-done")
	res, got = downloadViaPage(t, c, rowIDs(t, ctx)["photos.zip"])
	if res.StatusCode != http.StatusOK || !bytes.Equal(got, more) {
		t.Fatalf("download after the lost connection: status %d, %d bytes, want %d", res.StatusCode, len(got), len(more))
	}
}

// TestBrowserUploadErrors shows the clear messages, on a phone in dark
// mode: a file over the size limit (refused before any request), one over
// the quota (the server's answer), and a name that is taken, with "Keep
// both".
func TestBrowserUploadErrors(t *testing.T) {
	ta := diskTestApp(t, map[string]string{"DEFAULT_QUOTA": "3MiB", "MAX_FILE_SIZE": "4MiB"})
	ta.createUser(t, "ann@example.com", "correct horse battery")
	ctx := browsertest.New(t)
	browsertest.PhoneDark(t, ctx) // the tray on a phone, in dark mode
	browserLogin(t, ctx, ta.srv.URL, "ann@example.com")

	notes := tempFile(t, "notes.txt", []byte("first"))
	browsertest.Do(t, ctx, chromedp.SetUploadFiles(chromedp.ID("upload-files"), []string{notes}))
	waitJS(t, ctx, `document.querySelectorAll('#rows [data-entry=file]').length === 1`)

	tooBig := tempFile(t, "too big.iso", randomData(5<<20))
	overQuota := tempFile(t, "over quota.bin", randomData(3<<20+1))
	again := tempFile(t, "notes.txt", []byte("second, same name"))
	browsertest.Do(t, ctx, chromedp.SetUploadFiles(chromedp.ID("upload-files"), []string{tooBig, overQuota, again}))
	waitJS(t, ctx, `document.querySelectorAll('#upload-list [data-state=error]').length === 3`)
	browsertest.Screenshot(t, ctx, "1-errors")
	msgs := js[map[string]string](t, ctx, `Object.fromEntries([...document.querySelectorAll('#upload-list [data-state=error]')].map(li => [li.querySelector('[data-name]').textContent, li.querySelector('[data-error]').textContent]))`)
	if n := js[int](t, ctx, `document.querySelectorAll('#upload-list [data-action=retry]').length`); n != 0 {
		t.Errorf("%d errors offer Retry; none of these would succeed on a retry", n)
	}
	for name, want := range map[string]string{
		"too big.iso":    "too large",
		"over quota.bin": "Not enough space",
		"notes.txt":      "already exists",
	} {
		if !strings.Contains(msgs[name], want) {
			t.Errorf("%s: message %q, want it to say %q", name, msgs[name], want)
		}
	}

	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#upload-list [data-action=keep-both]`)))
	waitJS(t, ctx, `document.querySelectorAll('#rows [data-entry=file]').length === 2`)
	browsertest.Screenshot(t, ctx, "2-kept-both")
	if ids := rowIDs(t, ctx); ids["notes (1).txt"] == "" {
		t.Errorf("no notes (1).txt in %v", ids)
	}
}

// TestBrowserUploadCancelAndExpiry: URLs that expire while a large upload
// waits its turn are renewed on the way (the upload completes), and
// cancelling an upload stops it and aborts it on the server, which frees
// the reserved quota at once.
func TestBrowserUploadCancelAndExpiry(t *testing.T) {
	ta := diskTestApp(t, withEnv(smallParts, map[string]string{"UPLOAD_URL_TTL": "8s"}))
	u := ta.createUser(t, "ann@example.com", "correct horse battery")
	ctx := browsertest.New(t)
	browserLogin(t, ctx, ta.srv.URL, "ann@example.com")
	c := browserClient(t, ctx, ta)

	// Six parts at 5 MiB/s: the last two start about 4 s in, when their first
	// URLs (valid 8 s) are too close to expiring to be used.
	data := randomData(26<<20 + 5)
	browsertest.Network(t, ctx, false, 5<<20)
	browsertest.Do(t, ctx, chromedp.SetUploadFiles(chromedp.ID("upload-files"), []string{tempFile(t, "slow.bin", data)}))
	waitJS(t, ctx, `document.querySelectorAll('#rows [data-entry=file]').length === 1`)
	if n := countLog(ta, `"route":"/api/v1/uploads/{id}/parts"`, `"status":200`); n == 0 {
		t.Error("no fresh part URLs were asked for")
	}
	res, got := downloadViaPage(t, c, rowIDs(t, ctx)["slow.bin"])
	if res.StatusCode != http.StatusOK || !bytes.Equal(got, data) {
		t.Fatalf("download: status %d, %d bytes, want %d", res.StatusCode, len(got), len(data))
	}

	// Cancel one half way.
	browsertest.Do(t, ctx, chromedp.SetUploadFiles(chromedp.ID("upload-files"), []string{tempFile(t, "never mind.bin", randomData(12<<20))}))
	waitJS(t, ctx, `[...document.querySelectorAll('#upload-list [data-state=uploading] progress')].some(p => p.value > 0.1)`)
	browsertest.Screenshot(t, ctx, "1-before-cancel")
	browsertest.Do(t, ctx, chromedp.Click(chromedp.CSS(`#upload-list [data-state=uploading] [data-action=cancel]`)))
	waitJS(t, ctx, `document.querySelector('#upload-list [data-state=uploading]') === null`)
	browsertest.Network(t, ctx, false, -1)
	deadline := time.Now().Add(10 * time.Second)
	for {
		pending, err := ta.files.ListUploads(t.Context(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		usage, err := ta.files.Usage(t.Context(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		// The cancelled upload's URLs stay valid a while: its reservation
		// stays until they have expired and its object's deletion ran.
		if len(pending) == 0 && usage.Reserved == 12<<20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after cancel: %d pending uploads, %d bytes reserved", len(pending), usage.Reserved)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := js[int](t, ctx, `document.querySelectorAll('#rows [data-entry=file]').length`); n != 1 {
		t.Errorf("%d files listed after the cancel, want 1", n)
	}
}
