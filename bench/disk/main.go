// Command disk measures the local-disk store through the real binary: a
// 1 GiB upload (one signed PUT, and 64 MiB parts four at a time, as the
// browser sends them) and its download, against a bare Go server that
// io.Copy's the body to a file and fsyncs (the floor), both on loopback in
// the same run; then the server's RSS while a 4 GiB file is uploaded.
//
//	go run ./bench/disk [-size 1GiB] [-rss-size 4GiB] [-runs 3]
//
// Put BENCH_DIR on the disk you want to measure (default: the system temp
// directory).
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/weupload/weupload/bench/internal/harness"
	"github.com/weupload/weupload/internal/config"
)

func main() {
	size := flag.String("size", "1GiB", "file size of the throughput runs")
	rssSize := flag.String("rss-size", "4GiB", "file size of the memory run")
	runs := flag.Int("runs", 3, "runs per measurement (the median is reported)")
	bare := flag.String("bare", "", "internal: serve the bare floor server on this address")
	bareDir := flag.String("bare-dir", "", "internal: the bare server's directory")
	flag.Parse()
	if *bare != "" {
		if err := serveBare(*bare, *bareDir); err != nil {
			fmt.Fprintln(os.Stderr, "bare:", err)
			os.Exit(1)
		}
		return
	}
	n, err := config.ParseSize(*size)
	if err == nil {
		var m int64
		if m, err = config.ParseSize(*rssSize); err == nil {
			err = run(n, m, *runs)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/disk:", err)
		os.Exit(1)
	}
}

const partSize = 64 << 20

func run(size, rssSize int64, runs int) error {
	env, bin, err := harness.Start()
	if err != nil {
		return err
	}
	defer env.Close()
	fmt.Printf("machine: %s\nfile: %s, parts of %d MiB 4 at a time, median of %d runs, data in %s\n\n",
		harness.Machine(), fmtSize(size), partSize>>20, runs, env.Dir)

	// The app, twice: single PUTs up to 5 GiB, and 64 MiB parts.
	single, err := env.Serve(bin, map[string]string{"UPLOAD_MULTIPART_THRESHOLD": "8GiB", "STORAGE_DIR": filepath.Join(env.Dir, "blobs-single")})
	if err != nil {
		return err
	}
	parts, err := env.Serve(bin, map[string]string{"UPLOAD_MULTIPART_THRESHOLD": "64MiB", "UPLOAD_PART_SIZE": "64MiB", "STORAGE_DIR": filepath.Join(env.Dir, "blobs-parts")})
	if err != nil {
		return err
	}
	bare, stopBare, err := startBare(filepath.Join(env.Dir, "bare"))
	if err != nil {
		return err
	}
	defer stopBare()
	cs, err := harness.Register(single.URL, "disk@example.com", 1)
	if err != nil {
		return err
	}
	cp, err := harness.Register(parts.URL, "disk2@example.com", 2)
	if err != nil {
		return err
	}

	type row struct {
		label    string
		app, flr func() (time.Duration, error)
	}
	var lastSingle string // the file the download rows read
	rows := []row{
		{"upload, one PUT",
			func() (time.Duration, error) {
				d, id, err := appUpload(cs, size, false)
				lastSingle = id
				return d, err
			},
			func() (time.Duration, error) { return bareUpload(bare, size, false) }},
		{"upload, 64 MiB parts x4",
			func() (time.Duration, error) { d, _, err := appUpload(cp, size, true); return d, err },
			func() (time.Duration, error) { return bareUpload(bare, size, true) }},
		{"download (one GET)",
			func() (time.Duration, error) { return appDownload(cs, lastSingle, size) },
			func() (time.Duration, error) { return bareDownload(bare, size) }},
	}
	fmt.Printf("%-26s %12s %12s %8s\n", "", "app", "bare Go", "app/bare")
	for _, r := range rows {
		var app, flr []time.Duration
		for range runs {
			d, err := r.app()
			if err != nil {
				return fmt.Errorf("%s (app): %w", r.label, err)
			}
			app = append(app, d)
			if d, err = r.flr(); err != nil {
				return fmt.Errorf("%s (bare): %w", r.label, err)
			}
			flr = append(flr, d)
		}
		a, f := median(app), median(flr)
		fmt.Printf("%-26s %8.0f MB/s %8.0f MB/s %7.0f %%\n", r.label, mbps(size, a), mbps(size, f), 100*f.Seconds()/a.Seconds())
	}

	// Memory: RSS of each server while it receives a large single PUT.
	fmt.Printf("\nRSS while receiving %s in one PUT (sampled every 50 ms):\n", fmtSize(rssSize))
	for _, s := range []struct {
		label string
		pid   int
		up    func() error
	}{
		{"app", single.Cmd.Process.Pid, func() error { _, _, err := appUpload(cs, rssSize, false); return err }},
		{"bare Go", bare.pid, func() error { _, err := bareUpload(bare, rssSize, false); return err }},
	} {
		idle, peak, err := sampleRSS(s.pid, s.up)
		if err != nil {
			return err
		}
		fmt.Printf("  %-8s idle %6.1f MiB   peak %6.1f MiB   growth %5.1f MiB (goal <= 8 MiB)\n", s.label, mib(idle), mib(peak), mib(peak-idle))
	}
	return nil
}

// appUpload sends a file through the upload protocol and returns how long
// the signed PUTs took (initiate and complete excluded) and the file id.
func appUpload(c *harness.Client, size int64, multipart bool) (time.Duration, string, error) {
	var u struct {
		ID       string            `json:"id"`
		Mode     string            `json:"mode"`
		PartSize int64             `json:"part_size"`
		URL      string            `json:"url"`
		Headers  map[string]string `json:"headers"`
		Parts    []struct {
			Number  int32             `json:"number"`
			URL     string            `json:"url"`
			Headers map[string]string `json:"headers"`
		} `json:"parts"`
	}
	name := "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ".bin"
	if _, err := c.JSON("POST", "/api/v1/uploads", map[string]any{"name": name, "size": size}, &u); err != nil {
		return 0, "", err
	}
	if (u.Mode == "multipart") != multipart {
		return 0, "", fmt.Errorf("mode %s", u.Mode)
	}
	start := time.Now()
	var complete any
	if !multipart {
		if _, err := put(u.URL, u.Headers, 0, size); err != nil {
			return 0, "", err
		}
	} else {
		type done struct {
			Number int32  `json:"number"`
			ETag   string `json:"etag"`
		}
		etags := make([]done, len(u.Parts))
		err := parallel(4, len(u.Parts), func(i int) error {
			p := u.Parts[i]
			off := int64(p.Number-1) * u.PartSize
			etag, err := put(p.URL, p.Headers, off, min(u.PartSize, size-off))
			etags[i] = done{p.Number, etag}
			return err
		})
		if err != nil {
			return 0, "", err
		}
		complete = map[string]any{"parts": etags}
	}
	d := time.Since(start)
	var f struct{ ID string }
	if _, err := c.JSON("POST", "/api/v1/uploads/"+u.ID+"/complete", complete, &f); err != nil {
		return 0, "", err
	}
	return d, f.ID, nil
}

// appDownload follows the download link and reads the whole file.
func appDownload(c *harness.Client, id string, size int64) (time.Duration, error) {
	req, _ := http.NewRequest("GET", c.Base+"/files/"+id+"/download", nil)
	res, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		return 0, fmt.Errorf("download link: %d", res.StatusCode)
	}
	return get(res.Header.Get("Location"), size)
}

