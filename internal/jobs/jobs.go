// Package jobs runs named periodic background jobs (sweepers) so that each
// runs on one app instance at a time: every run holds a PostgreSQL session
// advisory lock, taken with pg_try_advisory_lock on a connection of its own,
// and an instance that cannot take the lock skips that round. A crashed
// instance's lock goes with its connection.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Job is a named piece of periodic work.
type Job struct {
	// Name identifies the job across instances (its lock is derived from it).
	Name string
	// Every is the interval between runs on each instance.
	Every time.Duration
	// Run does one round of the work; it should stop when ctx ends. It
	// returns how many items it handled, for the log.
	Run func(ctx context.Context) (int, error)
}

// lockClass is the first key of the two-key advisory locks taken here, so
// they cannot collide with the one-key locks used elsewhere.
const lockClass = 0x7775 // "wu"

// Runner runs jobs periodically until Stop.
type Runner struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	jobs []Job
	// Timeout bounds one run of a job.
	Timeout time.Duration
	// Observe, when set, is told about every run: the job's name, the
	// result ("ok", "error", or "skipped" when another instance held the
	// lock) and how long it ran. The app feeds its metrics with it.
	Observe func(job, result string, d time.Duration)

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a runner for jobs on pool. Nothing runs until Start.
func New(pool *pgxpool.Pool, logger *slog.Logger, jobs ...Job) *Runner {
	return &Runner{pool: pool, log: logger, jobs: jobs, Timeout: 10 * time.Minute}
}

// Start runs every job in its own goroutine: first after a random part of
// its interval (so instances started together do not all try at once), then
// every interval. Call Stop to end them.
func (r *Runner) Start(ctx context.Context) {
	ctx, r.cancel = context.WithCancel(ctx)
	for _, j := range r.jobs {
		if j.Every <= 0 {
			j.Every = time.Minute
		}
		r.wg.Go(func() {
			delay := time.Duration(rand.Int64N(int64(j.Every)))
			for {
				select {
				case <-ctx.Done():
					return
				case <-time.After(delay):
				}
				if _, err := r.RunOnce(ctx, j); err != nil && ctx.Err() == nil {
					r.log.Error("job failed", "job", j.Name, "err", err)
				}
				delay = j.Every
			}
		})
	}
}

// Stop cancels the jobs in progress and waits for them to return.
func (r *Runner) Stop() {
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
}

// ErrBusy is returned by RunOnce when another runner holds the job's lock.
var ErrBusy = errors.New("jobs: running elsewhere")

// RunOnce runs j now if no other runner (on any instance) is running it,
// and returns what it handled; ErrBusy when another holds the lock.
func (r *Runner) RunOnce(ctx context.Context, j Job) (int, error) {
	start := time.Now()
	n, err := r.runOnce(ctx, j)
	if r.Observe != nil {
		result := "ok"
		switch {
		case errors.Is(err, ErrBusy):
			result = "skipped"
		case err != nil:
			result = "error"
		}
		r.Observe(j.Name, result, time.Since(start))
	}
	return n, err
}

// runOnce is RunOnce without the observer.
func (r *Runner) runOnce(ctx context.Context, j Job) (int, error) {
	conn, err := r.pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("jobs: %s: connection for the lock: %w", j.Name, err)
	}
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext($2))`, lockClass, j.Name).Scan(&got); err != nil {
		conn.Release()
		return 0, fmt.Errorf("jobs: %s: lock: %w", j.Name, err)
	}
	if !got {
		conn.Release()
		return 0, ErrBusy
	}
	defer func() {
		// Unlock on the same connection; if that fails, close it so the
		// session (and its lock) ends instead of going back to the pool.
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock($1, hashtext($2))`, lockClass, j.Name); err != nil {
			_ = conn.Conn().Close(uctx)
		}
		conn.Release()
	}()
	rctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	start := time.Now()
	n, err := j.Run(rctx)
	if err != nil {
		return n, fmt.Errorf("jobs: %s: %w", j.Name, err)
	}
	if n > 0 {
		r.log.Info("job done", "job", j.Name, "items", n, "duration_ms", time.Since(start).Milliseconds())
	}
	return n, nil
}
