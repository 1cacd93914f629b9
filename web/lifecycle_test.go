package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/weupload/weupload/internal/database/dbtest"
	"github.com/weupload/weupload/internal/testenv"
)

// TestServeDrainsOnShutdown runs the real `serve` command, puts it under load,
// then cancels its context (what SIGTERM does in main) mid-run. Every request
// the server accepted (it logs one line per request it handled) must have
// reached the client complete; serve must then return nil (exit 0).
// Connections still in the kernel's accept queue when the listener closes
// are reset by the kernel without the app ever seeing them: clients see EOF
// for those, which is why the check compares against the server's own log
// (in production the ALB deregisters the target before SIGTERM, so that
// queue is empty).
func TestServeDrainsOnShutdown(t *testing.T) {
	port, _ := testenv.FreePort()
	mport, _ := testenv.FreePort()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	env := map[string]string{
		"DATABASE_URL":     dbtest.NewURL(t),
		"LISTEN_ADDR":      addr,
		"METRICS_ADDR":     fmt.Sprintf("127.0.0.1:%d", mport),
		"SHUTDOWN_TIMEOUT": "10s",
		"LOG_LEVEL":        "info",
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	logs := &syncBuffer{}
	go func() {
		done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, strings.NewReader(""), logs, io.Discard)
	}()
	base := "http://" + addr
	waitFor(t, base+"/healthz")

	// Metrics answer on their own address, not on the app's.
	res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", mport))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `weupload_build_info{commit=`) || !strings.Contains(string(body), `weupload_http_requests_total{code_class="2xx",method="GET",route="/healthz"} 1`) {
		t.Fatalf("metrics lack expected series:\n%.1500s", body)
	}
	if r, _ := http.Get(base + "/metrics"); r != nil && r.StatusCode != http.StatusNotFound {
		t.Fatalf("/metrics on the app address answered %d", r.StatusCode)
	}

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 20 * time.Second}
	var ok, refused, cut atomic.Int64
	var mu sync.Mutex
	var broken []string
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := client.Get(base + "/login")
				if err != nil {
					if errors.Is(err, syscall.ECONNREFUSED) {
						refused.Add(1)
						continue
					}
					if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
						cut.Add(1) // reset from the accept queue, or cut off: the log decides
						continue
					}
					mu.Lock()
					broken = append(broken, err.Error())
					mu.Unlock()
					continue
				}
				b, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil || res.StatusCode != http.StatusOK || !strings.Contains(string(b), "</html>") {
					mu.Lock()
					broken = append(broken, fmt.Sprintf("status %d, %d bytes, %v", res.StatusCode, len(b), err))
					mu.Unlock()
					continue
				}
				ok.Add(1)
			}
		}()
	}
	// Stop while the load runs: once it has been answered a while.
	testenv.Eventually(t, 20*time.Second, "50 answers before shutdown", func() bool { return ok.Load() >= 50 })
	cancel() // SIGTERM
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v, want nil (exit 0)", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	testenv.Eventually(t, 5*time.Second, "connections refused after shutdown", func() bool { return refused.Load() > 0 })
	close(stop)
	wg.Wait()
	handled := int64(strings.Count(logs.String(), `"route":"/login","status":200`))
	t.Logf("%d answered, %d handled per the server log, %d reset before accept, %d refused after shutdown", ok.Load(), handled, cut.Load(), refused.Load())
	if ok.Load() < 50 || refused.Load() == 0 {
		t.Fatalf("load did not straddle the shutdown: %d ok, %d refused", ok.Load(), refused.Load())
	}
	if len(broken) > 0 {
		t.Fatalf("%d requests got a broken answer, e.g. %v", len(broken), broken[0])
	}
	if handled != ok.Load() {
		t.Fatalf("the server handled %d /login requests but clients received %d complete answers", handled, ok.Load())
	}
	if !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Fatal("no clean stop logged")
	}
}

func waitFor(t *testing.T, u string) {
	t.Helper()
	testenv.Eventually(t, 15*time.Second, u+" answers 200", func() bool {
		res, err := http.Get(u)
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
}

// TestLoginMetrics checks failed and throttled logins are counted.
func TestLoginMetrics(t *testing.T) {
	ta := newTestApp(t, nil)
	c := ta.client(t)
	c.login("nobody@example.com", "wrong password")
	rec := &strings.Builder{}
	srv := ta.metrics.handler()
	req, _ := http.NewRequest(http.MethodGet, "/metrics", nil)
	w := &captureWriter{header: http.Header{}, body: rec}
	srv.ServeHTTP(w, req)
	if !strings.Contains(rec.String(), `weupload_login_events_total{event="failure"} 1`) {
		t.Fatalf("no login failure counted:\n%.800s", rec.String())
	}
	if !strings.Contains(rec.String(), `weupload_http_request_duration_seconds_bucket{code_class="4xx",method="POST",route="/login"`) {
		t.Fatal("no request histogram for POST /login")
	}
}

type captureWriter struct {
	header http.Header
	body   *strings.Builder
}

func (c *captureWriter) Header() http.Header         { return c.header }
func (c *captureWriter) Write(b []byte) (int, error) { return c.body.Write(b) }
func (c *captureWriter) WriteHeader(int)             {}
