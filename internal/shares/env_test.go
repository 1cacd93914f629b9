package shares_test

import (
	"context"
	"testing"
	"time"

	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/password"
	"github.com/weupload/weupload/internal/ratelimit"
	"github.com/weupload/weupload/internal/shares"
	"github.com/weupload/weupload/internal/svctest"
)

// env is a shares.Service with the files service it shares from, on the
// shared service-test environment (a fresh database and a real store on
// one settable clock).
type env struct {
	*svctest.Env
	files  *files.Service
	shares *shares.Service
}

// cheapArgon2 keeps password tests fast; production uses password.Default.
var cheapArgon2 = password.Params{Memory: 64, Time: 1, Threads: 1}

func newEnv(tb testing.TB, kind string) *env {
	tb.Helper()
	e := &env{Env: svctest.New(tb, kind)}
	e.files = e.Files(files.Config{DefaultQuota: 100 << 20})
	e.shares = shares.New(e.Pool, e.Store, e.files, ratelimit.New(e.Pool), shares.Config{
		BaseURL: "https://share.example", Argon2: cheapArgon2, DownloadURLTTL: time.Minute,
	})
	e.shares.Now = e.Clock.Now
	return e
}

// upload stores data as name in folder through the upload protocol.
func (e *env) upload(tb testing.TB, owner, folder, name string, data []byte) files.File {
	tb.Helper()
	return svctest.Upload(tb, e.files, owner, folder, name, data)
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
	res, b := svctest.Fetch(tb, url)
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

func ptr[T any](v T) *T { return &v }
