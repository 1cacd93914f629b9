// Package blobtest is the conformance suite every blob.Store must pass. It
// drives the presigned URLs with a plain net/http client, the way a browser
// or a script would, so the rules the upload path relies on (exact size,
// no overwrite, checksum, expiry, attachment downloads) are checked against
// the real server: versitygw for blob/s3, the app's own handler for
// blob/disk.
package blobtest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weupload/weupload/internal/blob"
)

// Clock is a settable clock for stores that take a Now function (blob/disk),
// so the expiry tests need not sleep. It is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock reading start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Advancer is implemented by a store whose clock the suite may move, e.g.
// struct{ *disk.Store; *blobtest.Clock } with the store built on the clock's
// Now. Without it the expiry test sleeps past a one-second TTL.
type Advancer interface {
	Advance(d time.Duration)
}

// partSize is the part size of the multipart tests: S3's minimum, so a
// three-part upload costs about 10 MiB.
const partSize = blob.MinPartSize

// Run runs the conformance suite. newStore is called once per subtest and
// must return an empty store that is cleaned up with t.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"PutRoundtrip", testPutRoundtrip},
		{"PutWrongLength", testPutWrongLength},
		{"PutNoOverwrite", testPutNoOverwrite},
		{"PutChecksumMismatch", testPutChecksumMismatch},
		{"PutSignedHeadersRequired", testPutSignedHeadersRequired},
		{"PutOtherKey", testPutOtherKey},
		{"Expired", testExpired},
		{"Multipart", testMultipart},
		{"MultipartResume", testMultipartResume},
		{"MultipartWrongPartLength", testMultipartWrongPartLength},
		{"MultipartBadComplete", testMultipartBadComplete},
		{"Abort", testAbort},
		{"PresignGet", testPresignGet},
		{"Delete", testDelete},
		{"Missing", testMissing},
		{"InvalidInput", testInvalidInput},
		{"Ping", testPing},
		{"List", testList},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newStore(t))
		})
	}
}

func testPutRoundtrip(t *testing.T, s blob.Store) {
	tests := []struct {
		name       string
		size       int
		typ        string
		withDigest bool
	}{
		{name: "empty", size: 0, typ: ""},
		{name: "empty with digest", size: 0, typ: "text/plain", withDigest: true},
		{name: "small with digest", size: 1000, typ: "text/plain; charset=utf-8", withDigest: true},
		{name: "1MiB no digest", size: 1 << 20, typ: "image/png"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			key := newKey()
			data := randomBytes(tt.size)
			sum := sha256.Sum256(data)
			o := blob.PutOptions{Size: int64(len(data)), ContentType: tt.typ}
			if tt.withDigest {
				o.SHA256 = sum[:]
			}
			req, err := s.PresignPut(ctx, key, o)
			if err != nil {
				t.Fatal(err)
			}
			if req.Method != http.MethodPut {
				t.Errorf("Method = %q, want PUT", req.Method)
			}
			if _, ok := header(req.Header, "Content-Length"); ok {
				t.Errorf("Header lists Content-Length: %v", req.Header)
			}
			if v, _ := header(req.Header, "If-None-Match"); v != "*" {
				t.Errorf("If-None-Match = %q, want *", v)
			}
			if until := time.Until(req.Expires); until < blob.DefaultPutTTL-time.Minute || until > blob.DefaultPutTTL+time.Minute {
				t.Errorf("Expires in %s, want about %s", until, blob.DefaultPutTTL)
			}
			res := Do(t, req, data)
			if res.Status != http.StatusOK {
				t.Fatalf("PUT: %d %s", res.Status, res.Body)
			}
			obj, err := s.Head(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			wantType := tt.typ
			if wantType == "" {
				wantType = "application/octet-stream"
			}
			if obj.Size != int64(len(data)) || obj.ContentType != wantType {
				t.Errorf("Head = size %d type %q, want %d %q", obj.Size, obj.ContentType, len(data), wantType)
			}
			if tt.withDigest && !bytes.Equal(obj.SHA256, sum[:]) {
				t.Errorf("Head SHA256 = %x, want %x", obj.SHA256, sum)
			}
			if obj.SHA256 != nil && !bytes.Equal(obj.SHA256, sum[:]) {
				t.Errorf("Head SHA256 = %x, want nil or %x", obj.SHA256, sum)
			}
			if obj.ETag == "" {
				t.Error("Head ETag is empty")
			}
			if got := readAll(t, s, key); !bytes.Equal(got, data) {
				t.Errorf("Get returned %d bytes, want the %d uploaded", len(got), len(data))
			}
		})
	}
}

