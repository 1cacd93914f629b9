// Package harness starts what the benchmarks measure: a private PostgreSQL
// cluster (scripts/pg.sh), the real weupload binary with the disk store, and
// HTTP clients logged in as their own users. Everything lives under one
// temporary directory and is stopped by Close.
package harness

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/weupload/weupload/internal/testenv"
)

// Env is one benchmark run's PostgreSQL and scratch directory.
type Env struct {
	Root        string // the module root
	Dir         string // scratch directory, removed by Close
	DatabaseURL string
	pgDir       string
	servers     []*Server
}

// New starts a PostgreSQL cluster under a fresh scratch directory (in
// $BENCH_DIR or the system temp directory: it must be on the disk you want
// to measure). Settings are PostgreSQL's defaults (fsync and synchronous
// commit on), as in production.
func New() (*Env, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(os.Getenv("BENCH_DIR"), "weupload-bench-")
	if err != nil {
		return nil, err
	}
	_ = os.Chmod(dir, 0o755) // the postgres user must reach the cluster directory
	e := &Env{Root: root, Dir: dir, pgDir: filepath.Join(dir, "pg")}
	port, err := testenv.FreePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(filepath.Join(root, "scripts/pg.sh"), "start", e.pgDir, strconv.Itoa(port), "bench")
	cmd.Env = append(os.Environ(), "PG_EXTRA_OPTS=-c max_connections=200 -c shared_buffers=256MB")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	e.DatabaseURL = strings.TrimSpace(string(out))
	return e, nil
}

// Start is New and Build: a cluster, a scratch directory and the binary.
func Start() (*Env, string, error) {
	e, err := New()
	if err != nil {
		return nil, "", err
	}
	bin, err := e.Build()
	if err != nil {
		e.Close()
		return nil, "", err
	}
	return e, bin, nil
}

// Close stops the servers and PostgreSQL and removes the scratch directory.
func (e *Env) Close() {
	for _, s := range e.servers {
		s.Stop()
	}
	_ = exec.Command(filepath.Join(e.Root, "scripts/pg.sh"), "stop", e.pgDir).Run()
	_ = os.RemoveAll(e.Dir)
}

// Psql runs SQL on the benchmark database.
func (e *Env) Psql(sql string) (string, error) {
	out, err := exec.Command("psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", e.DatabaseURL, "-c", sql).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("psql: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// Build compiles the weupload binary the way `make build` does.
func (e *Env) Build() (string, error) {
	bin := filepath.Join(e.Dir, "weupload")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./web")
	cmd.Dir = e.Root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v: %s", err, out)
	}
	return bin, nil
}

// Server is a running weupload serve.
type Server struct {
	URL string
	Cmd *exec.Cmd
	Log *bytes.Buffer
}

// Serve starts bin serve with the disk store under the scratch directory
// and the extra environment, and waits until /readyz answers 200.
func (e *Env) Serve(bin string, extra map[string]string) (*Server, error) {
	port, err := testenv.FreePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	env := map[string]string{
		"DATABASE_URL":    e.DatabaseURL,
		"LISTEN_ADDR":     addr,
		"BASE_URL":        "http://" + addr,
		"STORAGE_DIR":     filepath.Join(e.Dir, "blobs"),
		"REGISTRATION":    "open",
		"SESSION_SECURE":  "false",
		"LOG_LEVEL":       "warn",
		"TRUSTED_PROXIES": "127.0.0.1/32",
		"MAX_FILE_SIZE":   "8GiB",
		"DEFAULT_QUOTA":   "1TiB",
	}
	for k, v := range extra {
		env[k] = v
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	log := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = &lockedWriter{w: log}, &lockedWriter{w: log}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{URL: "http://" + addr, Cmd: cmd, Log: log}
	e.servers = append(e.servers, s)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(s.URL + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, fmt.Errorf("server did not get ready: %s", log.String())
}

// Stop ends the server.
func (s *Server) Stop() {
	if s.Cmd.Process != nil {
		_ = s.Cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = s.Cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = s.Cmd.Process.Kill()
		}
	}
}

// RSS returns the resident set size of process pid in bytes.
func RSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for %d", pid)
}

// Client is an HTTP client logged in as its own user; every request comes
// from its own client IP (X-Forwarded-For, the server trusts loopback), as
// distinct users behind a load balancer would.
type Client struct {
	Base string
	HC   *http.Client
	IP   string
}

// Register signs up a new user and returns a logged-in client.
func Register(base, email string, n int) (*Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &Client{Base: base, IP: fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255), HC: &http.Client{
		Jar:           jar,
		Timeout:       time.Hour,
		Transport:     &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	form := url.Values{"email": {email}, "display_name": {"Bench"}, "password": {"correct horse battery staple"}}
	req, _ := http.NewRequest(http.MethodPost, base+"/register", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("register %s: %d", email, res.StatusCode)
	}
	return c, nil
}

// Do sends req with the client's IP.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	req.Header.Set("X-Forwarded-For", c.IP)
	return c.HC.Do(req)
}

// JSON sends a JSON request and decodes a JSON answer into out (when not
// nil); it returns the status.
func (c *Client) JSON(method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.Base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, err
	}
	if res.StatusCode >= 300 {
		return res.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	if out != nil {
		return res.StatusCode, json.Unmarshal(b, out)
	}
	return res.StatusCode, nil
}

// Latencies collects request durations from many goroutines.
type Latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

// Add records one duration.
func (l *Latencies) Add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// Count is the number of recorded durations.
func (l *Latencies) Count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.d)
}

// Quantile returns the q-quantile (0..1) of the durations.
func (l *Latencies) Quantile(q float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(l.d))
	return s[min(int(q*float64(len(s))), len(s)-1)]
}

// RunFor runs fn in n goroutines until d has passed (or fn returns false)
// and returns the elapsed time.
func RunFor(ctx context.Context, n int, d time.Duration, fn func(worker int) bool) time.Duration {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range n {
		wg.Go(func() {
			for ctx.Err() == nil && fn(w) {
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// Millis is d in milliseconds, for tables.
func Millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Machine describes where the benchmark ran.
func Machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	out, _ := exec.Command("nproc").Output()
	load, _ := os.ReadFile("/proc/loadavg")
	fields := strings.Fields(string(load))
	if len(fields) > 3 {
		fields = fields[:3]
	}
	return fmt.Sprintf("%s, %s cores, load average at start %s", model, strings.TrimSpace(string(out)), strings.Join(fields, " "))
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run the benchmarks from inside the module")
	}
	return filepath.Dir(mod), nil
}
