package scan_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/scan"
	"github.com/weupload/weupload/internal/scan/clamdtest"
	"github.com/weupload/weupload/internal/svctest"
)

type env struct {
	*svctest.Env
	files *files.Service
	scan  *scan.Service
	clamd *clamdtest.Server
}

func newEnv(t *testing.T, kind string) *env {
	t.Helper()
	e := &env{Env: svctest.New(t, kind), clamd: clamdtest.Start(t)}
	e.files = e.Files(files.Config{Scan: scan.ModeRequired.Policy(false)})
	e.scan = scan.New(e.files, e.Store, &scan.Clamd{Addr: e.clamd.Addr, Timeout: 10 * time.Second}, slog.New(slog.DiscardHandler))
	return e
}

func (e *env) state(t *testing.T, owner, id string) files.File {
	t.Helper()
	f, err := e.files.FindFile(context.Background(), owner, id)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestScanFile runs the whole scan on both stores against a real clamd
// with the test database: EICAR and the custom marker are found (with
// their signatures), plain bytes are clean, a stream over clamd's limit
// is skipped; only clean files are served.
func TestScanFile(t *testing.T) {
	svctest.EachStore(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		ctx := context.Background()
		ann := e.User(t, "ann")
		big := svctest.RandomBytes(clamdtest.StreamMaxLength + 1)
		tests := []struct {
			name string
			data []byte
			want files.ScanState
			sig  string
		}{
			{"eicar", []byte(clamdtest.EICAR), files.ScanInfected, clamdtest.EICARSignature},
			{"custom marker", append(svctest.RandomBytes(200<<10), []byte(clamdtest.Custom)...), files.ScanInfected, clamdtest.CustomSignature},
			{"clean", []byte("hello, world\n"), files.ScanClean, ""},
			{"empty", nil, files.ScanClean, ""},
			{"larger than the limit", big, files.ScanSkipped, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := svctest.Upload(t, e.files, ann, "", tt.name+".bin", tt.data)
				if f.ScanState != files.ScanPending {
					t.Fatalf("new file state = %q, want pending", f.ScanState)
				}
				_, err := e.files.DownloadURL(ctx, ann, f.ID)
				svctest.WantCode(t, err, apperr.Conflict)
				if err := e.scan.ScanFile(ctx, f.ID); err != nil {
					t.Fatal(err)
				}
				got := e.state(t, ann, f.ID)
				if got.ScanState != tt.want || got.ScanSignature != tt.sig || got.ScannedAt == nil {
					t.Fatalf("after scan: %q %q %v, want %q %q", got.ScanState, got.ScanSignature, got.ScannedAt, tt.want, tt.sig)
				}
				_, err = e.files.DownloadURL(ctx, ann, f.ID)
				if tt.want == files.ScanClean {
					if err != nil {
						t.Fatalf("download of a clean file: %v", err)
					}
				} else {
					svctest.WantCode(t, err, apperr.Conflict)
				}
				// Idempotent: a second run changes nothing.
				if err := e.scan.ScanFile(ctx, f.ID); err != nil {
					t.Fatal(err)
				}
				if again := e.state(t, ann, f.ID); again.ScanState != tt.want || !again.ScannedAt.Equal(*got.ScannedAt) {
					t.Fatalf("second scan changed the file: %+v", again)
				}
			})
		}
	})
}

