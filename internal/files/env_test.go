package files_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
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

// env is a files.Service on a fresh database and a real store: the disk
// store behind a loopback server, or S3 on versitygw.
type env struct {
	kind  string // disk | s3
	svc   *files.Service
	pool  *pgxpool.Pool
	store blob.Store
	clock *blobtest.Clock // the service's clock (and the disk store's)
	cfg   files.Config
	s3cfg s3.Config // s3 only
}

// testConfig is small enough for tests: 5 MiB parts from 5 MiB on.
func testConfig() files.Config {
	return files.Config{
		MaxFileSize:        1 << 30,
		DefaultQuota:       100 << 20,
		MultipartThreshold: blob.MinPartSize,
		PartSize:           blob.MinPartSize,
		UploadURLTTL:       15 * time.Minute,
		DownloadURLTTL:     5 * time.Minute,
	}
}

// stores are the store kinds every protocol test runs against.
var stores = []string{"disk", "s3"}

// eachStore runs fn as a subtest per store kind.
func eachStore(t *testing.T, fn func(t *testing.T, kind string)) {
	t.Helper()
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			fn(t, kind)
		})
	}
}

func newEnv(tb testing.TB, kind string, cfg files.Config) *env {
	tb.Helper()
	return newEnvOn(tb, kind, cfg, dbtest.New(tb))
}

// newEnvOn is newEnv on a pool the test configured (e.g. one connection).
func newEnvOn(tb testing.TB, kind string, cfg files.Config, pool *pgxpool.Pool) *env {
	tb.Helper()
	e := &env{kind: kind, pool: pool, clock: blobtest.NewClock(time.Now()), cfg: cfg}
	switch kind {
	case "disk":
		var h atomic.Value
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.Load().(http.Handler).ServeHTTP(w, r)
		}))
		tb.Cleanup(srv.Close)
		secret := make([]byte, 32)
		_, _ = rand.Read(secret)
		st, err := disk.New(disk.Config{Dir: tb.TempDir(), BaseURL: srv.URL, Secret: secret, Now: e.clock.Now})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { st.Close() })
		h.Store(st.Handler())
		e.store = st
	case "s3":
		e.s3cfg = s3test.New(tb)
		st, err := s3.New(context.Background(), e.s3cfg)
		if err != nil {
			tb.Fatal(err)
		}
		e.store = st
	default:
		tb.Fatalf("unknown store %q", kind)
	}
	e.svc = e.service(e.store)
	return e
}

// service returns another service on the same database with store (e.g.
// one that cannot reach its server).
func (e *env) service(store blob.Store) *files.Service {
	svc := files.New(e.pool, store, e.cfg)
	svc.Now = e.clock.Now
	return svc
}

// unreachableStore is an S3 store pointed at a port nothing listens on: the
// fault "storage unreachable" without touching the real server.
func unreachableStore(tb testing.TB) blob.Store {
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

// user makes an account directly in the database and returns its id.
func (e *env) user(tb testing.TB) string {
	tb.Helper()
	var id string
	email := "u" + strconv.FormatInt(userSeq.Add(1), 10) + "-" + randomHex(4) + "@example.com"
	err := e.pool.QueryRow(context.Background(),
		`INSERT INTO users (email, display_name, password_hash) VALUES ($1, 'Test', 'x') RETURNING id`, email).Scan(&id)
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

func (e *env) initiate(tb testing.TB, owner string, in files.InitiateInput) files.UploadURLs {
	tb.Helper()
	urls, err := e.svc.InitiateUpload(context.Background(), owner, in)
	if err != nil {
		tb.Fatalf("initiate %q: %v", in.Name, err)
	}
	return urls
}

// putSingle sends body to a single upload's URL with exactly its headers.
func putSingle(tb testing.TB, urls files.UploadURLs, body []byte) int {
	tb.Helper()
	return blobtest.Do(tb, blob.Request{Method: http.MethodPut, URL: urls.URL, Header: urls.Header}, body).Status
}

// putPart sends one part and returns its ETag.
func putPart(tb testing.TB, p files.PartURL, body []byte) string {
	tb.Helper()
	res := blobtest.Do(tb, blob.Request{Method: http.MethodPut, URL: p.URL, Header: p.Header}, body)
	if res.Status != http.StatusOK {
		tb.Fatalf("PUT part %d: %d %s", p.Number, res.Status, res.Body)
	}
	return res.Header.Get("ETag")
}

// upload stores data as name in folder through the whole protocol.
func (e *env) upload(tb testing.TB, owner, folder, name string, data []byte) files.File {
	tb.Helper()
	urls := e.initiate(tb, owner, files.InitiateInput{Name: name, Size: int64(len(data)), ContentType: "text/plain", FolderID: folder})
	var in files.CompleteInput
	if urls.Upload.Mode == files.ModeMultipart {
		ps := urls.Upload.PartSize
		for _, p := range urls.Parts {
			lo := int64(p.Number-1) * ps
			hi := min(lo+ps, int64(len(data)))
			in.Parts = append(in.Parts, files.CompletedPart{Number: p.Number, ETag: putPart(tb, p, data[lo:hi])})
		}
	} else if st := putSingle(tb, urls, data); st != http.StatusOK {
		tb.Fatalf("PUT %q: %d", name, st)
	}
	f, err := e.svc.CompleteUpload(context.Background(), owner, urls.Upload.ID, in)
	if err != nil {
		tb.Fatalf("complete %q: %v", name, err)
	}
	return f
}

// download fetches a file through its download URL.
func (e *env) download(tb testing.TB, owner, id string) (*http.Response, []byte) {
	tb.Helper()
	d, err := e.svc.DownloadURL(context.Background(), owner, id)
	if err != nil {
		tb.Fatalf("download URL: %v", err)
	}
	res, err := http.Get(d.URL)
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

// pastURLs moves the clock past the time every URL handed out so far can
// store bytes (their TTL and the grace), then runs the deletion queue: the
// deletions of ended uploads are due, and their reservations go with them.
func (e *env) pastURLs(tb testing.TB) {
	tb.Helper()
	cfg := e.svc.Config()
	e.clock.Advance(cfg.UploadURLTTL + cfg.ExpiryGrace + time.Second)
	if _, err := e.svc.DeleteObjects(context.Background()); err != nil {
		tb.Fatal(err)
	}
}

func (e *env) usage(tb testing.TB, owner string) files.Usage {
	tb.Helper()
	u, err := e.svc.Usage(context.Background(), owner)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// count runs a SELECT count(*) ... and returns the number.
func (e *env) count(tb testing.TB, sql string, args ...any) int {
	tb.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
	return n
}

// objectKey returns the store key of an upload.
func (e *env) objectKey(tb testing.TB, uploadID string) string {
	tb.Helper()
	var key string
	if err := e.pool.QueryRow(context.Background(), `SELECT object_key FROM uploads WHERE id = $1`, uploadID).Scan(&key); err != nil {
		tb.Fatal(err)
	}
	return key
}

// wantCode fails unless err carries the apperr code.
func wantCode(tb testing.TB, err error, code apperr.Code) {
	tb.Helper()
	if got := apperr.CodeOf(err); got != code {
		tb.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }
