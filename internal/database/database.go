// Package database opens the PostgreSQL pool, applies the embedded migrations
// and classifies driver errors, so the rest of the code never imports goose or
// inspects pgconn errors itself.
package database

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/weupload/weupload/migrations"
)

// Options tune the pool.
type Options struct {
	MaxConns         int32
	StatementTimeout time.Duration
	// LockTimeout bounds how long a statement waits for a row or advisory
	// lock; zero means DefaultLockTimeout, capped by StatementTimeout.
	LockTimeout time.Duration
	// Wait is how long Open keeps retrying an unreachable database before it
	// gives up; zero tries once.
	Wait   time.Duration
	Logger *slog.Logger
}

// DefaultLockTimeout is the lock wait of Options.LockTimeout's zero value.
// Our transactions hold row locks for milliseconds; a wait this long means
// something is stuck, and failing it (55P03, answered 503 with Retry-After)
// frees the connection for everyone else sooner than the statement timeout.
const DefaultLockTimeout = 5 * time.Second

// PoolConfig is the pool configuration Open uses: the URL's settings plus
// the options and the session settings every connection gets. The
// benchmarks start from it too, so they measure what the app runs.
func PoolConfig(url string, o Options) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, errors.New("database: DATABASE_URL is not a valid PostgreSQL connection string")
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	if o.StatementTimeout > 0 {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(o.StatementTimeout.Milliseconds(), 10)
	}
	// pgx prepares every statement once per connection; after five runs
	// PostgreSQL may switch a prepared statement to a generic plan, made
	// without the parameter values. Ours are skewed (one folder of 40,000
	// files next to folders of 10; a two-letter search pattern next to a
	// long one), and the generic plans were 40-300x slower there: listing a
	// big folder by name sorted the whole folder (42 ms instead of 0.2 ms)
	// and short searches scanned the trigram index of every account.
	// Planning each execution with its values costs ~0.1 ms.
	// docs/benchmarks.md, "Hot query plans at 1M files / 1k users".
	lockTimeout := o.LockTimeout
	if lockTimeout <= 0 {
		lockTimeout = DefaultLockTimeout
	}
	if o.StatementTimeout > 0 {
		lockTimeout = min(lockTimeout, o.StatementTimeout)
	}
	cfg.ConnConfig.RuntimeParams["lock_timeout"] = strconv.FormatInt(lockTimeout.Milliseconds(), 10)
	cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	return cfg, nil
}

// Open connects to PostgreSQL, retrying with backoff for up to o.Wait, and
// returns a pool configured by PoolConfig.
func Open(ctx context.Context, url string, o Options) (*pgxpool.Pool, error) {
	cfg, err := PoolConfig(url, o)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	deadline := time.Now().Add(o.Wait)
	delay := 250 * time.Millisecond
	for {
		err = pool.Ping(ctx)
		if err == nil {
			return pool, nil
		}
		if time.Now().Add(delay).After(deadline) || ctx.Err() != nil {
			pool.Close()
			return nil, fmt.Errorf("database: cannot reach %s:%d: %s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, briefCause(err))
		}
		if o.Logger != nil {
			o.Logger.Info("waiting for database", "host", cfg.ConnConfig.Host, "retry_in", delay.String(), "err", briefCause(err))
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
		}
		delay = min(delay*2, 5*time.Second)
	}
}

// briefCause keeps the innermost message: pgx's connect errors repeat the
// whole DSN-derived context, which is noise in a one-line start-up error.
func briefCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if multi, ok := err.(interface{ Unwrap() []error }); ok && len(multi.Unwrap()) > 0 {
			next = multi.Unwrap()[0] // pgx joins one error per address tried
		}
		if next == nil {
			msg, _, _ := strings.Cut(err.Error(), "\n")
			return msg
		}
		err = next
	}
}

// Migrations wait this long, polling once a second, for another migrator to
// finish: longer than the slowest migration a deploy allows (deploy.sh's
// MIGRATE_TIMEOUT is 15 minutes).
const (
	migrateLockPoll  = 1    // seconds
	migrateLockPolls = 1200 // 20 minutes
)

