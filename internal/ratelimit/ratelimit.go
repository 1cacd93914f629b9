// Package ratelimit counts events per key in fixed windows stored in
// PostgreSQL, so every app instance sees the same counts (login attempts,
// share-link passwords).
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weupload/weupload/internal/apperr"
)

// Rule allows Limit events per Window for one key.
type Rule struct {
	Limit  int
	Window time.Duration
}

// Limiter checks and counts events.
type Limiter struct {
	pool *pgxpool.Pool
	Now  func() time.Time
}

// New returns a Limiter on pool.
func New(pool *pgxpool.Pool) *Limiter {
	return &Limiter{pool: pool, Now: time.Now}
}

// Check returns an apperr.TooMany error when key has used up its rule in the
// current window. It counts nothing.
func (l *Limiter) Check(ctx context.Context, key string, r Rule) error {
	var hits int
	var end time.Time
	now := l.Now()
	err := l.pool.QueryRow(ctx, `SELECT hits, window_end FROM throttles WHERE key = $1 AND window_end > $2`, key, now).Scan(&hits, &end)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("ratelimit: check %s: %w", key, err)
	}
	if hits >= r.Limit {
		return apperr.Throttled(end.Sub(now))
	}
	return nil
}

// Hit counts one event for key, starting a new window when the last one ended.
func (l *Limiter) Hit(ctx context.Context, key string, r Rule) error {
	_, _, err := l.count(ctx, key, r)
	return err
}

// Take checks and counts in one step: it refuses when the rule is used up,
// otherwise counts the event. For limits on every call (API requests, lookups).
func (l *Limiter) Take(ctx context.Context, key string, r Rule) error {
	hits, end, err := l.count(ctx, key, r)
	if err != nil {
		return err
	}
	if hits > r.Limit {
		return apperr.Throttled(end.Sub(l.Now()))
	}
	return nil
}

// count adds one to key's window (a new window when the last one ended) and
// returns the window's count and end, atomically across instances.
func (l *Limiter) count(ctx context.Context, key string, r Rule) (int, time.Time, error) {
	var hits int
	var end time.Time
	err := l.pool.QueryRow(ctx, `
		INSERT INTO throttles (key, hits, window_end) VALUES ($1, 1, $2::timestamptz + $3::interval)
		ON CONFLICT (key) DO UPDATE SET
			hits = CASE WHEN throttles.window_end <= $2 THEN 1 ELSE throttles.hits + 1 END,
			window_end = CASE WHEN throttles.window_end <= $2 THEN $2::timestamptz + $3::interval ELSE throttles.window_end END
		RETURNING hits, window_end`, key, l.Now(), r.Window).Scan(&hits, &end)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("ratelimit: count %s: %w", key, err)
	}
	return hits, end, nil
}

// Reset forgets key's count (a successful login clears its failures).
func (l *Limiter) Reset(ctx context.Context, key string) error {
	if _, err := l.pool.Exec(ctx, `DELETE FROM throttles WHERE key = $1`, key); err != nil {
		return fmt.Errorf("ratelimit: reset %s: %w", key, err)
	}
	return nil
}

// Sweep deletes windows that ended before now; run it from a periodic job.
func (l *Limiter) Sweep(ctx context.Context) (int64, error) {
	tag, err := l.pool.Exec(ctx, `DELETE FROM throttles WHERE window_end <= $1`, l.Now())
	if err != nil {
		return 0, fmt.Errorf("ratelimit: sweep: %w", err)
	}
	return tag.RowsAffected(), nil
}
