package disk_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weupload/weupload/internal/blob"
	"github.com/weupload/weupload/internal/blob/blobtest"
	"github.com/weupload/weupload/internal/blob/disk"
	"github.com/weupload/weupload/internal/testenv"
)

// testStore is a disk store served by an httptest server, on a clock the
// test moves.
type testStore struct {
	*disk.Store
	*blobtest.Clock
	dir string
	srv *httptest.Server
}

// newStore returns a store on a fresh directory behind a loopback server.
func newStore(tb testing.TB) *testStore {
	tb.Helper()
	clock := blobtest.NewClock(time.Now())
	dir := tb.TempDir()
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	tb.Cleanup(srv.Close)
	secret := make([]byte, 32)
	rand.Read(secret)
	s, err := disk.New(disk.Config{Dir: dir, BaseURL: srv.URL, Secret: secret, Now: clock.Now})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	h = s.Handler()
	return &testStore{Store: s, Clock: clock, dir: dir, srv: srv}
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return newStore(t) })
}

func TestNewConfig(t *testing.T) {
	secret := make([]byte, 32)
	tests := []struct {
		name string
		cfg  disk.Config
	}{
		{"no dir", disk.Config{BaseURL: "http://x", Secret: secret}},
		{"short secret", disk.Config{Dir: t.TempDir(), BaseURL: "http://x", Secret: secret[:31]}},
		{"relative base URL", disk.Config{Dir: t.TempDir(), BaseURL: "/x", Secret: secret}},
		{"base URL with query", disk.Config{Dir: t.TempDir(), BaseURL: "http://x/?a=1", Secret: secret}},
		{"ftp base URL", disk.Config{Dir: t.TempDir(), BaseURL: "ftp://x", Secret: secret}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s, err := disk.New(tt.cfg); err == nil {
				s.Close()
				t.Error("New succeeded, want an error")
			}
		})
	}
}

// put uploads data to key and fails the test unless it is stored.
func put(tb testing.TB, s *testStore, key string, data []byte, o blob.PutOptions) {
	tb.Helper()
	o.Size = int64(len(data))
	req, err := s.PresignPut(context.Background(), key, o)
	if err != nil {
		tb.Fatal(err)
	}
	if res := blobtest.Do(tb, req, data); res.Status != http.StatusOK {
		tb.Fatalf("PUT: %d %s", res.Status, res.Body)
	}
}

