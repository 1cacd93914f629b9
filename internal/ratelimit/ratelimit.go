// Package ratelimit counts events per key in fixed windows stored in
// PostgreSQL, so every app instance sees the same counts (login attempts,
// share-link passwords). Keys are stored as SHA-256 digests: a key of any
// length (an email, a token) fits the table and none is kept in clear.
package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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

// Attempt is one key and its rule, for TakeAll and Refund.
type Attempt struct {
	Key  string
	Rule Rule
}

// dbKey is what the table stores for key; errors name a key by a prefix of
// it, so no email or token reaches a log line.
func dbKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Check returns an apperr.TooMany error when key has used up its rule in the
// current window. It counts nothing, so a check followed by work and a Hit
// lets concurrent callers all pass: guard costly work with Take or TakeAll.
func (l *Limiter) Check(ctx context.Context, key string, r Rule) error {
	var hits int
	var end time.Time
	now := l.Now()
	err := l.pool.QueryRow(ctx, `SELECT hits, window_end FROM throttles WHERE key = $1 AND window_end > $2`, dbKey(key), now).Scan(&hits, &end)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("ratelimit: check %s: %w", dbKey(key)[:16], err)
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

// TakeAll takes one event from each attempt's key, in order, before the
// work they guard (a password check): the count is incremented and read in
// one statement, so concurrent callers cannot all pass a check and count
// later. When one refuses, every event it took, the refused one included,
// is given back (a refused try is not an attempt: a burst over the limit
// leaves the count at the limit) and the refusal returned. Give them back
// with Refund when the attempt must not count (it succeeded, or was not
// tried). Errors: TooMany.
func (l *Limiter) TakeAll(ctx context.Context, as ...Attempt) error {
	for i, a := range as {
		if err := l.Take(ctx, a.Key, a.Rule); err != nil {
			if !apperr.Is(err, apperr.TooMany) {
				i-- // nothing was counted for a
			}
			if rerr := l.Refund(ctx, as[:i+1]...); rerr != nil {
				return errors.Join(err, rerr)
			}
			return err
		}
	}
	return nil
}

// Refund gives back one event to each attempt's key in its current window.
func (l *Limiter) Refund(ctx context.Context, as ...Attempt) error {
	for _, a := range as {
		if _, err := l.pool.Exec(ctx, `UPDATE throttles SET hits = hits - 1 WHERE key = $1 AND hits > 0 AND window_end > $2`, dbKey(a.Key), l.Now()); err != nil {
			return fmt.Errorf("ratelimit: refund %s: %w", dbKey(a.Key)[:16], err)
		}
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
		RETURNING hits, window_end`, dbKey(key), l.Now(), r.Window).Scan(&hits, &end)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("ratelimit: count %s: %w", dbKey(key)[:16], err)
	}
	return hits, end, nil
}

// Reset forgets key's count (a successful login clears its failures).
func (l *Limiter) Reset(ctx context.Context, key string) error {
	if _, err := l.pool.Exec(ctx, `DELETE FROM throttles WHERE key = $1`, dbKey(key)); err != nil {
		return fmt.Errorf("ratelimit: reset %s: %w", dbKey(key)[:16], err)
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