func testPutWrongLength(t *testing.T, s blob.Store) {
	ctx := context.Background()
	data := randomBytes(1000)
	tests := []struct {
		name string
		body []byte
		lie  bool // claim len(data) but send body (a truncated upload)
	}{
		{name: "longer", body: append(bytes.Clone(data), 'x')},
		{name: "shorter", body: data[:999]},
		{name: "empty", body: nil},
		{name: "truncated", body: data[:500], lie: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := newKey()
			req, err := s.PresignPut(ctx, key, blob.PutOptions{Size: int64(len(data)), ContentType: "text/plain"})
			if err != nil {
				t.Fatal(err)
			}
			if tt.lie {
				if status, err := SendTruncated(req, tt.body, int64(len(data))); err == nil && status < 400 {
					t.Errorf("truncated PUT: %d, want an error", status)
				}
			} else {
				res := Do(t, req, tt.body)
				if res.Status != http.StatusBadRequest && res.Status != http.StatusForbidden {
					t.Errorf("PUT %d bytes for %d: %d %s, want 400 or 403", len(tt.body), len(data), res.Status, res.Body)
				}
			}
			assertMissing(t, s, key)
		})
	}
	t.Run("empty object gets a body", func(t *testing.T) {
		key := newKey()
		req, err := s.PresignPut(ctx, key, blob.PutOptions{Size: 0})
		if err != nil {
			t.Fatal(err)
		}
		res := Do(t, req, []byte("not empty"))
		if res.Status < 400 || res.Status >= 500 {
			t.Errorf("PUT 9 bytes for 0: %d %s, want 4xx", res.Status, res.Body)
		}
		assertMissing(t, s, key)
	})
}

func testPutNoOverwrite(t *testing.T, s blob.Store) {
	ctx := context.Background()
	key := newKey()
	first := randomBytes(100)
	req := mustPut(t, s, key, first, blob.PutOptions{ContentType: "text/plain"})

	res := Do(t, req, first)
	if res.Status != http.StatusPreconditionFailed {
		t.Errorf("replayed PUT: %d %s, want 412", res.Status, res.Body)
	}
	other := randomBytes(100)
	req2, err := s.PresignPut(ctx, key, blob.PutOptions{Size: 100, ContentType: "text/plain"})
	if err != nil {
		t.Fatal(err)
	}
	if res := Do(t, req2, other); res.Status != http.StatusPreconditionFailed {
		t.Errorf("second PUT: %d %s, want 412", res.Status, res.Body)
	}
	if got := readAll(t, s, key); !bytes.Equal(got, first) {
		t.Error("object changed after a second PUT")
	}
}

func testPutChecksumMismatch(t *testing.T, s blob.Store) {
	ctx := context.Background()
	key := newKey()
	data := randomBytes(1000)
	wrong := sha256.Sum256([]byte("something else"))
	req, err := s.PresignPut(ctx, key, blob.PutOptions{Size: 1000, SHA256: wrong[:]})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := header(req.Header, "x-amz-checksum-sha256"); !ok || v == "" {
		t.Errorf("no x-amz-checksum-sha256 in %v", req.Header)
	}
	if res := Do(t, req, data); res.Status != http.StatusBadRequest {
		t.Errorf("PUT with wrong digest: %d %s, want 400", res.Status, res.Body)
	}
	assertMissing(t, s, key)
}

