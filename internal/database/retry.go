package database

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Attempts a retried operation gets in all (the first try included), and
// the pause before each retry. The first retry is immediate: a connection
// the server closed is dropped by the pool, and the next one acquired is
// usually fine. The second waits a little, for a server that is restarting.
var retryDelays = []time.Duration{0, 100 * time.Millisecond}

// RetryRead runs fn, which must only read (a SELECT on the pool, never a
// statement inside a transaction, never one with side effects), and runs it
// again, at most twice, when it failed because the connection was lost: the
// server ended the session (pg_terminate_backend, shutdown, failover), the
// socket closed or reset, or nothing was sent at all. Reading again cannot
// change anything, so whether the lost attempt reached the server does not
// matter. Other errors (no rows, constraint, statement timeout, a cancelled
// context) are returned at once; the last error is returned when every
// attempt failed.
func RetryRead(ctx context.Context, fn func(ctx context.Context) error) error {
	err := fn(ctx)
	for _, d := range retryDelays {
		if err == nil || ctx.Err() != nil || !ConnectionLost(err) {
			return err
		}
		if d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return err
			}
		}
		err = fn(ctx)
	}
	return err
}

// ConnectionLost reports whether err means the connection to the server
// was lost or never made, as opposed to an error in the statement: a read
// that failed so may be run again on another connection. Timeouts and
// cancellations are not included (running a slow query again only doubles
// the load); neither is a context that has ended.
func ConnectionLost(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if pgconn.SafeToRetry(err) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// 57P01 admin shutdown (pg_terminate_backend, smart/fast stop),
		// 57P02 crash shutdown, 57P03 cannot connect now (starting up or
		// in recovery), class 08 connection exceptions.
		return pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" || pe.Code[:2] == "08"
	}
	if pgconn.Timeout(err) {
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNREFUSED) ||
		(errors.As(err, &ne) && !ne.Timeout())
}
