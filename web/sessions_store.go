package main

import (
	"context"
	"errors"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// sessionStore is scs's pgx store (its table, its expiry sweep) with the
// context-taking methods scs prefers when a store has them: pgxstore's own
// run on context.Background, so a session load would wait for a pool
// connection past the request's deadline (and past the client). The SQL is
// pgxstore's, on the same sessions table.
type sessionStore struct {
	*pgxstore.PostgresStore
	pool *pgxpool.Pool
}

func newSessionStore(pool *pgxpool.Pool) sessionStore {
	// Each instance sweeps expired rows; the DELETE is idempotent, so several
	// instances doing it costs a little and breaks nothing.
	return sessionStore{PostgresStore: pgxstore.NewWithCleanupInterval(pool, 10*time.Minute), pool: pool}
}

// FindCtx returns the data of a live session.
func (s sessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var b []byte
	err := s.pool.QueryRow(ctx, `SELECT data FROM sessions WHERE token = $1 AND current_timestamp < expiry`, token).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	return b, err == nil, err
}

// CommitCtx saves a session.
func (s sessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3)
		ON CONFLICT (token) DO UPDATE SET data = EXCLUDED.data, expiry = EXCLUDED.expiry`, token, b, expiry)
	return err
}

// DeleteCtx ends a session.
func (s sessionStore) DeleteCtx(ctx context.Context, token string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE token = $1`, token)
	return err
}
