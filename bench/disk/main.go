// Command disk measures the local-disk store through the real binary: a
// 1 GiB upload (one signed PUT, and 64 MiB parts four at a time, as the
// browser sends them) and its download, against a bare Go server that
// io.Copy's the body to a file and fsyncs (the floor), both on loopback in
// the same run; then the server's RSS while a 4 GiB file is uploaded.
//
// The disk store hashes a body (SHA-256) only when the upload declared a
// digest, as S3 does; the row "one PUT, SHA-256" declares one, and every
// upload is also compared with a second floor that hashes what it copies
// ("bare+sha"), the fair floor for that row. The server's CPU time per GiB
// (user+system, from /proc) is printed beside the rates: on a shared machine
// it moves much less than wall-clock throughput.
//
//	go run ./bench/disk [-size 1GiB] [-rss-size 4GiB] [-runs 3] [-rows put,put-sha,parts,get,rss]
//
// Put BENCH_DIR on the disk you want to measure (default: the system temp
// directory).
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
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
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/weupload/weupload/bench/internal/harness"
	"github.com/weupload/weupload/internal/bytesize"
)

func main() {
	size := flag.String("size", "1GiB", "file size of the throughput runs")
	rssSize := flag.String("rss-size", "4GiB", "file size of the memory run")
	runs := flag.Int("runs", 3, "runs per measurement (the median is reported)")
	rows := flag.String("rows", "put,put-sha,parts,get,rss", "what to measure: put, put-sha (the app checks a SHA-256), parts, get, rss")
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
	n, err := bytesize.Parse(*size)
	if err == nil {
		var m int64
		if m, err = bytesize.Parse(*rssSize); err == nil {
			err = run(n, m, *runs, strings.Split(*rows, ","))
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/disk:", err)
		os.Exit(1)
	}
}

const partSize = 64 << 20

func run(size, rssSize int64, runs int, only []string) error {
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
		name, label string
		app, flr    func() (time.Duration, error)
		hashed      func() (time.Duration, error) // the floor that hashes too; nil: none
		appPID      int
	}
	var lastSingle string // the file the download rows read
	rows := []row{
		{"put", "upload, one PUT",
			func() (time.Duration, error) {
				d, id, err := appUpload(cs, size, false)
				lastSingle = id
				return d, err
			},
			func() (time.Duration, error) { return bareUpload(bare, size, false, false) },
			func() (time.Duration, error) { return bareUpload(bare, size, false, true) },
			single.Cmd.Process.Pid},
		{"put-sha", "upload, one PUT, SHA-256",
			func() (time.Duration, error) {
				patternSHA256(size) // the client's own hashing is not timed
				d, _, err := appUploadDigest(cs, size, false, true)
				return d, err
			},
			func() (time.Duration, error) { return bareUpload(bare, size, false, false) },
			func() (time.Duration, error) { return bareUpload(bare, size, false, true) },
			single.Cmd.Process.Pid},
		{"parts", "upload, 64 MiB parts x4",
			func() (time.Duration, error) { d, _, err := appUpload(cp, size, true); return d, err },
			func() (time.Duration, error) { return bareUpload(bare, size, true, false) },
			func() (time.Duration, error) { return bareUpload(bare, size, true, true) },
			parts.Cmd.Process.Pid},
		{"get", "download (one GET)",
			func() (time.Duration, error) {
				if lastSingle == "" {
					d, id, err := appUpload(cs, size, false)
					if err != nil {
						return d, err
					}
					lastSingle = id
					if _, err := bareUpload(bare, size, false, false); err != nil {
						return 0, err
					}
				}
				return appDownload(cs, lastSingle, size)
			},
			func() (time.Duration, error) { return bareDownload(bare, size) }, nil,
			single.Cmd.Process.Pid},
	}
	fmt.Printf("throughput (median MB/s) and the server's CPU time (median, user+system, per GiB):\n")
	fmt.Printf("%-24s %9s %9s %9s %9s %9s %9s %9s %9s   runs, MB/s: app | bare | bare+sha\n",
		"", "app", "bare", "app/bare", "bare+sha", "app/b+sha", "app cpu", "bare cpu", "b+sha cpu")
	for _, r := range rows {
		if !slices.Contains(only, r.name) {
			continue
		}
		type series struct {
			fn     func() (time.Duration, error)
			pid    int
			who    string
			d, cpu []time.Duration
		}
		ss := []*series{{fn: r.app, pid: r.appPID, who: "app"}, {fn: r.flr, pid: bare.pid, who: "bare"}, {fn: r.hashed, pid: bare.pid, who: "bare+sha"}}
		for range runs {
			// Alternate, so slow phases of a shared machine hit all alike.
			for _, m := range ss {
				if m.fn == nil {
					continue
				}
				c0, err := cpuTime(m.pid)
				if err != nil {
					return err
				}
				d, err := m.fn()
				if err != nil {
					return fmt.Errorf("%s (%s): %w", r.label, m.who, err)
				}
				c1, err := cpuTime(m.pid)
				if err != nil {
					return err
				}
				m.d = append(m.d, d)
				m.cpu = append(m.cpu, time.Duration(float64(c1-c0)*float64(1<<30)/float64(size)))
			}
		}
		a, f := median(ss[0].d), median(ss[1].d)
		cell := func(m *series, f string) string {
			if len(m.d) == 0 {
				return "-"
			}
			switch f {
			case "rate":
				return fmt.Sprintf("%.0f", mbps(size, median(m.d)))
			case "ratio":
				return fmt.Sprintf("%.0f %%", 100*median(m.d).Seconds()/a.Seconds())
			default:
				return fmt.Sprintf("%.2f s", median(m.cpu).Seconds())
			}
		}
		fmt.Printf("%-24s %9s %9s %9.0f%% %9s %9s %9s %9s %9s   %s | %s | %s\n", r.label,
			cell(ss[0], "rate"), cell(ss[1], "rate"), 100*f.Seconds()/a.Seconds(), cell(ss[2], "rate"), cell(ss[2], "ratio"),
			cell(ss[0], "cpu"), cell(ss[1], "cpu"), cell(ss[2], "cpu"),
			rates(size, ss[0].d), rates(size, ss[1].d), rates(size, ss[2].d))
	}
	if !slices.Contains(only, "rss") {
		return nil
	}

	// Memory: RSS of each server while it receives a large single PUT.
	fmt.Printf("\nRSS while receiving %s in one PUT (sampled every 50 ms):\n", fmtSize(rssSize))
	for _, s := range []struct {
		label string
		pid   int
		up    func() error
	}{
		{"app", single.Cmd.Process.Pid, func() error { _, _, err := appUpload(cs, rssSize, false); return err }},
		{"bare Go", bare.pid, func() error { _, err := bareUpload(bare, rssSize, false, false); return err }},
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
	return appUploadDigest(c, size, multipart, false)
}

// appUploadDigest is appUpload, declaring the file's SHA-256 at initiate
// when digest is set (the store then checks it while receiving).
func appUploadDigest(c *harness.Client, size int64, multipart, digest bool) (time.Duration, string, error) {
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
	in := map[string]any{"name": name, "size": size}
	if digest {
		in["sha256"] = patternSHA256(size)
	}
	if _, err := c.JSON("POST", "/api/v1/uploads", in, &u); err != nil {
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
	url  string
	pid  int
	last string // the name of the last single PUT
}

// startBare runs the floor server in a child process (this binary, -bare).
func startBare(dir string) (*bareServer, func(), error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	addr := l.Addr().String()
	l.Close()
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(self, "-bare", addr, "-bare-dir", dir)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	for range 100 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &bareServer{url: "http://" + addr, pid: cmd.Process.Pid}, func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }, nil
}

// serveBare is the floor: PUT /f/<name> copies the body into a file and
// fsyncs it; PUT /p/<name>?off=N writes a part at its offset of one file
// and fsyncs; GET /f/<name> serves the file. With ?sha=1 a PUT also hashes
// the body (SHA-256, through io.Copy's own buffer) and answers the digest.
func serveBare(addr, dir string) error {
	mux := http.NewServeMux()
	body := func(w http.ResponseWriter, r *http.Request) (io.Reader, func()) {
		if r.URL.Query().Get("sha") == "" {
			return r.Body, func() {}
		}
		h := sha256.New()
		return io.TeeReader(r.Body, h), func() { w.Header().Set("ETag", hex.EncodeToString(h.Sum(nil))) }
	}
	mux.HandleFunc("PUT /f/{name}", func(w http.ResponseWriter, r *http.Request) {
		path := filepath.Join(dir, r.PathValue("name"))
		src, done := body(w, r)
		f, err := os.Create(path + ".tmp")
		if err == nil {
			_, err = io.Copy(f, src)
			err = errors.Join(err, f.Sync(), f.Close(), os.Rename(path+".tmp", path))
		}
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		done()
	})
	mux.HandleFunc("PUT /p/{name}", func(w http.ResponseWriter, r *http.Request) {
		off, _ := strconv.ParseInt(r.URL.Query().Get("off"), 10, 64)
		src, done := body(w, r)
		f, err := os.OpenFile(filepath.Join(dir, r.PathValue("name")), os.O_WRONLY|os.O_CREATE, 0o644)
		if err == nil {
			_, err = io.Copy(io.NewOffsetWriter(f, off), src)
			err = errors.Join(err, f.Sync(), f.Close())
		}
		if err == nil {
			done()
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

// bareUpload stores a new file on the bare server (never replacing one:
// deleting a file costs the next writer on the same disk, e.g. discards,
// and the app deletes nothing during the run either).
func bareUpload(b *bareServer, size int64, multipart, hash bool) (time.Duration, error) {
	name := fmt.Sprintf("f%d", bareSeq.Add(1))
	q := ""
	if hash {
		q = "sha=1"
	}
	start := time.Now()
	if !multipart {
		if _, err := put(b.url+"/f/"+name+"?"+q, nil, 0, size); err != nil {
			return 0, err
		}
		b.last = name
		return time.Since(start), nil
	}
	n := int((size + partSize - 1) / partSize)
	err := parallel(4, n, func(i int) error {
		off := int64(i) * partSize
		_, err := put(fmt.Sprintf("%s/p/%s?off=%d&%s", b.url, name, off, q), nil, off, min(partSize, size-off))
		return err
	})
	return time.Since(start), err
}

// bareDownload reads the last single PUT of the bare server.
func bareDownload(b *bareServer, size int64) (time.Duration, error) {
	return get(b.url+"/f/"+b.last, size)
}

var digests sync.Map // size → hex SHA-256 of the pattern

// patternSHA256 returns the hex SHA-256 of the first n bytes of the pattern.
func patternSHA256(n int64) string {
	if d, ok := digests.Load(n); ok {
		return d.(string)
	}
	h := sha256.New()
	_, _ = io.Copy(h, &source{left: n})
	d := hex.EncodeToString(h.Sum(nil))
	digests.Store(n, d)
	return d
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

// rates lists each run's throughput.
func rates(n int64, ds []time.Duration) string {
	var s []string
	for _, d := range ds {
		s = append(s, fmt.Sprintf("%.0f", mbps(n, d)))
	}
	return strings.Join(s, " ")
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

// cpuTime returns the user+system CPU time process pid has used
// (/proc/<pid>/stat, clock ticks of 10 ms).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields count from after it.
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}
