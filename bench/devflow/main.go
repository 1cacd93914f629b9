// Command devflow walks the whole file-browser flow, as a user would,
// against a running instance (make dev, or any deployment) in headless Chromium: it picks a
// large file and a folder of small files in the file browser, reloads the
// page in the middle of the large upload, picks the same files again so
// the upload resumes, and then searches, renames, moves, trashes, restores
// and downloads them, checking the downloaded bytes. It prints the time of
// each step and the upload throughput.
//
//	NO_WATCH=1 make dev &            # another terminal
//	go run ./bench/devflow -size 2GiB -files 50
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/weupload/weupload/internal/browsertest"
	"github.com/weupload/weupload/internal/bytesize"
)

func main() {
	base := flag.String("base", "http://localhost:8080", "the app's URL")
	email := flag.String("email", "dev@example.com", "account to sign in with")
	password := flag.String("password", "devpassword", "its password")
	sizeFlag := flag.String("size", "2GiB", "size of the large file")
	n := flag.Int("files", 50, "small files in the folder")
	reloadAt := flag.Float64("reload-at", 0.3, "reload when the large upload reaches this fraction")
	shots := flag.String("screenshots", "tmp/screenshots", "where to save screenshots")
	flag.Parse()
	size, err := bytesize.Parse(*sizeFlag)
	if err == nil {
		err = run(*base, *email, *password, size, *n, *reloadAt, *shots)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "devflow:", err)
		os.Exit(1)
	}
}

// flow is one run: the browser, the local files and the step clock.
type flow struct {
	ctx   context.Context
	base  string
	shots string
	start time.Time
}

func (f *flow) step(format string, args ...any) {
	fmt.Printf("%7.1fs  %s\n", time.Since(f.start).Seconds(), fmt.Sprintf(format, args...))
}

func (f *flow) do(timeout time.Duration, steps ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(f.ctx, timeout)
	defer cancel()
	return chromedp.Do(ctx, steps...)
}

// wait polls a JavaScript condition.
func (f *flow) wait(timeout time.Duration, expr string) error {
	_, err := chromedp.Run(f.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(200*time.Millisecond)))
	if err != nil {
		return fmt.Errorf("waiting for %s: %w", expr, err)
	}
	return nil
}

// api calls the JSON API from the page (the session cookie signs it).
func (f *flow) api(method, path string, body any, out any) error {
	b, _ := json.Marshal(body)
	if body == nil {
		b = nil
	}
	expr := fmt.Sprintf(`fetch(%q, {method: %q, headers: {'Content-Type': 'application/json'}, body: %s}).then(async r => ({status: r.status, body: await r.text()}))`,
		path, method, jsBody(b))
	res, err := chromedp.Run(f.ctx, chromedp.Evaluate[struct {
		Status int
		Body   string
	}](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		return err
	}
	if res.Status >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, res.Status, res.Body)
	}
	if out != nil {
		return json.Unmarshal([]byte(res.Body), out)
	}
	return nil
}

func jsBody(b []byte) string {
	if b == nil {
		return "undefined"
	}
	q, _ := json.Marshal(string(b))
	return string(q)
}

func (f *flow) screenshot(name string) {
	buf, err := chromedp.Run(f.ctx, chromedp.CaptureScreenshot())
	if err == nil && os.MkdirAll(f.shots, 0o755) == nil {
		_ = os.WriteFile(filepath.Join(f.shots, "devflow-"+name+".png"), buf, 0o644)
	}
}

