package database_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weupload/weupload/internal/database"
	"github.com/weupload/weupload/internal/database/dbtest"
)

// terminateOnce kills, from a connection of its own, the first backend it
// sees running a statement that contains marker, and reports the pid.
func terminateOnce(t *testing.T, pool *pgxpool.Pool, marker string) <-chan error {
	t.Helper()
	ctx := context.Background()
	killer, err := pgx.Connect(ctx, pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		defer killer.Close(ctx)
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			var killed bool
			err := killer.QueryRow(ctx, `
				SELECT coalesce(bool_or(pg_terminate_backend(pid)), false) FROM pg_stat_activity
				WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'
				  AND strpos(query, $1) > 0`, marker).Scan(&killed)
			if err != nil || killed {
				done <- err
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		done <- errors.New("no backend ran the statement")
	}()
	return done
}

// TestRetryAfterTerminate ends the backend of a statement in flight with
// pg_terminate_backend, as a failover or an administrator would: a read is
// run again on another connection and succeeds; a write is not repeated.
func TestRetryAfterTerminate(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE TABLE probe (n int)`); err != nil {
		t.Fatal(err)
	}

	t.Run("read without retry fails", func(t *testing.T) {
		killed := terminateOnce(t, pool, "/* victim-plain */")
		var n int
		err := pool.QueryRow(ctx, `SELECT /* victim-plain */ count(*) FROM pg_sleep(1), probe`).Scan(&n)
		if kerr := <-killed; kerr != nil {
			t.Fatal(kerr)
		}
		if err == nil {
			t.Fatal("the read survived its backend being terminated; the test shows nothing")
		}
		if !database.ConnectionLost(err) {
			t.Fatalf("ConnectionLost(%v) = false", err)
		}
		t.Logf("error without retry: %v", err)
	})

	t.Run("read is retried", func(t *testing.T) {
		killed := terminateOnce(t, pool, "/* victim-read */")
		attempts := 0
		var n int
		err := database.RetryRead(ctx, func(ctx context.Context) error {
			attempts++
			return pool.QueryRow(ctx, `SELECT /* victim-read */ count(*) FROM pg_sleep(1), probe`).Scan(&n)
		})
		if kerr := <-killed; kerr != nil {
			t.Fatal(kerr)
		}
		if err != nil {
			t.Fatalf("RetryRead: %v", err)
		}
		if attempts != 2 {
			t.Fatalf("attempts = %d, want 2 (one lost, one on a new connection)", attempts)
		}
	})

	t.Run("statement errors are not retried", func(t *testing.T) {
		attempts := 0
		err := database.RetryRead(ctx, func(ctx context.Context) error {
			attempts++
			var n int
			return pool.QueryRow(ctx, `SELECT n FROM probe WHERE n = 42`).Scan(&n)
		})
		if !errors.Is(err, pgx.ErrNoRows) || attempts != 1 {
			t.Fatalf("err = %v after %d attempts, want no rows after 1", err, attempts)
		}
		slow, err := database.Open(ctx, pool.Config().ConnString(), database.Options{StatementTimeout: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer slow.Close()
		attempts = 0
		err = database.RetryRead(ctx, func(ctx context.Context) error {
			attempts++
			_, err := slow.Exec(ctx, `SELECT pg_sleep(0.5)`)
			return err
		})
		if err == nil || attempts != 1 || !strings.Contains(err.Error(), "57014") {
			t.Fatalf("err = %v after %d attempts, want a statement timeout after 1", err, attempts)
		}
	})
}

// unsent is an error that pgconn.SafeToRetry accepts: it happened before
// anything was sent.
type unsent struct{}

func (unsent) Error() string     { return "could not acquire a connection" }
func (unsent) SafeToRetry() bool { return true }

// TestRetryAttempts: a failure before anything was sent (as when no
// connection can be acquired) counts as lost; at most three attempts, and
// none more once the context ended.
func TestRetryAttempts(t *testing.T) {
	ctx := context.Background()
	attempts := 0
	err := database.RetryRead(ctx, func(context.Context) error {
		attempts++
		if attempts < 3 {
			return fmt.Errorf("files: initiate: %w", unsent{})
		}
		return nil
	})
	if err != nil || attempts != 3 {
		t.Fatalf("err = %v after %d attempts, want success on the third", err, attempts)
	}

	attempts = 0
	err = database.RetryRead(ctx, func(context.Context) error {
		attempts++
		return unsent{}
	})
	if err == nil || attempts != 3 {
		t.Fatalf("err = %v after %d attempts, want an error after 3", err, attempts)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	attempts = 0
	_ = database.RetryRead(cctx, func(context.Context) error {
		attempts++
		return io.ErrUnexpectedEOF
	})
	if attempts != 1 {
		t.Fatalf("attempts with a cancelled context = %d, want 1", attempts)
	}
}

func TestConnectionLost(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"terminated", fmt.Errorf("auth: find user: %w", &pgconn.PgError{Code: "57P01"}), true},
		{"crash shutdown", &pgconn.PgError{Code: "57P02"}, true},
		{"starting up", &pgconn.PgError{Code: "57P03"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"socket closed", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{"conn closed", pgconn.ErrConnClosed, true},
		{"nothing sent", unsent{}, true},
		{"statement timeout", &pgconn.PgError{Code: "57014"}, false},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"no rows", pgx.ErrNoRows, false},
		{"cancelled", context.Canceled, false},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := database.ConnectionLost(tt.err); got != tt.want {
				t.Errorf("ConnectionLost(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
