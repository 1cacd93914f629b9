// Package dbtest gives each test a fresh, migrated PostgreSQL database.
//
// The server is TEST_DATABASE_URL when set (make test and CI start one);
// otherwise the first test in the binary starts a throw-away cluster with the
// machine's initdb and postgres, so `go test ./...` works from a clean clone.
// Migrations run once into a template database named after their content;
// every test then gets CREATE DATABASE ... TEMPLATE, dropped on cleanup.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/weupload/weupload/internal/database"
	"github.com/weupload/weupload/internal/testenv"
	"github.com/weupload/weupload/migrations"
)

var server struct {
	once sync.Once
	url  string // maintenance database URL
	err  error
}

// New returns a pool on a fresh migrated database, closed and dropped when
// the test ends.
func New(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	dbURL := NewURL(tb)
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	tb.Cleanup(pool.Close) // runs before the drop registered by NewURL
	return pool
}

// NewURL creates a fresh migrated database and returns its URL, for tests
// that open their own connections (the binary, a second app instance).
func NewURL(tb testing.TB) string {
	tb.Helper()
	base := serverURL(tb)
	tmpl, err := template(base)
	if err != nil {
		tb.Fatalf("dbtest: template database: %v", err)
	}
	name := "test_" + randomHex(8)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("dbtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s STRATEGY FILE_COPY", name, tmpl)); err != nil {
		tb.Fatalf("dbtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			tb.Errorf("dbtest: drop %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("dbtest: drop %s: %v", name, err)
		}
	})
	return withDatabase(base, name)
}

func serverURL(tb testing.TB) string {
	tb.Helper()
	server.once.Do(func() {
		if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
			server.url = u
			return
		}
		server.url, server.err = startCluster()
	})
	if server.err != nil {
		testenv.Missing(tb, "PostgreSQL", server.err.Error()+"; set TEST_DATABASE_URL or install the PostgreSQL server binaries (initdb, postgres)")
	}
	return server.url
}

// template makes (once per migration content, across concurrent test
// binaries) a migrated template database and returns its name.
func template(base string) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		h.Write([]byte(path))
		h.Write(b)
		return err
	})
	if err != nil {
		return "", err
	}
	// River's migrations (applied by database.Migrate after ours) are part
	// of the template too.
	river, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(h, "river:%d", len(river.AllVersions()))
	sum := h.Sum(nil)
	name := "weupload_tmpl_" + hex.EncodeToString(sum[:6])

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	// Serialise template creation between test binaries running in parallel.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(72616)"); err != nil {
		return "", err
	}
	defer conn.Exec(ctx, "SELECT pg_advisory_unlock(72616)")
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil || exists {
		return name, err
	}
	// Build under a temporary name and rename when complete, so a failed
	// migration never leaves a half-made template behind.
	building := name + "_building"
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return "", err
	}
	pool, err := pgxpool.New(ctx, withDatabase(base, building))
	if err != nil {
		return "", err
	}
	err = database.Migrate(ctx, pool, "up", func(string) {})
	pool.Close()
	if err != nil {
		return "", err
	}
	_, err = conn.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name)
	return name, err
}

// startCluster runs initdb and postgres in a temporary directory, as the
// postgres system user when we are root (initdb refuses root).
func startCluster() (string, error) {
	initdb, err := exec.LookPath("initdb")
	if err != nil {
		return "", err
	}
	postgres := filepath.Join(filepath.Dir(initdb), "postgres")
	if _, err := os.Stat(postgres); err != nil {
		if postgres, err = exec.LookPath("postgres"); err != nil {
			return "", err
		}
	}
	removeStaleClusters()
	dir, err := os.MkdirTemp("", "weupload-pg-")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return "", err
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return "", fmt.Errorf("running as root needs a postgres system user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			return "", err
		}
	}
	data := filepath.Join(dir, "data")
	cmd := exec.Command(initdb, "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("initdb: %v: %s", err, strings.TrimSpace(string(out)))
	}
	port, err := testenv.FreePort()
	if err != nil {
		return "", err
	}
	// Durability off: a test cluster trades crash safety for speed.
	cmd = exec.Command(postgres, "-D", data, "-p", strconv.Itoa(port), "-k", dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=200")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if err := testenv.StartDaemon(cmd, fmt.Sprintf("127.0.0.1:%d", port), 30*time.Second); err != nil {
		return "", err
	}
	u := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	// Accepting TCP is not yet accepting queries; wait for a real connection.
	for i := 0; ; i++ {
		c, err := pgx.Connect(context.Background(), u)
		if err == nil {
			c.Close(context.Background())
			return u, nil
		}
		if i > 100 {
			return "", err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// removeStaleClusters deletes clusters left by earlier test binaries. Each
// cluster directory names the test binary that made it (owner.pid); its
// postgres died with that binary (Pdeathsig), so a directory whose owner is
// gone is stale. A live owner may still be running initdb, however slowly.
func removeStaleClusters() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "weupload-pg-*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "owner.pid"))
		if err != nil {
			continue // not ours, or just being created
		}
		if pid, _ := strconv.Atoi(strings.TrimSpace(string(b))); pid > 0 && syscall.Kill(pid, 0) == nil {
			continue
		}
		_ = os.RemoveAll(d)
	}
}

func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		panic("dbtest: bad base URL: " + err.Error())
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
