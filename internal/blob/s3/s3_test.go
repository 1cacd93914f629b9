package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weupload/weupload/internal/blob"
	"github.com/weupload/weupload/internal/blob/blobtest"
	"github.com/weupload/weupload/internal/blob/s3"
	"github.com/weupload/weupload/internal/blob/s3test"
	"github.com/weupload/weupload/internal/testenv"
)

// newStore returns a Store on a fresh bucket.
func newStore(tb testing.TB) *s3.Store {
	tb.Helper()
	return mustNew(tb, s3test.New(tb))
}

// mustNew makes a Store from cfg.
func mustNew(tb testing.TB, cfg s3.Config) *s3.Store {
	tb.Helper()
	s, err := s3.New(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return newStore(t) })
}

// signedHeaders returns the X-Amz-SignedHeaders of a presigned URL.
func signedHeaders(tb testing.TB, rawURL string) []string {
	tb.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		tb.Fatal(err)
	}
	return strings.Split(u.Query().Get("X-Amz-SignedHeaders"), ";")
}

// TestSignedHeaders checks, without a server, that what pins an upload is
// signed and not merely sent.
func TestSignedHeaders(t *testing.T) {
	ctx := context.Background()
	s := mustNew(t, s3.Config{Bucket: "b", Endpoint: "http://127.0.0.1:1", PathStyle: true, AccessKey: "a", SecretKey: "s"})
	sum := sha256.Sum256([]byte("x"))
	tests := []struct {
		name string
		o    blob.PutOptions
		want []string
	}{
		{"size and digest", blob.PutOptions{Size: 1, ContentType: "text/plain", SHA256: sum[:]},
			[]string{"content-length", "content-type", "host", "if-none-match", "x-amz-checksum-sha256"}},
		{"size only", blob.PutOptions{Size: 1},
			[]string{"content-length", "content-type", "host", "if-none-match"}},
		// SigV4 never signs "Content-Length: 0": the empty digest pins it.
		{"empty", blob.PutOptions{Size: 0, ContentType: "text/plain"},
			[]string{"content-type", "host", "if-none-match", "x-amz-checksum-sha256"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := s.PresignPut(ctx, "u/1/x", tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if got := signedHeaders(t, req.URL); !slices.Equal(got, tt.want) {
				t.Errorf("X-Amz-SignedHeaders = %v, want %v", got, tt.want)
			}
			for _, h := range tt.want {
				if h == "host" || h == "content-length" {
					continue
				}
				if _, ok := req.Header[http.CanonicalHeaderKey(h)]; !ok && req.Header[h] == "" {
					t.Errorf("signed header %s missing from Header %v", h, req.Header)
				}
			}
			if len(req.Header) != len(tt.want)-1-btoi(slices.Contains(tt.want, "content-length")) {
				t.Errorf("Header = %v, want exactly the signed headers but Host and Content-Length", req.Header)
			}
			u, _ := url.Parse(req.URL)
			for k := range u.Query() {
				if strings.Contains(strings.ToLower(k), "checksum") {
					t.Errorf("checksum parameter %s in the query: %s", k, req.URL)
				}
			}
		})
	}
	t.Run("part", func(t *testing.T) {
		req, err := s.PresignPart(ctx, "u/1/x", "upload", 3, 5<<20, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := signedHeaders(t, req.URL), []string{"content-length", "host"}; !slices.Equal(got, want) {
			t.Errorf("X-Amz-SignedHeaders = %v, want %v", got, want)
		}
		if len(req.Header) != 0 {
			t.Errorf("Header = %v, want none", req.Header)
		}
		q, _ := url.ParseQuery(req.URL[strings.Index(req.URL, "?")+1:])
		if q.Get("partNumber") != "3" || q.Get("uploadId") != "upload" || q.Get("X-Amz-Expires") != "60" {
			t.Errorf("query = %v", q)
		}
	})
	t.Run("get", func(t *testing.T) {
		u, err := s.PresignGet(ctx, "u/1/x", blob.GetOptions{Filename: "a b.html", ContentType: "text/html", TTL: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		q, _ := url.ParseQuery(u[strings.Index(u, "?")+1:])
		if got, want := q.Get("response-content-disposition"), blob.ContentDisposition("a b.html"); got != want {
			t.Errorf("response-content-disposition = %q, want %q", got, want)
		}
		if got := q.Get("response-content-type"); got != "application/octet-stream" {
			t.Errorf("response-content-type = %q", got)
		}
		if q.Get("X-Amz-Expires") != "30" {
			t.Errorf("X-Amz-Expires = %q, want 30", q.Get("X-Amz-Expires"))
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestPublicEndpoint checks that URLs are signed for the host browsers use,
// and that the signature holds there.
func TestPublicEndpoint(t *testing.T) {
	cfg := s3test.New(t)
	u, err := url.Parse(cfg.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	if u.Hostname() != "127.0.0.1" {
		testenv.Missing(t, "a versitygw on 127.0.0.1", "this test re-signs for localhost, so TEST_S3_ENDPOINT must be local")
	}
	cfg.PublicEndpoint = "http://localhost:" + u.Port()
	s := mustNew(t, cfg)
	ctx := context.Background()
	data := []byte("hello")
	req, err := s.PresignPut(ctx, "u/1/x", blob.PutOptions{Size: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(req.URL, cfg.PublicEndpoint+"/") {
		t.Fatalf("URL %s not on %s", req.URL, cfg.PublicEndpoint)
	}
	if res := blobtest.Do(t, req, data); res.Status != http.StatusOK {
		t.Fatalf("PUT via public endpoint: %d %s", res.Status, res.Body)
	}
	// Server-side calls still use Endpoint.
	if obj, err := s.Head(ctx, "u/1/x"); err != nil || obj.Size != 5 {
		t.Fatalf("Head = %+v, %v", obj, err)
	}
	get, err := s.PresignGet(ctx, "u/1/x", blob.GetOptions{Filename: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(get, cfg.PublicEndpoint+"/") {
		t.Errorf("GET URL %s not on %s", get, cfg.PublicEndpoint)
	}
	if res := blobtest.Do(t, blob.Request{Method: http.MethodGet, URL: get}, nil); res.Status != http.StatusOK || !bytes.Equal(res.Body, data) {
		t.Errorf("GET via public endpoint: %d %q", res.Status, res.Body)
	}
}

// TestCORS checks the rule EnsureBucket puts: browsers on the allowed
// origin may PUT and read the ETag, others are refused.
func TestCORS(t *testing.T) {
	const origin = "http://app.example"
	cfg := s3test.New(t, origin)
	s := mustNew(t, cfg)
	if err := s.EnsureBucket(context.Background(), []string{origin}); err != nil {
		t.Fatalf("EnsureBucket on an existing bucket: %v", err)
	}
	req, err := s.PresignPut(context.Background(), "u/1/x", blob.PutOptions{Size: 1, ContentType: "text/plain"})
	if err != nil {
		t.Fatal(err)
	}
	preflight := func(origin string) *http.Response {
		t.Helper()
		r, _ := http.NewRequest(http.MethodOptions, req.URL, nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", http.MethodPut)
		r.Header.Set("Access-Control-Request-Headers", "content-type,if-none-match")
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := preflight(origin)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != origin {
		t.Errorf("preflight from %s: %d %v", origin, resp.StatusCode, resp.Header)
	}
	if !strings.Contains(strings.ToLower(resp.Header.Get("Access-Control-Allow-Methods")), "put") {
		t.Errorf("Access-Control-Allow-Methods = %q", resp.Header.Get("Access-Control-Allow-Methods"))
	}
	if resp := preflight("http://evil.example"); resp.StatusCode == http.StatusOK && resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin allowed: %d %v", resp.StatusCode, resp.Header)
	}
	h := map[string]string{"Origin": origin}
	for k, v := range req.Header {
		h[k] = v
	}
	r, _ := http.NewRequest(req.Method, req.URL, strings.NewReader("x"))
	for k, v := range h {
		r.Header.Set(k, v)
	}
	put, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	put.Body.Close()
	if put.StatusCode != http.StatusOK {
		t.Fatalf("PUT with Origin: %d", put.StatusCode)
	}
	if !strings.Contains(strings.ToLower(put.Header.Get("Access-Control-Expose-Headers")), "etag") {
		t.Errorf("Access-Control-Expose-Headers = %q, want ETag", put.Header.Get("Access-Control-Expose-Headers"))
	}
}

// TestMultipartHeadNoSHA256 checks that a multipart object reports no
// whole-object digest (S3 keeps none; a composite one must not leak out).
func TestMultipartHeadNoSHA256(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	o := blob.MultipartOptions{Size: 10, PartSize: blob.MinPartSize}
	id, err := s.CreateMultipart(ctx, "u/1/m", o)
	if err != nil {
		t.Fatal(err)
	}
	req, err := s.PresignPart(ctx, "u/1/m", id, 1, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	res := blobtest.Do(t, req, []byte("0123456789"))
	if res.Status != http.StatusOK {
		t.Fatalf("PUT part: %d %s", res.Status, res.Body)
	}
	if err := s.CompleteMultipart(ctx, "u/1/m", id, []blob.Part{{Number: 1, ETag: res.Header.Get("ETag")}}); err != nil {
		t.Fatal(err)
	}
	obj, err := s.Head(ctx, "u/1/m")
	if err != nil {
		t.Fatal(err)
	}
	if obj.Size != 10 || obj.SHA256 != nil {
		t.Errorf("Head = %+v, want size 10 and no SHA256", obj)
	}
}

// TestUnavailable checks the error classes callers turn into 503.
func TestUnavailable(t *testing.T) {
	ctx := context.Background()
	t.Run("connection refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		s := mustNew(t, s3.Config{Bucket: "b", Endpoint: "http://" + addr, PathStyle: true, AccessKey: "a", SecretKey: "s"})
		assertUnavailable(t, s)
	})
	for _, status := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(status)
			}))
			t.Cleanup(srv.Close)
			s := mustNew(t, s3.Config{Bucket: "b", Endpoint: srv.URL, PathStyle: true, AccessKey: "a", SecretKey: "s"})
			assertUnavailable(t, s)
		})
	}
	t.Run("timeout", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}))
		t.Cleanup(srv.Close)
		s := mustNew(t, s3.Config{Bucket: "b", Endpoint: srv.URL, PathStyle: true, AccessKey: "a", SecretKey: "s"})
		ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		if _, err := s.Head(ctx, "u/1/x"); !errors.Is(err, blob.ErrUnavailable) {
			t.Errorf("Head = %v, want ErrUnavailable", err)
		}
	})
	t.Run("not found stays not found", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>x</Message></Error>`))
		}))
		t.Cleanup(srv.Close)
		s := mustNew(t, s3.Config{Bucket: "b", Endpoint: srv.URL, PathStyle: true, AccessKey: "a", SecretKey: "s"})
		if _, err := s.Get(ctx, "u/1/x"); !errors.Is(err, blob.ErrNotFound) || errors.Is(err, blob.ErrUnavailable) {
			t.Errorf("Get = %v, want ErrNotFound only", err)
		}
		if err := s.Delete(ctx, "u/1/x"); err != nil {
			t.Errorf("Delete = %v, want nil", err)
		}
	})
}

// assertUnavailable checks that server-side calls wrap blob.ErrUnavailable.
func assertUnavailable(t *testing.T, s *s3.Store) {
	t.Helper()
	ctx := context.Background()
	if err := s.Ping(ctx); !errors.Is(err, blob.ErrUnavailable) {
		t.Errorf("Ping = %v, want ErrUnavailable", err)
	}
	if _, err := s.Head(ctx, "u/1/x"); !errors.Is(err, blob.ErrUnavailable) {
		t.Errorf("Head = %v, want ErrUnavailable", err)
	}
	if _, err := s.Get(ctx, "u/1/x"); !errors.Is(err, blob.ErrUnavailable) {
		t.Errorf("Get = %v, want ErrUnavailable", err)
	}
	if _, err := s.CreateMultipart(ctx, "u/1/x", blob.MultipartOptions{Size: 1, PartSize: blob.MinPartSize}); !errors.Is(err, blob.ErrUnavailable) {
		t.Errorf("CreateMultipart = %v, want ErrUnavailable", err)
	}
	if err := s.Delete(ctx, "u/1/x"); !errors.Is(err, blob.ErrUnavailable) {
		t.Errorf("Delete = %v, want ErrUnavailable", err)
	}
	if _, err := s.PresignPut(ctx, "u/1/x", blob.PutOptions{Size: 1}); err != nil {
		t.Errorf("PresignPut needs no server, got %v", err)
	}
}

// TestPingRequest checks that the readiness probe is a request the
// least-privilege instance role allows: s3:ListBucket is granted only with
// an s3:prefix under blob.KeyPrefix, so the probe must be a ListObjectsV2
// with that prefix (HeadBucket sends none and is refused with 403).
func TestPingRequest(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.Header().Set("Content-Type", "application/xml")
		w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name><KeyCount>0</KeyCount></ListBucketResult>`))
	}))
	t.Cleanup(srv.Close)
	s := mustNew(t, s3.Config{Bucket: "b", Endpoint: srv.URL, PathStyle: true, AccessKey: "a", SecretKey: "s"})
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping = %v", err)
	}
	q := got.URL.Query()
	if got.Method != http.MethodGet || got.URL.Path != "/b" || q.Get("list-type") != "2" || q.Get("prefix") != blob.KeyPrefix || q.Get("max-keys") != "1" {
		t.Errorf("Ping sent %s %s, want GET /b?list-type=2&max-keys=1&prefix=%s", got.Method, got.URL, blob.KeyPrefix)
	}
}