func testPutSignedHeadersRequired(t *testing.T, s blob.Store) {
	ctx := context.Background()
	data := randomBytes(10)
	sum := sha256.Sum256(data)
	o := blob.PutOptions{Size: 10, ContentType: "image/png", SHA256: sum[:]}
	probe, err := s.PresignPut(ctx, newKey(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(probe.Header) != 3 {
		t.Errorf("Header = %v, want Content-Type, If-None-Match and x-amz-checksum-sha256", probe.Header)
	}
	for name := range probe.Header {
		for _, change := range []string{"drop", "alter"} {
			t.Run(change+" "+name, func(t *testing.T) {
				key := newKey()
				req, err := s.PresignPut(ctx, key, o)
				if err != nil {
					t.Fatal(err)
				}
				h := make(map[string]string)
				for k, v := range req.Header {
					h[k] = v
				}
				if change == "drop" {
					delete(h, name)
				} else {
					h[name] = alter(h[name])
				}
				res, err := do(req, data, h)
				if err != nil {
					t.Fatal(err)
				}
				if res.Status < 400 || res.Status >= 500 {
					t.Errorf("PUT: %d %s, want 4xx", res.Status, res.Body)
				}
				assertMissing(t, s, key)
			})
		}
	}
}

// alter returns a different value of the same shape.
func alter(v string) string {
	switch {
	case v == "*":
		return `"abc"`
	case strings.Contains(v, "/"):
		return "text/html"
	}
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}

func testPutOtherKey(t *testing.T, s blob.Store) {
	ctx := context.Background()
	key, other := newKey(), newKey()
	data := randomBytes(10)
	req, err := s.PresignPut(ctx, key, blob.PutOptions{Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	req.URL = strings.Replace(req.URL, key, other, 1)
	if res := Do(t, req, data); res.Status != http.StatusForbidden {
		t.Errorf("PUT to another key: %d %s, want 403", res.Status, res.Body)
	}
	assertMissing(t, s, key)
	assertMissing(t, s, other)
}

func testExpired(t *testing.T, s blob.Store) {
	ctx := context.Background()
	existing := newKey()
	data := randomBytes(10)
	mustPut(t, s, existing, data, blob.PutOptions{})

	key := newKey()
	put, err := s.PresignPut(ctx, key, blob.PutOptions{Size: 10, TTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if until := time.Until(put.Expires); until > 2*time.Second {
		t.Errorf("Expires in %s, want at most 1s", until)
	}
	get, err := s.PresignGet(ctx, existing, blob.GetOptions{Filename: "a.txt", TTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	mpKey := newKey()
	uploadID, err := s.CreateMultipart(ctx, mpKey, blob.MultipartOptions{Size: 10, PartSize: partSize})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.AbortMultipart(context.Background(), mpKey, uploadID) })
	part, err := s.PresignPart(ctx, mpKey, uploadID, 1, 10, time.Second)
	if err != nil {
		t.Fatal(err)
	}

	if a, ok := s.(Advancer); ok {
		a.Advance(2 * time.Second)
	} else {
		// Real S3 servers read the real clock: wait out the TTL (and the
		// one-second granularity of X-Amz-Date).
		time.Sleep(2500 * time.Millisecond)
	}
	if res := Do(t, put, data); res.Status != http.StatusForbidden {
		t.Errorf("expired PUT: %d %s, want 403", res.Status, res.Body)
	}
	assertMissing(t, s, key)
	if res := Do(t, blob.Request{Method: http.MethodGet, URL: get}, nil); res.Status != http.StatusForbidden {
		t.Errorf("expired GET: %d %s, want 403", res.Status, res.Body)
	}
	if res := Do(t, part, data); res.Status != http.StatusForbidden {
		t.Errorf("expired part PUT: %d %s, want 403", res.Status, res.Body)
	}
	if listed, err := s.ListParts(ctx, mpKey, uploadID); err != nil || len(listed) != 0 {
		t.Errorf("ListParts = %v, %v; want no parts", listed, err)
	}
}

func testMultipart(t *testing.T, s blob.Store) {
	ctx := context.Background()
	key := newKey()
	data := randomBytes(2*partSize + 1234)
	o := blob.MultipartOptions{Size: int64(len(data)), PartSize: partSize, ContentType: "video/mp4"}
	uploadID, err := s.CreateMultipart(ctx, key, o)
	if err != nil {
		t.Fatal(err)
	}
	if uploadID == "" {
		t.Fatal("empty upload id")
	}
	parts := make([]blob.Part, o.Parts())
	var wg sync.WaitGroup
	for i := range parts {
		wg.Go(func() {
			parts[i] = uploadPart(t, s, key, uploadID, o, int32(i+1), data)
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	listed, err := s.ListParts(ctx, key, uploadID)
	if err != nil {
		t.Fatal(err)
	}
	assertParts(t, listed, parts)

	if err := s.CompleteMultipart(ctx, key, uploadID, parts); err != nil {
		t.Fatal(err)
	}
	obj, err := s.Head(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if obj.Size != o.Size || obj.ContentType != o.ContentType {
		t.Errorf("Head = size %d type %q, want %d %q", obj.Size, obj.ContentType, o.Size, o.ContentType)
	}
	if sum := sha256.Sum256(data); obj.SHA256 != nil && !bytes.Equal(obj.SHA256, sum[:]) {
		t.Errorf("Head SHA256 = %x, want nil or %x", obj.SHA256, sum)
	}
	if got := readAll(t, s, key); !bytes.Equal(got, data) {
		t.Errorf("Get returned %d bytes, want the %d uploaded", len(got), len(data))
	}
	if _, err := s.ListParts(ctx, key, uploadID); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("ListParts after complete: %v, want ErrNotFound", err)
	}
}

func testMultipartResume(t *testing.T, s blob.Store) {
	ctx := context.Background()
	key := newKey()
	data := randomBytes(partSize + 10)
	o := blob.MultipartOptions{Size: int64(len(data)), PartSize: partSize}
	uploadID, err := s.CreateMultipart(ctx, key, o)
	if err != nil {
		t.Fatal(err)
	}
	listed, err := s.ListParts(ctx, key, uploadID)
	if err != nil || len(listed) != 0 {
		t.Fatalf("ListParts of a new upload = %v, %v; want none", listed, err)
	}
	p2 := uploadPart(t, s, key, uploadID, o, 2, data)
	listed, err = s.ListParts(ctx, key, uploadID)
	if err != nil {
		t.Fatal(err)
	}
	assertParts(t, listed, []blob.Part{p2})
	// The page reloads: part 1 is uploaded twice (a retry), then completed
	// with the parts the store lists.
	uploadPart(t, s, key, uploadID, o, 1, data)
	uploadPart(t, s, key, uploadID, o, 1, data)
	listed, err = s.ListParts(ctx, key, uploadID)
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != 2 {
		t.Fatalf("ListParts = %v, want 2 parts", listed)
	}
	if err := s.CompleteMultipart(ctx, key, uploadID, listed); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s, key); !bytes.Equal(got, data) {
		t.Errorf("Get returned %d bytes, want the %d uploaded", len(got), len(data))
	}
}

func testMultipartWrongPartLength(t *testing.T, s blob.Store) {
	ctx := context.Background()
	key := newKey()
	o := blob.MultipartOptions{Size: partSize + 10, PartSize: partSize}
	uploadID, err := s.CreateMultipart(ctx, key, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.AbortMultipart(context.Background(), key, uploadID) })
	req, err := s.PresignPart(ctx, key, uploadID, 2, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{9, 11} {
		if res := Do(t, req, randomBytes(n)); res.Status != http.StatusBadRequest && res.Status != http.StatusForbidden {
			t.Errorf("part of %d bytes for 10: %d %s, want 400 or 403", n, res.Status, res.Body)
		}
	}
	if status, err := SendTruncated(req, randomBytes(5), 10); err == nil && status < 400 {
		t.Errorf("truncated part: %d, want an error", status)
	}
	listed, err := s.ListParts(ctx, key, uploadID)
	if err != nil || len(listed) != 0 {
		t.Errorf("ListParts = %v, %v; want no parts", listed, err)
	}
}

func testMultipartBadComplete(t *testing.T, s blob.Store) {
	ctx := context.Background()
	key := newKey()
	data := randomBytes(2*partSize + 10)
	o := blob.MultipartOptions{Size: int64(len(data)), PartSize: partSize}
	uploadID, err := s.CreateMultipart(ctx, key, o)
	if err != nil {
		t.Fatal(err)
	}
	var parts []blob.Part
	for n := int32(1); n <= 3; n++ {
		parts = append(parts, uploadPart(t, s, key, uploadID, o, n, data))
	}
	badETag := append([]blob.Part(nil), parts...)
	badETag[1].ETag = `"0123456789abcdef0123456789abcdef"`
	badSize := append([]blob.Part(nil), parts...)
	badSize[2].Size++
	tests := []struct {
		name  string
		parts []blob.Part
	}{
		{"no parts", nil},
		{"gap", []blob.Part{parts[0], parts[2]}},
		{"duplicate", []blob.Part{parts[0], parts[0], parts[1], parts[2]}},
		{"wrong etag", badETag},
		{"wrong size", badSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.CompleteMultipart(ctx, key, uploadID, tt.parts); !errors.Is(err, blob.ErrInvalid) {
				t.Errorf("CompleteMultipart = %v, want ErrInvalid", err)
			}
		})
	}
	assertMissing(t, s, key)
	// The upload survives a refused completion.
	if err := s.CompleteMultipart(ctx, key, uploadID, parts); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s, key); !bytes.Equal(got, data) {
		t.Errorf("Get returned %d bytes, want the %d uploaded", len(got), len(data))
	}
}

func testAbort(t *testing.T, s blob.Store) {
	ctx := context.Background()
	key := newKey()
	data := randomBytes(partSize + 10)
	o := blob.MultipartOptions{Size: int64(len(data)), PartSize: partSize}
	uploadID, err := s.CreateMultipart(ctx, key, o)
	if err != nil {
		t.Fatal(err)
	}
	p1 := uploadPart(t, s, key, uploadID, o, 1, data)
	late, err := s.PresignPart(ctx, key, uploadID, 2, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AbortMultipart(ctx, key, uploadID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ListParts(ctx, key, uploadID); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("ListParts after abort: %v, want ErrNotFound", err)
	}
	if err := s.AbortMultipart(ctx, key, uploadID); err != nil {
		t.Errorf("second abort: %v", err)
	}
	if res := Do(t, late, data[partSize:]); res.Status != http.StatusNotFound {
		t.Errorf("part PUT after abort: %d %s, want 404", res.Status, res.Body)
	}
	if err := s.CompleteMultipart(ctx, key, uploadID, []blob.Part{p1}); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("complete after abort: %v, want ErrNotFound", err)
	}
	assertMissing(t, s, key)
}

func testPresignGet(t *testing.T, s blob.Store) {
	ctx := context.Background()
	key := newKey()
	data := []byte("<html><script>alert(1)</script></html>")
	mustPut(t, s, key, data, blob.PutOptions{ContentType: "text/html"})
	tests := []struct {
		filename, typ, wantType string
	}{
		{"x.html", "text/html", "application/octet-stream"},
		{"<svg onload=alert(1)>.svg", "image/svg+xml", "application/octet-stream"},
		{`"quoted" ü 🎉.txt`, "text/plain; charset=utf-8", "text/plain; charset=utf-8"},
		{"report.pdf", "application/pdf", "application/pdf"},
		{"", "", "application/octet-stream"},
	}
	for _, tt := range tests {
		t.Run(tt.filename, func(t *testing.T) {
			u, err := s.PresignGet(ctx, key, blob.GetOptions{Filename: tt.filename, ContentType: tt.typ})
			if err != nil {
				t.Fatal(err)
			}
			res := Do(t, blob.Request{Method: http.MethodGet, URL: u}, nil)
			if res.Status != http.StatusOK {
				t.Fatalf("GET: %d %s", res.Status, res.Body)
			}
			if !bytes.Equal(res.Body, data) {
				t.Errorf("GET body = %q, want %q", res.Body, data)
			}
			if got := res.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
			cd := res.Header.Get("Content-Disposition")
			if cd != blob.ContentDisposition(tt.filename) {
				t.Errorf("Content-Disposition = %q, want %q", cd, blob.ContentDisposition(tt.filename))
			}
			disp, params, err := mime.ParseMediaType(cd)
			if err != nil || disp != "attachment" || params["filename"] != strings.TrimSpace(tt.filename) {
				t.Errorf("Content-Disposition %q parses as %q %v %v", cd, disp, params, err)
			}
		})
	}
	t.Run("range", func(t *testing.T) {
		u, err := s.PresignGet(ctx, key, blob.GetOptions{Filename: "x.html"})
		if err != nil {
			t.Fatal(err)
		}
		res, err := do(blob.Request{Method: http.MethodGet, URL: u}, nil, map[string]string{"Range": "bytes=2-5"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != http.StatusPartialContent || string(res.Body) != string(data[2:6]) {
			t.Errorf("Range GET: %d %q, want 206 %q", res.Status, res.Body, data[2:6])
		}
		if got, want := res.Header.Get("Content-Range"), fmt.Sprintf("bytes 2-5/%d", len(data)); got != want {
			t.Errorf("Content-Range = %q, want %q", got, want)
		}
	})
	t.Run("missing", func(t *testing.T) {
		u, err := s.PresignGet(ctx, newKey(), blob.GetOptions{Filename: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if res := Do(t, blob.Request{Method: http.MethodGet, URL: u}, nil); res.Status != http.StatusNotFound {
			t.Errorf("GET missing: %d %s, want 404", res.Status, res.Body)
		}
	})
	t.Run("other key", func(t *testing.T) {
		other := newKey()
		mustPut(t, s, other, []byte("secret"), blob.PutOptions{})
		u, err := s.PresignGet(ctx, key, blob.GetOptions{Filename: "x"})
		if err != nil {
			t.Fatal(err)
		}
		u = strings.Replace(u, key, other, 1)
		if res := Do(t, blob.Request{Method: http.MethodGet, URL: u}, nil); res.Status != http.StatusForbidden {
			t.Errorf("GET of another key: %d %s, want 403", res.Status, res.Body)
		}
	})
}

func testDelete(t *testing.T, s blob.Store) {
	ctx := context.Background()
	key := newKey()
	mustPut(t, s, key, randomBytes(10), blob.PutOptions{})
	u, err := s.PresignGet(ctx, key, blob.GetOptions{Filename: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	assertMissing(t, s, key)
	if err := s.Delete(ctx, key); err != nil {
		t.Errorf("second Delete: %v", err)
	}
	if err := s.Delete(ctx, newKey()); err != nil {
		t.Errorf("Delete of a key never written: %v", err)
	}
	if res := Do(t, blob.Request{Method: http.MethodGet, URL: u}, nil); res.Status != http.StatusNotFound {
		t.Errorf("GET after delete: %d %s, want 404", res.Status, res.Body)
	}
	// The key can be written again after a delete.
	mustPut(t, s, key, randomBytes(5), blob.PutOptions{})
}

func testMissing(t *testing.T, s blob.Store) {
	ctx := context.Background()
	key := newKey()
	assertMissing(t, s, key)
	if _, err := s.ListParts(ctx, key, "bm9zdWNodXBsb2Fk"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("ListParts of unknown upload: %v, want ErrNotFound", err)
	}
	if err := s.CompleteMultipart(ctx, key, "bm9zdWNodXBsb2Fk", []blob.Part{{Number: 1, ETag: `"x"`}}); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("CompleteMultipart of unknown upload: %v, want ErrNotFound", err)
	}
	if err := s.AbortMultipart(ctx, key, "bm9zdWNodXBsb2Fk"); err != nil {
		t.Errorf("AbortMultipart of unknown upload: %v, want nil", err)
	}
}

func testInvalidInput(t *testing.T, s blob.Store) {
	ctx := context.Background()
	for _, key := range []string{"", "../x", "u/../../x", "/abs", `u\x`, "u//x", "u/x/"} {
		if _, err := s.PresignPut(ctx, key, blob.PutOptions{Size: 1}); !errors.Is(err, blob.ErrInvalid) {
			t.Errorf("PresignPut(%q) = %v, want ErrInvalid", key, err)
		}
		if _, err := s.Head(ctx, key); !errors.Is(err, blob.ErrInvalid) {
			t.Errorf("Head(%q) = %v, want ErrInvalid", key, err)
		}
		if _, err := s.PresignGet(ctx, key, blob.GetOptions{}); !errors.Is(err, blob.ErrInvalid) {
			t.Errorf("PresignGet(%q) = %v, want ErrInvalid", key, err)
		}
		if err := s.Delete(ctx, key); !errors.Is(err, blob.ErrInvalid) {
			t.Errorf("Delete(%q) = %v, want ErrInvalid", key, err)
		}
	}
	key := newKey()
	bad := []blob.PutOptions{
		{Size: -1},
		{Size: blob.MaxPutSize + 1},
		{Size: 1, SHA256: []byte{1, 2, 3}},
		{Size: 1, TTL: -time.Second},
		{Size: 1, TTL: blob.MaxTTL + time.Second},
	}
	for _, o := range bad {
		if _, err := s.PresignPut(ctx, key, o); !errors.Is(err, blob.ErrInvalid) {
			t.Errorf("PresignPut(%+v) = %v, want ErrInvalid", o, err)
		}
	}
	if _, err := s.CreateMultipart(ctx, key, blob.MultipartOptions{Size: 10, PartSize: 1}); !errors.Is(err, blob.ErrInvalid) {
		t.Errorf("CreateMultipart with 1-byte parts = %v, want ErrInvalid", err)
	}
	uploadID, err := s.CreateMultipart(ctx, key, blob.MultipartOptions{Size: 10, PartSize: partSize})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.AbortMultipart(context.Background(), key, uploadID) })
	for _, p := range []struct {
		n    int32
		size int64
	}{{0, 10}, {blob.MaxParts + 1, 10}, {1, 0}, {1, blob.MaxPartSize + 1}} {
		if _, err := s.PresignPart(ctx, key, uploadID, p.n, p.size, 0); !errors.Is(err, blob.ErrInvalid) {
			t.Errorf("PresignPart(#%d, %d bytes) = %v, want ErrInvalid", p.n, p.size, err)
		}
	}
}

func testPing(t *testing.T, s blob.Store) {
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func testList(t *testing.T, s blob.Store) {
	ctx := context.Background()
	start := time.Now().Add(-time.Minute) // file system and S3 clocks are coarse
	base := blob.KeyPrefix + "list-" + hex.EncodeToString(randomBytes(6)) + "/"
	sizes := map[string]int{"a1": 1, "a2": 20, "b": 0, "sub/c": 300}
	for name, n := range sizes {
		mustPut(t, s, base+name, randomBytes(n), blob.PutOptions{})
	}
	// A sibling whose key shares the prefix as a string, a completed
	// multipart object and one in progress.
	mustPut(t, s, strings.TrimSuffix(base, "/")+"x/d", randomBytes(3), blob.PutOptions{})
	o := blob.MultipartOptions{Size: 10, PartSize: partSize}
	done, err := s.CreateMultipart(ctx, base+"m", o)
	if err != nil {
		t.Fatal(err)
	}
	p := uploadPart(t, s, base+"m", done, o, 1, randomBytes(10))
	if err := s.CompleteMultipart(ctx, base+"m", done, []blob.Part{p}); err != nil {
		t.Fatal(err)
	}
	sizes["m"] = 10
	pending, err := s.CreateMultipart(ctx, base+"pending", o)
	if err != nil {
		t.Fatal(err)
	}
	uploadPart(t, s, base+"pending", pending, o, 1, randomBytes(10))

	list := func(prefix string) map[string]blob.ObjectInfo {
		t.Helper()
		got := map[string]blob.ObjectInfo{}
		for obj, err := range s.List(ctx, prefix) {
			if err != nil {
				t.Fatalf("List(%q): %v", prefix, err)
			}
			if _, dup := got[obj.Key]; dup {
				t.Errorf("List(%q) yielded %s twice", prefix, obj.Key)
			}
			got[obj.Key] = obj
		}
		return got
	}
	keys := func(m map[string]blob.ObjectInfo) []string { return slices.Sorted(maps.Keys(m)) }
	all := list(base)
	if want := []string{base + "a1", base + "a2", base + "b", base + "m", base + "sub/c"}; !slices.Equal(keys(all), want) {
		t.Errorf("List(%q) = %v, want %v", base, keys(all), want)
	}
	for key, obj := range all {
		if want := int64(sizes[strings.TrimPrefix(key, base)]); obj.Size != want {
			t.Errorf("%s: size %d, want %d", key, obj.Size, want)
		}
		if obj.Modified.Before(start) || obj.Modified.After(time.Now().Add(time.Minute)) {
			t.Errorf("%s: modified %v, want about now", key, obj.Modified)
		}
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{base + "a", []string{base + "a1", base + "a2"}},
		{base + "sub/", []string{base + "sub/c"}},
		{base + "su", []string{base + "sub/c"}},
		{base + "zzz", nil},
		{blob.KeyPrefix + "no-such-prefix-" + hex.EncodeToString(randomBytes(6)) + "/", nil},
	}
	for _, tt := range tests {
		if got := keys(list(tt.prefix)); !slices.Equal(got, tt.want) {
			t.Errorf("List(%q) = %v, want %v", tt.prefix, got, tt.want)
		}
	}
	// Stopping early stops the listing.
	n := 0
	for _, err := range s.List(ctx, base) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 2 {
			break
		}
	}
	if n != 2 {
		t.Errorf("early stop after %d objects, want 2", n)
	}
	// A deleted object is no longer listed.
	if err := s.Delete(ctx, base+"a1"); err != nil {
		t.Fatal(err)
	}
	if _, ok := list(base)[base+"a1"]; ok {
		t.Errorf("List still yields %s after Delete", base+"a1")
	}
}

// uploadPart presigns and PUTs part n of data, returning what the client
// learns: number, ETag response header and size.
func uploadPart(t *testing.T, s blob.Store, key, uploadID string, o blob.MultipartOptions, n int32, data []byte) blob.Part {
	t.Helper()
	size := o.PartLen(n)
	req, err := s.PresignPart(context.Background(), key, uploadID, n, size, 0)
	if err != nil {
		t.Errorf("PresignPart #%d: %v", n, err)
		return blob.Part{}
	}
	if req.Method != http.MethodPut {
		t.Errorf("Method = %q, want PUT", req.Method)
	}
	off := int64(n-1) * o.PartSize
	res, err := do(req, data[off:off+size], nil)
	if err != nil {
		t.Errorf("PUT part #%d: %v", n, err)
		return blob.Part{}
	}
	if res.Status != http.StatusOK {
		t.Errorf("PUT part #%d: %d %s", n, res.Status, res.Body)
	}
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Errorf("PUT part #%d: no ETag header", n)
	}
	return blob.Part{Number: n, ETag: etag, Size: size}
}

// assertParts checks that a ListParts answer equals want (ETags compared
// without quotes).
func assertParts(t *testing.T, got, want []blob.Part) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("ListParts = %v, want %v", got, want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Number != w.Number || g.Size != w.Size || strings.Trim(g.ETag, `"`) != strings.Trim(w.ETag, `"`) {
			t.Errorf("part %d = %+v, want %+v", i, g, w)
		}
	}
}

// mustPut uploads data to key through a presigned PUT (o.Size is set from
// data) and returns the request used.
func mustPut(t *testing.T, s blob.Store, key string, data []byte, o blob.PutOptions) blob.Request {
	t.Helper()
	o.Size = int64(len(data))
	req, err := s.PresignPut(context.Background(), key, o)
	if err != nil {
		t.Fatal(err)
	}
	if res := Do(t, req, data); res.Status != http.StatusOK {
		t.Fatalf("PUT %s: %d %s", key, res.Status, res.Body)
	}
	return req
}

// assertMissing checks that Head and Get of key return blob.ErrNotFound.
func assertMissing(t *testing.T, s blob.Store, key string) {
	t.Helper()
	if obj, err := s.Head(context.Background(), key); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Head(%s) = %+v, %v; want ErrNotFound", key, obj, err)
	}
	rc, err := s.Get(context.Background(), key)
	if err == nil {
		rc.Close()
	}
	if !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Get(%s) = %v, want ErrNotFound", key, err)
	}
}

// readAll returns the bytes of key via Get.
func readAll(t *testing.T, s blob.Store, key string) []byte {
	t.Helper()
	rc, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Response is what a client got back from a presigned request.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do performs req with body, sending exactly req.Header, like a browser
// would. It fails t when the request cannot be made at all.
func Do(tb testing.TB, req blob.Request, body []byte) Response {
	tb.Helper()
	res, err := do(req, body, nil)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	return res
}

// client is the plain HTTP client of the suite (no proxy, bounded time).
func client() *http.Client {
	return &http.Client{
		Timeout:   2 * time.Minute,
		Transport: &http.Transport{Proxy: nil, DisableCompression: true},
	}
}

// SendTruncated sends req over a raw connection claiming Content-Length:
// claimed but sending only body, then half-closes the connection, like a
// client that dies mid-upload (net/http refuses to send such a request). It
// returns the status the server answered, or an error when it answered
// nothing.
func SendTruncated(req blob.Request, body []byte, claimed int64) (int, error) {
	u, err := url.Parse(req.URL)
	if err != nil {
		return 0, err
	}
	if u.Scheme != "http" {
		return 0, fmt.Errorf("SendTruncated: only http URLs, got %s", u.Scheme)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Minute))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nConnection: close\r\n", req.Method, u.RequestURI(), u.Host, claimed)
	for k, v := range req.Header {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return 0, err
	}
	if _, err := conn.Write(body); err != nil {
		return 0, err
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// do performs req with body; header, when not nil, replaces req.Header.
func do(req blob.Request, body []byte, header map[string]string) (Response, error) {
	hr, err := http.NewRequest(req.Method, req.URL, bytes.NewReader(body))
	if err != nil {
		return Response{}, err
	}
	if body == nil {
		hr.Body = http.NoBody
	}
	if header == nil {
		header = req.Header
	}
	for k, v := range header {
		hr.Header.Set(k, v)
	}
	c := client()
	defer c.CloseIdleConnections()
	resp, err := c.Do(hr)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, err
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// header looks a header up case-insensitively.
func header(h map[string]string, name string) (string, bool) {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// newKey returns a fresh server-style key.
func newKey() string { return blob.KeyPrefix + "test/" + hex.EncodeToString(randomBytes(12)) }

// randomBytes returns n random bytes.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
