package files_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weupload/weupload/internal/blob"
	"github.com/weupload/weupload/internal/database/dbtest"
	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/svctest"
)

// env is a files.Service on the shared service-test environment: a fresh
// database and a real store (disk behind a loopback server, or S3 on
// versitygw) on one settable clock.
type env struct {
	*svctest.Env
	svc *files.Service
	cfg files.Config
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

func newEnv(tb testing.TB, kind string, cfg files.Config) *env {
	tb.Helper()
	return newEnvOn(tb, kind, cfg, dbtest.New(tb))
}

// newEnvOn is newEnv on a pool the test configured (e.g. one connection).
func newEnvOn(tb testing.TB, kind string, cfg files.Config, pool *pgxpool.Pool) *env {
	tb.Helper()
	e := &env{Env: svctest.NewOn(tb, kind, pool), cfg: cfg}
	e.svc = e.service(e.Store)
	return e
}

// service returns another service on the same database with store (e.g.
// one that cannot reach its server).
func (e *env) service(store blob.Store) *files.Service { return e.Files(e.cfg, store) }

func (e *env) initiate(tb testing.TB, owner string, in files.InitiateInput) files.UploadURLs {
	tb.Helper()
	urls, err := e.svc.InitiateUpload(context.Background(), owner, in)
	if err != nil {
		tb.Fatalf("initiate %q: %v", in.Name, err)
	}
	return urls
}

// upload stores data as name in folder through the whole protocol.
func (e *env) upload(tb testing.TB, owner, folder, name string, data []byte) files.File {
	tb.Helper()
	return svctest.Upload(tb, e.svc, owner, folder, name, data)
}

// download fetches a file through its download URL.
func (e *env) download(tb testing.TB, owner, id string) (*http.Response, []byte) {
	tb.Helper()
	d, err := e.svc.DownloadURL(context.Background(), owner, id)
	if err != nil {
		tb.Fatalf("download URL: %v", err)
	}
	return svctest.Fetch(tb, d.URL)
}

// pastURLs moves the clock past the time every URL handed out so far can
// store bytes (their TTL and the grace), then runs the deletion queue: the
// deletions of ended uploads are due, and their reservations go with them.
func (e *env) pastURLs(tb testing.TB) {
	tb.Helper()
	cfg := e.svc.Config()
	e.Clock.Advance(cfg.UploadURLTTL + cfg.ExpiryGrace + time.Second)
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

// objectKey returns the store key of an upload.
func (e *env) objectKey(tb testing.TB, uploadID string) string {
	tb.Helper()
	var key string
	if err := e.Pool.QueryRow(context.Background(), `SELECT object_key FROM uploads WHERE id = $1`, uploadID).Scan(&key); err != nil {
		tb.Fatal(err)
	}
	return key
}
