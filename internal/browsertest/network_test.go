package browsertest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	jsonv2 "github.com/chromedp/cdproto/cdp/jsonv2"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The wire params carry what each Chromium Debian ships requires: 148 a
// top-level offline and per rule urlPattern, latency and both throughputs;
// 156 the per-rule offline. No installed browser is needed to check them.
func TestEmulateNetworkParamsOnTheWire(t *testing.T) {
	buf, err := jsonv2.Marshal(byRuleParams{
		Offline:                  true,
		MatchedNetworkConditions: []*network.Conditions{{Offline: true, UploadThroughput: 4096, DownloadThroughput: -1}},
	}, chromedp.DefaultMarshalOptions)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := jsonv2.Unmarshal(buf, &got); err != nil {
		t.Fatal(err)
	}
	if got["offline"] != true {
		t.Errorf("top-level offline = %v, want true (Chromium 148 requires it): %s", got["offline"], buf)
	}
	rules, _ := got["matchedNetworkConditions"].([]any)
	if len(rules) != 1 {
		t.Fatalf("matchedNetworkConditions = %v, want one rule: %s", got["matchedNetworkConditions"], buf)
	}
	rule, _ := rules[0].(map[string]any)
	want := map[string]any{"urlPattern": "", "latency": 0.0, "uploadThroughput": 4096.0, "downloadThroughput": -1.0, "offline": true}
	for k, v := range want {
		if rule[k] != v {
			t.Errorf("rule %s = %v, want %v: %s", k, rule[k], v, buf)
		}
	}
}

// The installed Chromium accepts the params and applies them: offline makes
// requests fail and navigator.onLine false, back online they succeed, and a
// capped upload takes as long as the cap says.
func TestEmulateNetwork(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, "<!doctype html><title>net</title>")
	}))
	defer srv.Close()

	ctx := New(t)
	Do(t, ctx, chromedp.Navigate(srv.URL))
	// fetchOK says whether a POST of n bytes succeeds.
	fetchOK := func(n int) bool {
		t.Helper()
		return Value(t, ctx, chromedp.Evaluate[bool](
			`fetch("/echo", {method: "POST", body: new Uint8Array(`+strconv.Itoa(n)+`)}).then(r => r.ok, () => false)`,
			chromedp.EvalAwaitPromise))
	}
	onLine := func() bool {
		t.Helper()
		return Value(t, ctx, chromedp.Evaluate[bool](`navigator.onLine`))
	}

	Network(t, ctx, true, -1)
	if fetchOK(10) {
		t.Error("offline: a request succeeded")
	}
	if onLine() {
		t.Error("offline: navigator.onLine is true")
	}

	Network(t, ctx, false, -1)
	if !fetchOK(10) {
		t.Error("back online: the request failed")
	}
	if !onLine() {
		t.Error("back online: navigator.onLine is false")
	}

	// 256 KiB at 128 KiB/s takes about two seconds; unthrottled, a few ms.
	Network(t, ctx, false, 128<<10)
	start := time.Now()
	if !fetchOK(256 << 10) {
		t.Fatal("throttled: the upload failed")
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("256 KiB at 128 KiB/s took %v, want about 2 s (the cap is not applied)", took)
	}
	Network(t, ctx, false, -1)
}