func TestURLs(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	req, err := s.PresignPut(ctx, "u/1/a b", blob.PutOptions{Size: 3, ContentType: "text/plain"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(req.URL, s.srv.URL+"/blob/u/1/a%20b?") {
		t.Errorf("URL = %s", req.URL)
	}
	if want := map[string]string{"Content-Type": "text/plain", "If-None-Match": "*"}; len(req.Header) != 2 ||
		req.Header["Content-Type"] != want["Content-Type"] || req.Header["If-None-Match"] != "*" {
		t.Errorf("Header = %v, want %v", req.Header, want)
	}
	if res := blobtest.Do(t, req, []byte("abc")); res.Status != http.StatusOK {
		t.Fatalf("PUT: %d %s", res.Status, res.Body)
	}
	// The key maps to a path under objects/.
	if b, err := os.ReadFile(filepath.Join(s.dir, "objects", "u", "1", "a b")); err != nil || string(b) != "abc" {
		t.Errorf("objects/u/1/a b = %q, %v", b, err)
	}
}

func TestTamperedURL(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	key := "u/1/x"
	data := []byte("0123456789")
	req, err := s.PresignPut(ctx, key, blob.PutOptions{Size: 10, ContentType: "text/plain"})
	if err != nil {
		t.Fatal(err)
	}
	tamper := func(f func(q url.Values)) string {
		u, _ := url.Parse(req.URL)
		q := u.Query()
		f(q)
		u.RawQuery = q.Encode()
		return u.String()
	}
	tests := []struct {
		name string
		url  string
		want int
	}{
		{"signature", tamper(func(q url.Values) { q.Set("signature", strings.Repeat("A", 43)) }), http.StatusForbidden},
		{"no signature", tamper(func(q url.Values) { q.Del("signature") }), http.StatusForbidden},
		{"two signatures", tamper(func(q url.Values) { q.Add("signature", q.Get("signature")) }), http.StatusForbidden},
		{"length", tamper(func(q url.Values) { q.Set("length", "11") }), http.StatusForbidden},
		{"expires", tamper(func(q url.Values) { q.Set("expires", "99999999999") }), http.StatusForbidden},
		{"content type", tamper(func(q url.Values) { q.Set("content-type", "text/html") }), http.StatusForbidden},
		{"extra parameter", tamper(func(q url.Values) { q.Set("uploadId", strings.Repeat("a", 32)) }), http.StatusForbidden},
		{"dot dot", strings.Replace(req.URL, "/blob/u/1/x", "/blob/u/1/../1/x", 1), http.StatusNotFound},
		{"encoded dot dot", strings.Replace(req.URL, "/blob/u/1/x", "/blob/u/%2e%2e/u/1/x", 1), http.StatusNotFound},
		{"encoded slash", strings.Replace(req.URL, "/blob/u/1/x", "/blob/u%2F1%2Fx", 1), http.StatusOK + 1000}, // see below
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := req
			r.URL = tt.url
			res := blobtest.Do(t, r, data)
			if tt.want > 1000 {
				// u%2F1%2Fx decodes to the same key: the signature covers
				// the decoded key, so this is the same request.
				if res.Status != http.StatusOK {
					t.Errorf("PUT: %d %s, want 200", res.Status, res.Body)
				}
				return
			}
			if res.Status != tt.want {
				t.Errorf("PUT: %d %s, want %d", res.Status, res.Body, tt.want)
			}
			if tt.want != http.StatusOK {
				if _, err := s.Head(ctx, key); !errors.Is(err, blob.ErrNotFound) {
					t.Errorf("Head after refused PUT: %v", err)
				}
			}
		})
	}
	t.Run("other store's secret", func(t *testing.T) {
		other := newStore(t)
		req, err := other.PresignPut(ctx, key, blob.PutOptions{Size: 10})
		if err != nil {
			t.Fatal(err)
		}
		req.URL = strings.Replace(req.URL, other.srv.URL, s.srv.URL, 1)
		if res := blobtest.Do(t, req, data); res.Status != http.StatusForbidden {
			t.Errorf("PUT: %d, want 403", res.Status)
		}
	})
	t.Run("PUT URL used for GET", func(t *testing.T) {
		if res := blobtest.Do(t, blob.Request{Method: http.MethodGet, URL: req.URL}, nil); res.Status != http.StatusForbidden {
			t.Errorf("GET: %d, want 403", res.Status)
		}
	})
	t.Run("other methods", func(t *testing.T) {
		for _, m := range []string{http.MethodPost, http.MethodDelete, http.MethodOptions, http.MethodHead} {
			res := blobtest.Do(t, blob.Request{Method: m, URL: req.URL}, nil)
			if res.Status != http.StatusMethodNotAllowed {
				t.Errorf("%s: %d, want 405", m, res.Status)
			}
		}
	})
}