// TestScanClamdDown stops clamd: the scan fails with ErrRetry and the
// file stays pending (never clean, never served); once clamd is back the
// same call makes it clean. Concurrent scans of one file record once.
func TestScanClamdDown(t *testing.T) {
	e := newEnv(t, "disk")
	ctx := context.Background()
	ann := e.User(t, "ann")
	f := svctest.Upload(t, e.files, ann, "", "a.txt", []byte("plain text"))
	e.clamd.Stop()
	for range 2 {
		err := e.scan.ScanFile(ctx, f.ID)
		if !errors.Is(err, scan.ErrRetry) {
			t.Fatalf("scan with clamd down = %v, want ErrRetry", err)
		}
	}
	if got := e.state(t, ann, f.ID); got.ScanState != files.ScanPending {
		t.Fatalf("state with clamd down = %q, want pending", got.ScanState)
	}
	todo, err := e.scan.ToDo(ctx, 10)
	if err != nil || len(todo) != 1 || todo[0] != f.ID {
		t.Fatalf("ToDo = %v, %v; want [%s]", todo, err, f.ID)
	}
	_, err = e.files.DownloadURL(ctx, ann, f.ID)
	svctest.WantCode(t, err, apperr.Conflict)

	e.clamd.Restart()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() { errs <- e.scan.ScanFile(ctx, f.ID) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := e.state(t, ann, f.ID); got.ScanState != files.ScanClean {
		t.Fatalf("state after clamd returned = %q, want clean", got.ScanState)
	}
	if todo, _ := e.scan.ToDo(ctx, 10); len(todo) != 0 {
		t.Fatalf("ToDo after the scan = %v", todo)
	}
}

// TestScanGiveUp: the job's last attempt records failed, which admins
// list; a file that was scanned meanwhile keeps its outcome.
func TestScanGiveUp(t *testing.T) {
	e := newEnv(t, "disk")
	ctx := context.Background()
	ann := e.User(t, "ann")
	f := svctest.Upload(t, e.files, ann, "", "a.txt", []byte("x"))
	if err := e.scan.GiveUp(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.state(t, ann, f.ID); got.ScanState != files.ScanFailed {
		t.Fatalf("state = %q, want failed", got.ScanState)
	}
	if _, err := e.files.ScanIssues(ctx, ann, 10); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("ScanIssues for a non-admin: %v, want NotFound", err)
	}
	admin := e.User(t, "admin")
	if _, err := e.Pool.Exec(ctx, "UPDATE users SET is_admin = true WHERE id = $1", admin); err != nil {
		t.Fatal(err)
	}
	issues, err := e.files.ScanIssues(ctx, admin, 10)
	if err != nil || len(issues) != 1 || issues[0].ID != f.ID || !strings.HasPrefix(issues[0].OwnerEmail, "ann") {
		t.Fatalf("ScanIssues = %+v, %v", issues, err)
	}
	if err := e.scan.ScanFile(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.state(t, ann, f.ID); got.ScanState != files.ScanFailed {
		t.Fatalf("a later scan changed a failed file to %q", got.ScanState)
	}
}

// TestClamdMemory scans a stream far larger than the chunk through the
// client against clamd's limit: the reader is consumed in fixed chunks
// (never read whole) and the verdict is skipped.
func TestClamdStream(t *testing.T) {
	s := clamdtest.Start(t)
	c := &scan.Clamd{Addr: s.Addr, Timeout: 10 * time.Second}
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	r := &countingReader{r: io.LimitReader(zeros{}, 64<<20)}
	v, err := c.Scan(ctx, r)
	if err != nil || !v.TooLarge {
		t.Fatalf("Scan(64 MiB) = %+v, %v; want too large", v, err)
	}
	if r.max > 64<<10 {
		t.Fatalf("largest read %d bytes, want at most one 64 KiB chunk", r.max)
	}
	v, err = c.Scan(ctx, bytes.NewReader([]byte(clamdtest.EICAR)))
	if err != nil || !v.Infected || v.Signature != clamdtest.EICARSignature {
		t.Fatalf("Scan(EICAR) = %+v, %v", v, err)
	}
	s.Stop()
	if _, err := c.Scan(ctx, bytes.NewReader([]byte("x"))); !errors.Is(err, scan.ErrUnreachable) {
		t.Fatalf("Scan with clamd stopped = %v, want ErrUnreachable", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

type countingReader struct {
	r   io.Reader
	max int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.max = max(c.max, len(p))
	return c.r.Read(p)
}
