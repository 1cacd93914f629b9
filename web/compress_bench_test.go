package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// compressTarget is a response whose compression we measure.
type compressTarget struct {
	name, path string
}

// compressFixture signs a user in whose root holds 10 folders and 100 files
// (a full first page), and returns the router and the session cookies.
func compressFixture(tb testing.TB) (http.Handler, []*http.Cookie, []compressTarget) {
	tb.Helper()
	ta := newTestApp(tb, nil)
	u := ta.createUser(tb, "pages@example.com", "correct horse battery staple")
	_, err := ta.pool.Exec(tb.Context(), `
		WITH f AS (
			INSERT INTO folders (owner_id, name, created_at, updated_at)
			SELECT $1, 'Folder ' || g, now(), now() FROM generate_series(1, 10) g)
		INSERT INTO files (owner_id, name, size, content_type, object_key, created_at, updated_at)
		SELECT $1, 'Holiday photo ' || g || '.jpg', g * 123457, 'image/jpeg', 'u/' || $1 || '/' || g,
		       now() - g * interval '1 hour', now()
		FROM generate_series(1, 100) g`, u.ID)
	if err != nil {
		tb.Fatal(err)
	}
	c := ta.client(tb)
	wantStatus(tb, c.login("pages@example.com", "correct horse battery staple"), http.StatusSeeOther)
	base, _ := url.Parse(ta.srv.URL)
	return ta.routes(), c.hc.Jar.Cookies(base), []compressTarget{
		{"files page", "/files"},
		{"app.css", ta.assets.URL("css/app.css")},
		{"htmx.min.js", ta.assets.URL("js/htmx.min.js")},
	}
}

func fetch(h http.Handler, path string, cookies []*http.Cookie, acceptEncoding string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestCompression checks that pages and static assets are sent gzipped to a
// client that accepts it (and plain to one that does not), with Vary set
// so caches keep both, and logs the sizes (docs/benchmarks.md).
func TestCompression(t *testing.T) {
	h, cookies, targets := compressFixture(t)
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			plain := fetch(h, tg.path, cookies, "")
			gz := fetch(h, tg.path, cookies, "gzip, deflate, br")
			if plain.Code != http.StatusOK || gz.Code != http.StatusOK {
				t.Fatalf("status %d / %d", plain.Code, gz.Code)
			}
			if ce := plain.Header().Get("Content-Encoding"); ce != "" {
				t.Errorf("without Accept-Encoding: Content-Encoding %q", ce)
			}
			if ce := gz.Header().Get("Content-Encoding"); ce != "gzip" {
				t.Fatalf("Content-Encoding %q (Content-Type %q), want gzip", ce, gz.Header().Get("Content-Type"))
			}
			if vary := strings.Join(gz.Header().Values("Vary"), ", "); !strings.Contains(vary, "Accept-Encoding") {
				t.Errorf("Vary %q lacks Accept-Encoding", vary)
			}
			zr, err := gzip.NewReader(bytes.NewReader(gz.Body.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			if len(body) != plain.Body.Len() {
				t.Errorf("gunzipped %d bytes, plain %d", len(body), plain.Body.Len())
			}
			t.Logf("%s: %d bytes plain, %d gzipped (%.0f %%)", tg.name, plain.Body.Len(), gz.Body.Len(), 100*float64(gz.Body.Len())/float64(plain.Body.Len()))
		})
	}
}

// BenchmarkCompression serves each target through the real router with and
// without Accept-Encoding: gzip (the difference is what compression adds to
// a request), and gzips the plain body alone at the app's level (5), at 1
// (the cheapest) and at 9 (what precompressing once at start-up could
// afford). B/resp is the response size.
//
//	scripts/test.sh ./web -run '^$' -bench Compression -benchtime 2s
func BenchmarkCompression(b *testing.B) {
	h, cookies, targets := compressFixture(b)
	for _, tg := range targets {
		for _, enc := range []string{"", "gzip"} {
			name := "identity"
			if enc != "" {
				name = enc
			}
			b.Run(tg.name+"/served-"+name, func(b *testing.B) {
				var n int
				for b.Loop() {
					rec := fetch(h, tg.path, cookies, enc)
					if rec.Code != http.StatusOK {
						b.Fatalf("status %d", rec.Code)
					}
					n = rec.Body.Len()
				}
				b.ReportMetric(float64(n), "B/resp")
			})
		}
		plain := fetch(h, tg.path, cookies, "").Body.Bytes()
		for _, level := range []int{1, 5, 9} {
			b.Run(fmt.Sprintf("%s/gzip-%d-only", tg.name, level), func(b *testing.B) {
				var buf bytes.Buffer
				zw, _ := gzip.NewWriterLevel(&buf, level)
				b.SetBytes(int64(len(plain)))
				for b.Loop() {
					buf.Reset()
					zw.Reset(&buf)
					_, _ = zw.Write(plain)
					_ = zw.Close()
				}
				b.ReportMetric(float64(buf.Len()), "B/resp")
			})
		}
	}
}