type bareServer struct {
	url string
	pid int
}

// startBare runs the floor server in a child process (this binary, -bare).
func startBare(dir string) (bareServer, func(), error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return bareServer{}, nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return bareServer{}, nil, err
	}
	addr := l.Addr().String()
	l.Close()
	self, err := os.Executable()
	if err != nil {
		return bareServer{}, nil, err
	}
	cmd := exec.Command(self, "-bare", addr, "-bare-dir", dir)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return bareServer{}, nil, err
	}
	for range 100 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return bareServer{url: "http://" + addr, pid: cmd.Process.Pid}, func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }, nil
}

// serveBare is the floor: PUT /f/<name> copies the body into a file and
// fsyncs it; PUT /p/<name>?off=N&size=S writes a part at its offset of a
// preallocated file and fsyncs; GET /f/<name> serves the file.
func serveBare(addr, dir string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /f/{name}", func(w http.ResponseWriter, r *http.Request) {
		path := filepath.Join(dir, r.PathValue("name"))
		f, err := os.Create(path + ".tmp")
		if err == nil {
			_, err = io.Copy(f, r.Body)
			err = errors.Join(err, f.Sync(), f.Close(), os.Rename(path+".tmp", path))
		}
		if err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.HandleFunc("PUT /p/{name}", func(w http.ResponseWriter, r *http.Request) {
		off, _ := strconv.ParseInt(r.URL.Query().Get("off"), 10, 64)
		f, err := os.OpenFile(filepath.Join(dir, r.PathValue("name")), os.O_WRONLY|os.O_CREATE, 0o644)
		if err == nil {
			_, err = io.Copy(io.NewOffsetWriter(f, off), r.Body)
			err = errors.Join(err, f.Sync(), f.Close())
		}
		if err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.HandleFunc("GET /f/{name}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(dir, r.PathValue("name")))
	})
	return (&http.Server{Addr: addr, Handler: mux}).ListenAndServe()
}

var bareSeq atomic.Int64

func bareUpload(b bareServer, size int64, multipart bool) (time.Duration, error) {
	name := fmt.Sprintf("f%d", bareSeq.Add(1))
	start := time.Now()
	if !multipart {
		if _, err := put(b.url+"/f/latest", nil, 0, size); err != nil {
			return 0, err
		}
		return time.Since(start), nil
	}
	n := int((size + partSize - 1) / partSize)
	err := parallel(4, n, func(i int) error {
		off := int64(i) * partSize
		_, err := put(fmt.Sprintf("%s/p/%s?off=%d", b.url, name, off), nil, off, min(partSize, size-off))
		return err
	})
	return time.Since(start), err
}

func bareDownload(b bareServer, size int64) (time.Duration, error) {
	return get(b.url+"/f/latest", size)
}

// block is the repeated content of every upload (generated once, so the
// client spends no time making data).
var block = func() []byte { b := make([]byte, 1<<20); _, _ = rand.Read(b); return b }()

// source yields n bytes of the block pattern starting at offset off.
type source struct{ off, left int64 }

func (s *source) Read(p []byte) (int, error) {
	if s.left == 0 {
		return 0, io.EOF
	}
	i := s.off % int64(len(block))
	n := copy(p[:min(int64(len(p)), s.left)], block[i:])
	s.off += int64(n)
	s.left -= int64(n)
	return n, nil
}

var client = &http.Client{Transport: &http.Transport{Proxy: nil, DisableCompression: true, MaxIdleConnsPerHost: 8}}

// put sends n bytes (from offset off of the pattern) and returns the ETag.
func put(url string, headers map[string]string, off, n int64) (string, error) {
	req, _ := http.NewRequest(http.MethodPut, url, io.NopCloser(&source{off: off, left: n}))
	req.ContentLength = n
	if n == 0 {
		req.Body = http.NoBody
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("PUT: %d %s", res.StatusCode, bytes.TrimSpace(b))
	}
	return res.Header.Get("ETag"), nil
}

// get downloads url and checks the length.
func get(url string, size int64) (time.Duration, error) {
	start := time.Now()
	res, err := client.Get(url)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	n, err := io.Copy(io.Discard, res.Body)
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusOK || n != size {
		return 0, fmt.Errorf("GET: %d, %d bytes", res.StatusCode, n)
	}
	return time.Since(start), nil
}

// parallel runs fn(0..n-1), k at a time, and returns the first error.
func parallel(k, n int, fn func(i int) error) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	sem := make(chan struct{}, k)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}

// sampleRSS records pid's RSS before and while up runs.
func sampleRSS(pid int, up func() error) (idle, peak int64, err error) {
	time.Sleep(time.Second)
	if idle, err = harness.RSS(pid); err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	peak = idle
	wg.Go(func() {
		for ctx.Err() == nil {
			if r, err := harness.RSS(pid); err == nil && r > peak {
				peak = r
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	err = up()
	cancel()
	wg.Wait()
	return idle, peak, err
}

func median(ds []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	return s[len(s)/2]
}

func mbps(n int64, d time.Duration) float64 { return float64(n) / 1e6 / d.Seconds() }
func mib(n int64) float64                   { return float64(n) / (1 << 20) }

func fmtSize(n int64) string {
	if n >= 1<<30 && n%(1<<30) == 0 {
		return fmt.Sprintf("%d GiB", n>>30)
	}
	return fmt.Sprintf("%d MiB", n>>20)
}
