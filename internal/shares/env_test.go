package shares_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
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
	"github.com/weupload/weupload/internal/password"
	"github.com/weupload/weupload/internal/ratelimit"
	"github.com/weupload/weupload/internal/shares"
)

// env is a shares.Service with the files service it shares from, on a
// fresh database and a real store (disk behind a loopback server, or S3 on
// versitygw), both on one settable clock.
type env struct {
	pool   *pgxpool.Pool
	store  blob.Store
	files  *files.Service
	shares *shares.Service
	clock  *blobtest.Clock
}

// cheapArgon2 keeps password tests fast; production uses password.Default.
var cheapArgon2 = password.Params{Memory: 64, Time: 1, Threads: 1}

func newEnv(tb testing.TB, kind string) *env {
	tb.Helper()
	e := &env{pool: dbtest.New(tb), clock: blobtest.NewClock(time.Now())}
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
		st, err := s3.New(context.Background(), s3test.New(tb))
		if err != nil {
			tb.Fatal(err)
		}
		e.store = st
	default:
		tb.Fatalf("unknown store %q", kind)
	}
	e.files = files.New(e.pool, e.store, files.Config{DefaultQuota: 100 << 20})
	e.files.Now = e.clock.Now
	e.shares = shares.New(e.pool, e.store, e.files, ratelimit.New(e.pool), shares.Config{
		BaseURL: "https://share.example", Argon2: cheapArgon2, DownloadURLTTL: time.Minute,
	})
	e.shares.Now = e.clock.Now
	return e
}

// user makes an account and returns its id.
func (e *env) user(tb testing.TB, name string) string {
	tb.Helper()
	var id string
	email := strings.ToLower(name) + "-" + randomHex(4) + "@example.com"
	if err := e.pool.QueryRow(context.Background(),
		`INSERT INTO users (email, display_name, password_hash) VALUES ($1, $2, 'x') RETURNING id`, email, name).Scan(&id); err != nil {
		tb.Fatal(err)
	}
	return id
}

// upload stores data as name in folder through the upload protocol.
func (e *env) upload(tb testing.TB, owner, folder, name string, data []byte) files.File {
	tb.Helper()
	ctx := context.Background()
	urls, err := e.files.InitiateUpload(ctx, owner, files.InitiateInput{Name: name, Size: int64(len(data)), ContentType: "text/plain", FolderID: folder})
	if err != nil {
		tb.Fatalf("initiate %q: %v", name, err)
	}
	if res := blobtest.Do(tb, blob.Request{Method: http.MethodPut, URL: urls.URL, Header: urls.Header}, data); res.Status != http.StatusOK {
		tb.Fatalf("PUT %q: %d %s", name, res.Status, res.Body)
	}
	f, err := e.files.CompleteUpload(ctx, owner, urls.Upload.ID, files.CompleteInput{})
	if err != nil {
		tb.Fatalf("complete %q: %v", name, err)
	}
	return f
}

func (e *env) folder(tb testing.TB, owner, parent, name string) files.Folder {
	tb.Helper()
	f, err := e.files.CreateFolder(context.Background(), owner, files.CreateFolderInput{ParentID: parent, Name: name})
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

func (e *env) create(tb testing.TB, owner string, in shares.CreateInput) shares.Link {
	tb.Helper()
	l, err := e.shares.Create(context.Background(), owner, in)
	if err != nil {
		tb.Fatalf("create link: %v", err)
	}
	return l
}

// fetch GETs a download URL and returns the status and body.
func fetch(tb testing.TB, url string) (int, []byte) {
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
	return res.StatusCode, b
}

// anyone is a visitor without unlocks.
var anyone = shares.Visitor{ClientIP: "192.0.2.10"}

// holding is a visitor holding u.
func holding(u shares.Unlock) shares.Visitor {
	return shares.Visitor{ClientIP: "192.0.2.10", Unlock: func(id string) shares.Unlock {
		if id == u.ID {
			return u
		}
		return shares.Unlock{}
	}}
}

func wantCode(tb testing.TB, err error, code apperr.Code) {
	tb.Helper()
	if got := apperr.CodeOf(err); got != code {
		tb.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func ptr[T any](v T) *T { return &v }