func TestExpiresAtBoundary(t *testing.T) {
	s := newStore(t)
	req, err := s.PresignPut(context.Background(), "u/1/x", blob.PutOptions{Size: 1, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	s.Advance(req.Expires.Sub(s.Now())) // exactly at expiry: still valid, as on S3
	if res := blobtest.Do(t, req, []byte("x")); res.Status != http.StatusOK {
		t.Errorf("PUT at expiry: %d %s", res.Status, res.Body)
	}
}

func TestGetHeaders(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	data := []byte("<svg onload=alert(1)></svg>")
	put(t, s, "u/1/x", data, blob.PutOptions{ContentType: "image/svg+xml"})
	u, err := s.PresignGet(ctx, "u/1/x", blob.GetOptions{Filename: "<svg onload=alert(1)>.svg", ContentType: "image/svg+xml"})
	if err != nil {
		t.Fatal(err)
	}
	res := blobtest.Do(t, blob.Request{Method: http.MethodGet, URL: u}, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("GET: %d %s", res.Status, res.Body)
	}
	want := map[string]string{
		"Content-Type":            "application/octet-stream",
		"Content-Disposition":     blob.ContentDisposition("<svg onload=alert(1)>.svg"),
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "sandbox",
		"Accept-Ranges":           "bytes",
	}
	for k, v := range want {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	// Conditional and range requests come from http.ServeContent.
	r, _ := http.NewRequest(http.MethodGet, u, nil)
	r.Header.Set("If-None-Match", etag)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match GET: %d, want 304", resp.StatusCode)
	}
	r, _ = http.NewRequest(http.MethodGet, u, nil)
	r.Header.Set("Range", "bytes=-3")
	resp, err = http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || string(b) != "vg>" {
		t.Errorf("suffix Range GET: %d %q", resp.StatusCode, b)
	}
}

func TestRefusedPutLeavesNothing(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	data := make([]byte, 3<<20)
	rand.Read(data)
	wrong := sha256.Sum256([]byte("x"))
	req, err := s.PresignPut(ctx, "u/1/x", blob.PutOptions{Size: int64(len(data)), SHA256: wrong[:]})
	if err != nil {
		t.Fatal(err)
	}
	if res := blobtest.Do(t, req, data); res.Status != http.StatusBadRequest {
		t.Fatalf("PUT: %d", res.Status)
	}
	// A client that goes away mid-body.
	req2, err := s.PresignPut(ctx, "u/1/y", blob.PutOptions{Size: int64(len(data))})
	if err != nil {
		t.Fatal(err)
	}
	if status, err := blobtest.SendTruncated(req2, data[:1<<20], int64(len(data))); err == nil && status != http.StatusBadRequest {
		t.Errorf("interrupted PUT: %d, want 400", status)
	}
	// The handler finishes after the client has gone: wait for tmp/ to empty.
	testenv.Eventually(t, 5*time.Second, "files left after refused PUTs", func() bool { return len(listFiles(t, s.dir)) == 0 })
}

// listFiles returns the regular files under dir.
func listFiles(tb testing.TB, dir string) []string {
	tb.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, strings.TrimPrefix(p, dir))
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return files
}

func TestConcurrentPutsOneWins(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	const n = 8
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		req, err := s.PresignPut(ctx, "u/1/x", blob.PutOptions{Size: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		data := bytes.Repeat([]byte{byte(i)}, 1<<20)
		wg.Go(func() { statuses[i] = blobtest.Do(t, req, data).Status })
	}
	wg.Wait()
	ok := 0
	for _, st := range statuses {
		switch st {
		case http.StatusOK:
			ok++
		case http.StatusPreconditionFailed:
		default:
			t.Errorf("status %d", st)
		}
	}
	if ok != 1 {
		t.Errorf("%d PUTs succeeded, want exactly 1 (%v)", ok, statuses)
	}
	rc, err := s.Get(ctx, "u/1/x")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	if len(b) != 1<<20 || !bytes.Equal(b, bytes.Repeat(b[:1], len(b))) {
		t.Error("object mixes bytes of several PUTs")
	}
}

func TestMultipartOnDisk(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	o := blob.MultipartOptions{Size: blob.MinPartSize + 3, PartSize: blob.MinPartSize, ContentType: "text/plain"}
	id, err := s.CreateMultipart(ctx, "u/1/m", o)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(s.dir, "uploads", id, "data.partial"))
	if err != nil || fi.Size() != o.Size {
		t.Fatalf("data.partial: %v, %v; want %d bytes preallocated", fi, err, o.Size)
	}
	t.Run("presign checks the upload", func(t *testing.T) {
		if _, err := s.PresignPart(ctx, "u/1/m", id, 2, 4, 0); !errors.Is(err, blob.ErrInvalid) {
			t.Errorf("wrong size: %v, want ErrInvalid", err)
		}
		if _, err := s.PresignPart(ctx, "u/1/m", id, 3, 3, 0); !errors.Is(err, blob.ErrInvalid) {
			t.Errorf("part beyond the end: %v, want ErrInvalid", err)
		}
		if _, err := s.PresignPart(ctx, "u/1/other", id, 2, 3, 0); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("other key: %v, want ErrNotFound", err)
		}
		if _, err := s.PresignPart(ctx, "u/1/m", "../../../etc", 2, 3, 0); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("bad upload id: %v, want ErrNotFound", err)
		}
	})
	req, err := s.PresignPart(ctx, "u/1/m", id, 2, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	res := blobtest.Do(t, req, []byte("xyz"))
	if res.Status != http.StatusOK {
		t.Fatalf("PUT part: %d %s", res.Status, res.Body)
	}
	// The part went to its offset in the one file.
	b, err := os.ReadFile(filepath.Join(s.dir, "uploads", id, "data.partial"))
	if err != nil || string(b[blob.MinPartSize:]) != "xyz" {
		t.Errorf("data.partial tail = %q, %v", b[blob.MinPartSize:], err)
	}
	// A retry of the same part that fails leaves the part missing, not stale.
	if status, err := blobtest.SendTruncated(req, []byte("x"), 3); err == nil && status != http.StatusBadRequest {
		t.Errorf("truncated part: %d, want 400", status)
	}
	testenv.Eventually(t, 5*time.Second, "stored parts still listed", func() bool {
		parts, err := s.ListParts(ctx, "u/1/m", id)
		return err == nil && len(parts) == 0
	})
	// Abort removes everything.
	if err := s.AbortMultipart(ctx, "u/1/m", id); err != nil {
		t.Fatal(err)
	}
	if files := listFiles(t, s.dir); len(files) != 0 {
		t.Errorf("files left after abort: %v", files)
	}
}