// Migrate applies (up), rolls back one step (down), or reports (status) the
// embedded migrations, then, for up and status, the job queue's tables
// (River's own migrations, see migrateRiver). Output lines go to log. Each
// run holds a PostgreSQL session advisory lock, so two migrators at once (a
// deploy and a person, or two servers starting, which migrate unless
// -no-migrate) run one after the other instead of both applying the same
// migration. Down rolls back our migrations only: River's tables hold the
// queued jobs, and dropping them is never one step back.
func Migrate(ctx context.Context, pool *pgxpool.Pool, command string, log func(string)) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(migrateLockPoll, migrateLockPolls))
	if err != nil {
		return fmt.Errorf("database: migrations lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("database: migrations: %w", err)
	}
	switch command {
	case "up":
		res, err := p.Up(ctx)
		for _, r := range res {
			log(r.String())
		}
		if err != nil {
			return fmt.Errorf("database: migrate up: %w", err)
		}
		if err := migrateRiver(ctx, pool, log); err != nil {
			return err
		}
	case "down":
		r, err := p.Down(ctx)
		if r != nil {
			log(r.String())
		}
		if err != nil {
			return fmt.Errorf("database: migrate down: %w", err)
		}
	case "status":
		st, err := p.Status(ctx)
		if err != nil {
			return fmt.Errorf("database: migrate status: %w", err)
		}
		for _, s := range st {
			applied := "pending"
			if s.State == goose.StateApplied {
				applied = "applied " + s.AppliedAt.Format(time.RFC3339)
			}
			log(fmt.Sprintf("%-40s %s", s.Source.Path, applied))
		}
		if err := riverStatus(ctx, pool, log); err != nil {
			return err
		}
	default:
		return fmt.Errorf("database: unknown migrate command %q (want up, down or status)", command)
	}
	return nil
}

// riverLockKey is the advisory lock River's migrations run under (the
// two-key form, so it cannot collide with one-key locks such as goose's).
const riverLockKey = 0x7775 // "wu"

// migrateRiver applies River's pending migrations (river_job and the
// queue's other tables) with River's own migrator, each in its own
// transaction (some add enum values that a later statement uses). It holds
// a session advisory lock of its own meanwhile, polled like goose's, so a
// second migrator waits, then finds nothing to do.
func migrateRiver(ctx context.Context, pool *pgxpool.Pool, log func(string)) error {
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("database: river migrations: %w", err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("database: river migrations lock: %w", err)
	}
	defer conn.Release()
	for polls := 0; ; polls++ {
		var got bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, 1)`, riverLockKey).Scan(&got); err != nil {
			return fmt.Errorf("database: river migrations lock: %w", err)
		}
		if got {
			break
		}
		if polls >= migrateLockPolls {
			return errors.New("database: river migrations lock: another migrator held it too long")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(migrateLockPoll * time.Second):
		}
	}
	defer func() {
		// Unlock on the same session; if that fails, end the session (and
		// its lock) instead of handing it back to the pool.
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock($1, 1)`, riverLockKey); err != nil {
			_ = conn.Conn().Close(uctx)
		}
	}()
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("database: river migrate up: %w", err)
	}
	for _, v := range res.Versions {
		log(fmt.Sprintf("OK   river %03d_%s (%s)", v.Version, v.Name, v.Duration.Round(time.Millisecond)))
	}
	return nil
}

// riverStatus reports which of River's migrations are applied.
func riverStatus(ctx context.Context, pool *pgxpool.Pool, log func(string)) error {
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("database: river migrations: %w", err)
	}
	existing, err := migrator.ExistingVersions(ctx)
	if err != nil {
		return fmt.Errorf("database: river migrate status: %w", err)
	}
	applied := map[int]bool{}
	for _, m := range existing {
		applied[m.Version] = true
	}
	for _, m := range migrator.AllVersions() {
		state := "pending"
		if applied[m.Version] {
			state = "applied"
		}
		log(fmt.Sprintf("%-40s %s", fmt.Sprintf("river %03d_%s", m.Version, m.Name), state))
	}
	return nil
}

// Querier is what a pool and a transaction have in common, so store
// functions run the same inside and outside a transaction, and a service
// method given its caller's transaction works inside it (Begin on a
// transaction makes a savepoint: no second connection).
type Querier interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// IsUniqueViolation reports whether err is a unique-constraint violation on
// the named constraint (any constraint when name is empty).
func IsUniqueViolation(err error, name string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && (name == "" || pe.ConstraintName == name)
}

// ValidID reports whether s is a canonical UUID, the form of every id we
// make. Stores check it before querying, so a malformed id from a URL is
// simply not found instead of a query error.
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F'):
			return false
		}
	}
	return true
}

// InTx runs fn in a transaction on q, committed when fn returns nil and
// rolled back otherwise. On a pool, a transaction that PostgreSQL aborted as
// a deadlock or serialization victim (possible when bulk operations lock
// folders in different orders) is run again, up to three times in all. On a
// transaction, fn runs in a savepoint of it, on the same connection, and is
// never repeated: the caller owns the outer transaction and its retries.
func InTx(ctx context.Context, q Querier, fn func(tx pgx.Tx) error) error {
	_, nested := q.(pgx.Tx)
	for attempt := 1; ; attempt++ {
		err := pgx.BeginFunc(ctx, q, fn)
		var pe *pgconn.PgError
		if !nested && attempt < 3 && errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001") {
			continue
		}
		return err
	}
}
