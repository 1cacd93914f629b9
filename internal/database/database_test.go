package database_test

import (
	"context"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/database"
	"github.com/weupload/weupload/internal/database/dbtest"
	"github.com/weupload/weupload/migrations"
)

// TestMigrateUpDownUp checks every migration reverses cleanly and reapplies.
func TestMigrateUpDownUp(t *testing.T) {
	pool := dbtest.New(t) // already migrated up
	ctx := context.Background()
	logf := func(s string) { t.Log(s) }
	for {
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM goose_db_version WHERE version_id > 0 AND is_applied").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if err := database.Migrate(ctx, pool, "down", logf); err != nil {
			t.Fatalf("down: %v", err)
		}
	}
	var tables int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'goose_db_version' AND tablename NOT LIKE 'river%'").Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Fatalf("after all downs %d tables remain", tables)
	}
	if err := database.Migrate(ctx, pool, "up", logf); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if _, err := pool.Exec(ctx, "SELECT id, email, auth_epoch FROM users LIMIT 1"); err != nil {
		t.Fatalf("users after re-up: %v", err)
	}
}

// TestMigrateConcurrent runs several migrators at once on an empty database,
// each with its own pool like separate processes: all succeed and every
// migration is applied exactly once (the session lock serialises them).
func TestMigrateConcurrent(t *testing.T) {
	dbURL := dbtest.NewURL(t)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	// Down to an empty schema: the pool from dbtest is already migrated.
	for {
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM goose_db_version WHERE version_id > 0 AND is_applied").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if err := database.Migrate(ctx, pool, "down", func(string) {}); err != nil {
			t.Fatalf("down: %v", err)
		}
	}
	if _, err := pool.Exec(ctx, "DROP TABLE goose_db_version"); err != nil {
		t.Fatal(err)
	}
	// And River's tables, which down leaves alone: removed with River's
	// migrator, as only it knows them.
	river, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := river.Migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: -1}); err != nil {
		t.Fatalf("river down: %v", err)
	}

	const migrators = 4
	errs := make(chan error, migrators)
	for range migrators {
		go func() {
			p, err := pgxpool.New(ctx, dbURL)
			if err != nil {
				errs <- err
				return
			}
			defer p.Close()
			errs <- database.Migrate(ctx, p, "up", func(string) {})
		}()
	}
	for range migrators {
		if err := <-errs; err != nil {
			t.Errorf("concurrent migrate up: %v", err)
		}
	}
	var applied, distinct, files int
	if err := pool.QueryRow(ctx, "SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0 AND is_applied").Scan(&applied, &distinct); err != nil {
		t.Fatal(err)
	}
	entries, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	files = len(entries)
	if applied != files || distinct != files {
		t.Fatalf("goose_db_version has %d applied rows (%d distinct) for %d migrations", applied, distinct, files)
	}
	var riverRows, riverDistinct int
	if err := pool.QueryRow(ctx, "SELECT count(*), count(DISTINCT version) FROM river_migration").Scan(&riverRows, &riverDistinct); err != nil {
		t.Fatal(err)
	}
	if want := len(river.AllVersions()); riverRows != want || riverDistinct != want {
		t.Fatalf("river_migration has %d rows (%d distinct) for %d migrations", riverRows, riverDistinct, want)
	}
}

// TestMigrateRiverKeptOnDown checks River's tables come with up and stay
// through our downs (they hold the queued jobs).
func TestMigrateRiverKeptOnDown(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	if err := database.Migrate(ctx, pool, "down", func(string) {}); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "SELECT id, kind, state FROM river_job LIMIT 1"); err != nil {
		t.Fatalf("river_job after down: %v", err)
	}
	var lines []string
	if err := database.Migrate(ctx, pool, "status", func(s string) { lines = append(lines, s) }); err != nil {
		t.Fatal(err)
	}
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "river ") || !strings.HasSuffix(last, "applied") {
		t.Fatalf("status ends with %q, want an applied river migration", last)
	}
}

func TestIsUniqueViolation(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	ins := "INSERT INTO users (email, display_name, password_hash) VALUES ('a@example.com', 'A', 'x')"
	if _, err := pool.Exec(ctx, ins); err != nil {
		t.Fatal(err)
	}
	_, err := pool.Exec(ctx, ins)
	if !database.IsUniqueViolation(err, "users_email_key") {
		t.Fatalf("want unique violation on users_email_key, got %v", err)
	}
	if apperr.Unreachable(err) != "" {
		t.Fatal("a constraint error is not unavailability")
	}
}

func TestOpenUnreachable(t *testing.T) {
	_, err := database.Open(context.Background(), "postgres://u:secret@127.0.0.1:1/db", database.Options{})
	if err == nil {
		t.Fatal("want error for unreachable database")
	}
	if got := err.Error(); strings.Contains(got, "secret") {
		t.Fatalf("error leaks the password: %s", got)
	}
}

// TestLockTimeout: every connection of the pool gives up waiting for a lock
// after Options.LockTimeout, with an error answered as unavailable (503),
// instead of holding its connection until the statement timeout.
func TestLockTimeout(t *testing.T) {
	cfg, err := database.PoolConfig(dbtest.NewURL(t), database.Options{MaxConns: 2, StatementTimeout: 10 * time.Second, LockTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ctx := t.Context()
	if _, err := pool.Exec(ctx, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT 1 FROM t WHERE id = 1 FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = pool.Exec(ctx, "SELECT 1 FROM t WHERE id = 1 FOR UPDATE")
	if took := time.Since(start); err == nil || took > 2*time.Second {
		t.Fatalf("second lock: %v after %s, want lock timeout after 200ms", err, took)
	}
	if apperr.Unreachable(err) == "" {
		t.Fatalf("a lock timeout is answered as unavailable: %v", err)
	}
}
