// Package browsertest drives Debian's Chromium headless through chromedp for
// end-to-end tests of the real pages, and keeps screenshots of what it saw.
package browsertest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/weupload/weupload/internal/testenv"
)

// New starts a fresh headless Chromium (its own profile, so no state leaks
// between tests) and returns a browser context, closed on cleanup.
func New(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel, err := Launch(tb.TempDir())
	if err != nil {
		testenv.Missing(tb, "Chromium", err.Error())
	}
	tb.Cleanup(cancel)
	return ctx
}

// Launch starts a headless Chromium with its profile in dir (for programs
// outside tests, such as bench/devflow). cancel stops it.
func Launch(dir string) (context.Context, context.CancelFunc, error) {
	path := os.Getenv("CHROMIUM")
	if path == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := testenv.LookPath(name); err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		return nil, nil, errors.New("no chromium on PATH: install it with: apt-get install -y chromium (make test does)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		chromedp.Headless,
		chromedp.NoSandbox, // these machines run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 860),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	cancel := func() {
		cancelCtx()
		cancelAlloc()
	}
	// Start the browser now so a start failure is reported here.
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		return nil, nil, err
	}
	return ctx, cancel, nil
}

// Do runs steps with a timeout and fails the test on error, with a
// screenshot of the moment it failed.
func Do(tb testing.TB, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	tb.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, steps...); err != nil {
		Screenshot(tb, ctx, "failure")
		tb.Fatalf("browser: %v", err)
	}
}

// PhoneDark makes the page a 390×844 touch phone that prefers dark mode, to
// check the responsive layout and the dark theme.
func PhoneDark(tb testing.TB, ctx context.Context) {
	tb.Helper()
	Do(tb, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
	}); err != nil {
		tb.Fatalf("browser: emulate dark mode: %v", err)
	}
}

// Value runs one action that yields a value, failing the test on error.
func Value[T any](tb testing.TB, ctx context.Context, a chromedp.Action[T]) T {
	tb.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(tctx, a)
	if err != nil {
		Screenshot(tb, ctx, "failure")
		tb.Fatalf("browser: %v", err)
	}
	return v
}

// Screenshot saves a PNG of the viewport (what a person sees) under $SCREENSHOT_DIR (default
// tmp/screenshots in the module root), named after the test and the step.
func Screenshot(tb testing.TB, ctx context.Context, step string) string {
	tb.Helper()
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		dir = filepath.Join(moduleRoot(), "tmp", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Logf("screenshot: %v", err)
		return ""
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(tb.Name() + "-" + step)
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	buf, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.Logf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		tb.Logf("screenshot: %v", err)
		return ""
	}
	return path
}

func moduleRoot() string {
	dir, _ := os.Getwd()
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	return dir
}