func TestCompleteIsNotReopenedByLatePart(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	o := blob.MultipartOptions{Size: 3, PartSize: blob.MinPartSize}
	id, err := s.CreateMultipart(ctx, "u/1/m", o)
	if err != nil {
		t.Fatal(err)
	}
	req, err := s.PresignPart(ctx, "u/1/m", id, 1, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	res := blobtest.Do(t, req, []byte("abc"))
	if err := s.CompleteMultipart(ctx, "u/1/m", id, []blob.Part{{Number: 1, ETag: res.Header.Get("ETag"), Size: 3}}); err != nil {
		t.Fatal(err)
	}
	// Replaying the part URL after completion must not touch the object.
	if res := blobtest.Do(t, req, []byte("XYZ")); res.Status != http.StatusNotFound {
		t.Errorf("part PUT after complete: %d, want 404", res.Status)
	}
	rc, err := s.Get(ctx, "u/1/m")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != "abc" {
		t.Errorf("object = %q, want abc", b)
	}
	obj, err := s.Head(ctx, "u/1/m")
	if err != nil || obj.Size != 3 || obj.ETag == "" || !strings.HasSuffix(obj.ETag, `-1"`) {
		t.Errorf("Head = %+v, %v", obj, err)
	}
}

func TestKeysStayInDir(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "data")
	s, err := disk.New(disk.Config{Dir: dir, BaseURL: "http://x", Secret: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	os.WriteFile(filepath.Join(parent, "secret"), []byte("secret"), 0o600)
	// Even a symlink planted inside the data directory cannot lead out.
	if err := os.Symlink(parent, filepath.Join(dir, "objects", "u")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(context.Background(), "u/secret"); err == nil {
		t.Error("Get followed a symlink out of the data directory")
	}
	for _, key := range []string{"../secret", "../../secret", "/etc/passwd", `..\secret`} {
		if _, err := s.Get(context.Background(), key); !errors.Is(err, blob.ErrInvalid) {
			t.Errorf("Get(%q) = %v, want ErrInvalid", key, err)
		}
	}
}

func TestSidecarAndStaleTemp(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	data := []byte("hello")
	put(t, s, "u/1/x", data, blob.PutOptions{ContentType: "text/plain"})
	b, err := os.ReadFile(filepath.Join(s.dir, "meta", "u", "1", "x.json"))
	if err != nil || !strings.Contains(string(b), `"content_type":"text/plain"`) {
		t.Errorf("sidecar = %s, %v", b, err)
	}
	// Without its sidecar (a crash between link and sidecar) an object
	// still reports its size.
	os.Remove(filepath.Join(s.dir, "meta", "u", "1", "x.json"))
	obj, err := s.Head(ctx, "u/1/x")
	if err != nil || obj.Size != 5 || obj.ContentType != "application/octet-stream" || obj.SHA256 != nil {
		t.Errorf("Head without sidecar = %+v, %v", obj, err)
	}
	old := filepath.Join(s.dir, "tmp", ".old.tmp")
	fresh := filepath.Join(s.dir, "tmp", ".fresh.tmp")
	os.WriteFile(old, nil, 0o600)
	os.WriteFile(fresh, nil, 0o600)
	long := time.Now().Add(-2 * time.Hour)
	os.Chtimes(old, long, long)
	// An upload directory a crash left without info.json.
	orphan := filepath.Join(s.dir, "uploads", strings.Repeat("ab", 16))
	os.Mkdir(orphan, 0o750)
	os.WriteFile(filepath.Join(orphan, "data.partial"), nil, 0o600)
	os.Chtimes(orphan, long, long)
	// A live upload, also old, stays.
	live, err := s.CreateMultipart(ctx, "u/1/m", blob.MultipartOptions{Size: 1, PartSize: blob.MinPartSize})
	if err != nil {
		t.Fatal(err)
	}
	os.Chtimes(filepath.Join(s.dir, "uploads", live), long, long)
	s2, err := disk.New(disk.Config{Dir: s.dir, BaseURL: "http://x", Secret: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temp file kept: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh temp file removed: %v", err)
	}
	if _, err := os.Stat(orphan); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("orphan upload directory kept: %v", err)
	}
	if _, err := s.ListParts(ctx, "u/1/m", live); err != nil {
		t.Errorf("live upload swept: %v", err)
	}
}

func TestPingUnavailable(t *testing.T) {
	s := newStore(t)
	if err := os.RemoveAll(s.dir); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); !errors.Is(err, blob.ErrUnavailable) {
		t.Errorf("Ping = %v, want ErrUnavailable", err)
	}
}

// TestPutMemoryBounded checks that an upload streams: a 32 MiB PUT and its
// GET allocate a small fraction of their size (client and server included).
func TestPutMemoryBounded(t *testing.T) {
	s := newStore(t)
	const size = 32 << 20
	data := make([]byte, size)
	rand.Read(data)
	req, err := s.PresignPut(context.Background(), "u/1/big", blob.PutOptions{Size: size})
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if res := blobtest.Do(t, req, data); res.Status != http.StatusOK {
		t.Fatalf("PUT: %d %s", res.Status, res.Body)
	}
	u, err := s.PresignGet(context.Background(), "u/1/big", blob.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	runtime.ReadMemStats(&after)
	if n != size {
		t.Fatalf("GET returned %d bytes", n)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/4 {
		t.Errorf("PUT+GET of %d bytes allocated %d bytes", size, alloc)
	}
}

// TestDigestOnlyWhenSigned checks what the receive pipe computes: the
// SHA-256 of a body whose digest was signed (across many chunks and
// writeback ranges), nothing for one without, as on S3; and that a refused
// body leaves the pooled pipe fit for the next PUT.
func TestDigestOnlyWhenSigned(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	data := make([]byte, 9<<20+123) // more than one writeback range, a partial last chunk
	rand.Read(data)
	sum := sha256.Sum256(data)
	for i := range 3 {
		// A body cut short first: its pipe goes back to the pool mid-copy.
		req, err := s.PresignPut(ctx, "u/1/cut", blob.PutOptions{Size: int64(len(data)), SHA256: sum[:]})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := blobtest.SendTruncated(req, data[:5<<20], int64(len(data))); err != nil {
			t.Logf("truncated PUT: %v", err)
		}

		signed, unsigned := fmt.Sprintf("u/1/signed-%d", i), fmt.Sprintf("u/1/unsigned-%d", i)
		put(t, s, signed, data, blob.PutOptions{SHA256: sum[:]})
		put(t, s, unsigned, data, blob.PutOptions{})
		obj, err := s.Head(ctx, signed)
		if err != nil || !bytes.Equal(obj.SHA256, sum[:]) || obj.ETag != `"`+hex.EncodeToString(sum[:])+`"` {
			t.Errorf("Head(signed) = %+v, %v; want the digest", obj, err)
		}
		obj2, err := s.Head(ctx, unsigned)
		if err != nil || obj2.SHA256 != nil || obj2.ETag == "" || obj2.ETag == obj.ETag || obj2.Size != int64(len(data)) {
			t.Errorf("Head(unsigned) = %+v, %v; want no digest and an ETag of its own", obj2, err)
		}
		for _, key := range []string{signed, unsigned} {
			rc, err := s.Get(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("%s: read %d bytes (%v), not what was uploaded", key, len(got), err)
			}
		}
	}
}
