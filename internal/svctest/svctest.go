// Package svctest is the one test environment of the service packages: a
// fresh migrated database, a real blob store (the disk store behind a
// loopback server, or S3 on versitygw) on a settable clock, and the helpers
// every service test needs (accounts, uploads through the real protocol,
// downloads, error codes). internal/files and internal/shares build their
// tests on it instead of keeping copies.
package svctest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/blob"
	"github.com/weupload/weupload/internal/blob/blobtest"
	"github.com/weupload/weupload/internal/blob/disk"
	"github.com/weupload/weupload/internal/blob/s3"
	"github.com/weupload/weupload/internal/blob/s3test"
	"github.com/weupload/weupload/internal/database/dbtest"
	"github.com/weupload/weupload/internal/files"
)

// Stores are the store kinds every protocol test runs against.
var Stores = []string{"disk", "s3"}

// EachStore runs fn as a parallel subtest per store kind.
func EachStore(t *testing.T, fn func(t *testing.T, kind string)) {
	t.Helper()
	for _, kind := range Stores {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			fn(t, kind)
		})
	}
}

// Env is a fresh database and a real store of one kind, on one clock.
type Env struct {
	Kind  string // disk | s3
	Pool  *pgxpool.Pool
	Store blob.Store
	Clock *blobtest.Clock // for the services and the disk store
	S3    s3.Config       // the versitygw bucket, s3 only
}

// New returns an Env with a store of kind on a fresh database.
func New(tb testing.TB, kind string) *Env {
	tb.Helper()
	return NewOn(tb, kind, dbtest.New(tb))
}

// NewOn is New on a pool the test configured (one connection, say).
func NewOn(tb testing.TB, kind string, pool *pgxpool.Pool) *Env {
	tb.Helper()
	e := &Env{Kind: kind, Pool: pool, Clock: blobtest.NewClock(time.Now())}
	switch kind {
	case "disk":
		var h atomic.Value
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.Load().(http.Handler).ServeHTTP(w, r)
		}))
		tb.Cleanup(srv.Close)
		st, err := disk.New(disk.Config{Dir: tb.TempDir(), BaseURL: srv.URL, Secret: RandomBytes(32), Now: e.Clock.Now})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { st.Close() })
		h.Store(st.Handler())
		e.Store = st
	case "s3":
		e.S3 = s3test.New(tb)
		st, err := s3.New(context.Background(), e.S3)
		if err != nil {
			tb.Fatal(err)
		}
		e.Store = st
	default:
		tb.Fatalf("svctest: unknown store %q", kind)
	}
	return e
}

// Files returns a files service on the Env's database and store (or on
// store, when given: one that cannot reach its server, say) with the Env's
// clock.
func (e *Env) Files(cfg files.Config, store ...blob.Store) *files.Service {
	st := e.Store
	if len(store) > 0 {
		st = store[0]
	}
	svc := files.New(e.Pool, st, cfg)
	svc.Now = e.Clock.Now
	return svc
}

// Unreachable is an S3 store pointed at a port nothing listens on: the
// fault "storage unreachable" without touching the real server.
func Unreachable(tb testing.TB) blob.Store {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // closed: connections are refused
	st, err := s3.New(context.Background(), s3.Config{
		Bucket: "unreachable", Endpoint: "http://" + addr, PathStyle: true, AccessKey: "x", SecretKey: "y",
	})
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

var userSeq atomic.Int64

// User makes an account named name directly in the database and returns
// its id; emails are unique per call.
func (e *Env) User(tb testing.TB, name string) string {
	tb.Helper()
	var id string
	email := fmt.Sprintf("%s-%d-%s@example.com", strings.ToLower(name), userSeq.Add(1), RandomHex(4))
	if err := e.Pool.QueryRow(context.Background(),
		`INSERT INTO users (email, display_name, password_hash) VALUES ($1, $2, 'x') RETURNING id`, email, name).Scan(&id); err != nil {
		tb.Fatal(err)
	}
	return id
}

// Count runs a SELECT count(*) ... and returns the number.
func (e *Env) Count(tb testing.TB, sql string, args ...any) int {
	tb.Helper()
	var n int
	if err := e.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
	return n
}

// PutSingle sends body to a single upload's URL with exactly its headers
// and returns the status.
func PutSingle(tb testing.TB, urls files.UploadURLs, body []byte) int {
	tb.Helper()
	return blobtest.Do(tb, blob.Request{Method: http.MethodPut, URL: urls.URL, Header: urls.Header}, body).Status
}

// PutPart sends one part and returns its ETag.
func PutPart(tb testing.TB, p files.PartURL, body []byte) string {
	tb.Helper()
	res := blobtest.Do(tb, blob.Request{Method: http.MethodPut, URL: p.URL, Header: p.Header}, body)
	if res.Status != http.StatusOK {
		tb.Fatalf("PUT part %d: %d %s", p.Number, res.Status, res.Body)
	}
	return res.Header.Get("ETag")
}

// Send PUTs data to what initiate returned, in parts when it asked for them,
// and returns what complete needs.
func Send(tb testing.TB, urls files.UploadURLs, data []byte) files.CompleteInput {
	tb.Helper()
	var in files.CompleteInput
	if urls.Upload.Mode == files.ModeMultipart {
		ps := urls.Upload.PartSize
		for _, p := range urls.Parts {
			lo := int64(p.Number-1) * ps
			hi := min(lo+ps, int64(len(data)))
			in.Parts = append(in.Parts, files.CompletedPart{Number: p.Number, ETag: PutPart(tb, p, data[lo:hi])})
		}
	} else if st := PutSingle(tb, urls, data); st != http.StatusOK {
		tb.Fatalf("PUT %q: %d", urls.Upload.Name, st)
	}
	return in
}

// Upload stores data as name in folder with fs through the whole protocol.
func Upload(tb testing.TB, fs *files.Service, owner, folder, name string, data []byte) files.File {
	tb.Helper()
	ctx := context.Background()
	urls, err := fs.InitiateUpload(ctx, owner, files.InitiateInput{Name: name, Size: int64(len(data)), ContentType: "text/plain", FolderID: folder})
	if err != nil {
		tb.Fatalf("initiate %q: %v", name, err)
	}
	f, err := fs.CompleteUpload(ctx, owner, urls.Upload.ID, Send(tb, urls, data))
	if err != nil {
		tb.Fatalf("complete %q: %v", name, err)
	}
	return f
}

// Fetch GETs url and returns the response (body closed) and the body.
func Fetch(tb testing.TB, url string) (*http.Response, []byte) {
	tb.Helper()
	res, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return res, b
}

// WantCode fails unless err carries the apperr code.
func WantCode(tb testing.TB, err error, code apperr.Code) {
	tb.Helper()
	if got := apperr.CodeOf(err); got != code {
		tb.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

// RandomBytes returns n random bytes.
func RandomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// RandomHex returns 2n random hex digits.
func RandomHex(n int) string { return hex.EncodeToString(RandomBytes(n)) }