func run(base, email, password string, size int64, n int, reloadAt float64, shots string) error {
	dir, err := os.MkdirTemp("", "devflow-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	f := &flow{base: base, shots: shots, start: time.Now()}

	// Names of this run, so runs against the same account do not clash.
	run := time.Now().Format("150405")
	bigName, folderName := "big-"+run+".bin", "Photos-"+run
	big := filepath.Join(dir, bigName)
	sum, err := writeRandom(big, size)
	if err != nil {
		return err
	}
	folder := filepath.Join(dir, folderName)
	if err := os.Mkdir(folder, 0o755); err != nil {
		return err
	}
	for i := range n {
		if err := os.WriteFile(filepath.Join(folder, fmt.Sprintf("photo-%02d.txt", i)), fmt.Appendf(nil, "photo %d\n", i), 0o644); err != nil {
			return err
		}
	}
	f.step("wrote %s (%d bytes, sha256 %s…) and %d small files", big, size, sum[:12], n)

	ctx, cancel, err := browsertest.Launch(filepath.Join(dir, "profile"))
	if err != nil {
		return err
	}
	defer cancel()
	f.ctx = ctx
	// Leaving the page while uploading asks first: say yes (the reload).
	go func() {
		for _, err := range chromedp.Events(ctx, page.JavascriptDialogOpening) {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	if err := f.do(30*time.Second,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.ID("f-email")),
		chromedp.SendKeys(chromedp.ID("f-email"), email),
		chromedp.SendKeys(chromedp.ID("f-password"), password),
		chromedp.Click(chromedp.CSS("#login-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("listing")),
	); err != nil {
		return fmt.Errorf("log in: %w", err)
	}
	f.step("signed in as %s", email)

	t0 := time.Now()
	if err := f.do(30*time.Second,
		chromedp.SetUploadFiles(chromedp.ID("upload-files"), []string{big}),
		chromedp.SetUploadFiles(chromedp.ID("upload-folder"), []string{folder}),
	); err != nil {
		return err
	}
	progress := fmt.Sprintf(`[...document.querySelectorAll('#upload-list li')].find(li => li.textContent.includes(%q))?.querySelector('progress')?.value || 0`, bigName)
	if err := f.wait(30*time.Minute, fmt.Sprintf(`(%s) >= %g`, progress, reloadAt)); err != nil {
		return err
	}
	before := time.Since(t0)
	f.screenshot("1-uploading")
	f.step("%s at %.0f%% after %.1fs: %.0f MB/s; reloading", bigName, reloadAt*100, before.Seconds(), reloadAt*float64(size)/before.Seconds()/1e6)

	if err := f.do(60*time.Second, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("listing"))); err != nil {
		return err
	}
	if err := f.wait(30*time.Second, `document.querySelector('#upload-list [data-state=interrupted]') !== null`); err != nil {
		return err
	}
	f.screenshot("2-interrupted")
	f.step("after the reload the tray offers to resume")

	t1 := time.Now()
	if err := f.do(30*time.Second,
		chromedp.SetUploadFiles(chromedp.ID("upload-files"), []string{big}),
		chromedp.SetUploadFiles(chromedp.ID("upload-folder"), []string{folder}),
	); err != nil {
		return err
	}
	done := fmt.Sprintf(`document.querySelectorAll('#upload-list [data-state=done]').length >= %d && !document.querySelector('#upload-list [data-state=uploading], #upload-list [data-state=queued], #upload-list [data-state=interrupted]')`, n+1)
	if err := f.wait(30*time.Minute, done); err != nil {
		f.screenshot("3-stuck")
		return err
	}
	after := time.Since(t1)
	f.screenshot("3-done")
	f.step("resumed and finished in %.1fs (the rest of %s at %.0f MB/s, with the %d small files)",
		after.Seconds(), bigName, (1-reloadAt)*float64(size)/after.Seconds()/1e6, n)

	// Browse, search, rename, move, trash, restore, download.
	type item struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Size int64  `json:"size"`
	}
	type page struct {
		Folders []item `json:"folders"`
		Files   []item `json:"files"`
	}
	var root page
	if err := f.api("GET", "/api/v1/files?limit=1000", nil, &root); err != nil {
		return err
	}
	var bigID, photosID string
	for _, it := range root.Files {
		if it.Name == bigName && it.Size == size {
			bigID = it.ID
		}
	}
	for _, it := range root.Folders {
		if it.Name == folderName {
			photosID = it.ID
		}
	}
	var photos page
	if err := f.api("GET", "/api/v1/folders/"+photosID+"/items?limit=1000", nil, &photos); err != nil {
		return err
	}
	if bigID == "" || len(photos.Files) != n {
		return fmt.Errorf("after the upload: %s %q, %d files in %s (want %d)", bigName, bigID, len(photos.Files), folderName, n)
	}
	f.step("browsed: %s and %s with %d files", bigName, folderName, len(photos.Files))

	var found page
	if err := f.api("GET", "/api/v1/search?q=photo-07", nil, &found); err != nil {
		return fmt.Errorf("search photo-07: %v", err)
	}
	target := ""
	for _, it := range found.Files {
		for _, p := range photos.Files {
			if it.ID == p.ID {
				target = it.ID
			}
		}
	}
	if target == "" {
		return fmt.Errorf("search photo-07 did not find this run's file among %d results", len(found.Files))
	}
	renamed := "renamed-" + run + ".txt"
	if err := f.api("POST", "/api/v1/files/"+target+"/rename", map[string]string{"name": renamed}, nil); err != nil {
		return err
	}
	if err := f.api("POST", "/api/v1/files/"+target+"/move", map[string]any{"folder_id": nil}, nil); err != nil {
		return err
	}
	if err := f.api("DELETE", "/api/v1/files/"+target, nil, nil); err != nil {
		return err
	}
	if err := f.api("POST", "/api/v1/files/"+target+"/restore", nil, nil); err != nil {
		return err
	}
	var back item
	if err := f.api("GET", "/api/v1/files/"+target, nil, &back); err != nil || back.Name != renamed {
		return fmt.Errorf("after rename, move, trash and restore: %+v, %v", back, err)
	}
	f.step("searched photo-07, renamed it, moved it to the top, trashed and restored it")

	var dl struct {
		URL string `json:"url"`
	}
	if err := f.api("GET", "/api/v1/files/"+bigID+"/download", nil, &dl); err != nil {
		return err
	}
	t2 := time.Now()
	got, err := fetchSHA256(dl.URL)
	if err != nil {
		return err
	}
	if got != sum {
		return fmt.Errorf("downloaded %s has sha256 %s, want %s", bigName, got, sum)
	}
	f.step("downloaded "+bigName+" in %.1fs (%.0f MB/s): same SHA-256", time.Since(t2).Seconds(), float64(size)/time.Since(t2).Seconds()/1e6)
	if err := f.do(30*time.Second, chromedp.Navigate(base+"/files?q=photo"), chromedp.WaitVisible(chromedp.ID("listing"))); err == nil {
		f.screenshot("4-search")
	}
	f.step("ok")
	return nil
}

// writeRandom writes size pseudo-random bytes (fast, incompressible enough)
// to path and returns their SHA-256.
func writeRandom(path string, size int64) (string, error) {
	out, err := os.Create(path)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	rng := rand.NewChaCha8([32]byte{1, 2, 3})
	if _, err := io.CopyN(io.MultiWriter(out, h), rng, size); err != nil {
		out.Close()
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), out.Close()
}

// fetchSHA256 downloads url and returns the SHA-256 of the body.
func fetchSHA256(url string) (string, error) {
	res, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", errors.New("download: " + res.Status)
	}
	h := sha256.New()
	if _, err := io.Copy(h, res.Body); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
