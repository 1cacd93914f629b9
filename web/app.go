package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"riverqueue.com/riverui"

	"github.com/weupload/weupload/internal/auth"
	"github.com/weupload/weupload/internal/config"
	"github.com/weupload/weupload/internal/database"
	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/jobs"
	"github.com/weupload/weupload/internal/password"
	"github.com/weupload/weupload/internal/ratelimit"
	"github.com/weupload/weupload/internal/scan"
	"github.com/weupload/weupload/internal/shares"
	"github.com/weupload/weupload/static"
)

// app holds the dependencies of the HTTP handlers. It is built once in
// newApp; handlers never reach for globals.
type app struct {
	cfg      config.Config
	log      *slog.Logger
	pool     *pgxpool.Pool
	sessions *scs.SessionManager
	assets   *static.Assets
	auth     *auth.Service
	ready    *readiness
	metrics  *metrics
	limiter  *ratelimit.Limiter
	// hasher bounds the argon2 work of every password hash and check.
	hasher *password.Hasher
	// apiRules are the JSON API's rate limits; tests lower them.
	apiRules apiRules
	// apiSpec is the API's OpenAPI document (/api/v1/openapi.json, /api/docs).
	apiSpec *apiSpec
	// blob is the object store; blob.handler serves the disk store's
	// signed /blob/ URLs (nil for S3).
	blob   blobStore
	files  *files.Service
	shares *shares.Service
	// scan is the virus scanner; nil when SCAN_MODE=off.
	scan *scan.Service
	// jobs is the River client of the background jobs (web/jobs.go);
	// jobsUI is River's queue UI under /admin/jobs.
	jobs   *jobs.Jobs
	jobsUI *riverui.Handler
}

// openDB connects with the configured pool settings, waiting a little for a
// database that is still starting.
func openDB(ctx context.Context, cfg config.Config, logger *slog.Logger) (*pgxpool.Pool, error) {
	return database.Open(ctx, cfg.DatabaseURL, database.Options{
		MaxConns:         cfg.DBMaxConns,
		StatementTimeout: cfg.DBStatementTimeout,
		Wait:             cfg.DBConnectWait,
		Logger:           logger,
	})
}

// newApp wires the services on an open pool. The caller owns the pool.
func newApp(cfg config.Config, logger *slog.Logger, pool *pgxpool.Pool) (*app, error) {
	assets, err := static.New()
	if err != nil {
		return nil, fmt.Errorf("static assets: %w", err)
	}
	limiter := ratelimit.New(pool)
	// One bound for the whole process: each argon2 run holds 19 MiB.
	slots := cfg.PasswordHashers
	if slots == 0 {
		slots = password.DefaultSlots()
	}
	hasher := password.NewHasher(password.Default, slots)
	authSvc, err := auth.NewService(pool, limiter, hasher)
	if err != nil {
		return nil, err
	}
	store, err := newBlobStore(cfg, logger)
	if err != nil {
		return nil, err
	}
	spec, err := loadAPISpec()
	if err != nil {
		return nil, err
	}
	m := newMetrics(pool)
	fcfg := filesConfig(cfg.Storage)
	fcfg.Limiter = limiter
	fcfg.Observe = m.observeUpload
	fcfg.Scan = scan.Mode(cfg.Scan.Mode).Policy(cfg.Scan.AllowSkipped)
	filesSvc := files.New(pool, store, fcfg)
	a := &app{
		cfg:      cfg,
		log:      logger,
		pool:     pool,
		sessions: newSessionManager(cfg, pool),
		assets:   assets,
		auth:     authSvc,
		metrics:  m,
		limiter:  limiter,
		hasher:   hasher,
		apiRules: defaultAPIRules(),
		apiSpec:  spec,
		blob:     store,
		files:    filesSvc,
		shares: shares.New(pool, store, filesSvc, limiter, shares.Config{
			BaseURL: cfg.BaseURL.String(), DownloadURLTTL: cfg.Storage.DownloadURLTTL,
			LimitedDownloadURLTTL: cfg.Storage.LimitedDownloadURLTTL, Hasher: hasher,
			LinkKey: cfg.LinkKey, LinkKeyPrevious: cfg.LinkKeyPrevious, Log: logger,
		}),
	}
	// A session store failure (database down) gets our error page, not scs's
	// plain-text 500.
	if fcfg.Scan.Enabled {
		clamd := &scan.Clamd{Addr: cfg.Scan.ClamdAddr, Timeout: cfg.Scan.ClamdTimeout}
		a.scan = scan.New(filesSvc, store, clamd, logger)
	}
	a.sessions.ErrorFunc = a.error
	a.ready = newReadiness(a.checkDependencies)
	if err := a.newJobs(); err != nil {
		return nil, err
	}
	return a, nil
}

func newSessionManager(cfg config.Config, pool *pgxpool.Pool) *scs.SessionManager {
	sm := scs.New()
	sm.Store = newSessionStore(pool)
	sm.IdleTimeout = cfg.SessionIdleTimeout
	sm.Lifetime = cfg.SessionLifetime
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Path = "/"
	sm.Cookie.Secure = cfg.SessionSecure
	sm.Cookie.Name = "weupload_session"
	if cfg.SessionSecure {
		// __Host-: the browser only accepts it Secure, host-only, Path=/.
		sm.Cookie.Name = "__Host-weupload_session"
	}
	return sm
}

// close stops the background work the app started.
func (a *app) close() {
	if s, ok := a.sessions.Store.(sessionStore); ok {
		s.StopCleanup()
	}
	a.blob.close()
}

// sealLinkTokens seals the link tokens rows still hold in plain text (rows
// from before tokens were sealed, or written by an older instance during a
// rolling deploy), so none stays readable in the database.
func sealLinkTokens(ctx context.Context, s *shares.Service, cfg config.Config, logger *slog.Logger) error {
	if cfg.LinkKeyDev {
		logger.Warn("LINK_KEY is not set: link tokens are sealed with a dev-only key derived from DATABASE_URL; set LINK_KEY outside development")
	}
	n, err := s.SealPlainTokens(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		logger.Info("sealed plain link tokens", "count", n)
	}
	return nil
}

// serve runs the HTTP server until ctx ends, then drains in-flight requests
// for up to the shutdown timeout.
func serve(ctx context.Context, cfg config.Config, logger *slog.Logger, migrate bool) error {
	pool, err := openDB(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer pool.Close()
	if migrate {
		if err := database.Migrate(ctx, pool, "up", func(s string) { logger.Info("migration", "result", s) }); err != nil {
			return err
		}
	}
	a, err := newApp(cfg, logger, pool)
	if err != nil {
		return err
	}
	defer a.close()
	if err := sealLinkTokens(ctx, a.shares, cfg, logger); err != nil {
		return err
	}
	// Background jobs, unless separate workers run them (RUN_JOBS=false):
	// stopped after the HTTP server has drained (defers run last first).
	stopJobs, err := a.startJobs(ctx, cfg.RunJobs)
	if err != nil {
		return err
	}
	defer stopJobs()

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.ListenAddr, err)
	}
	srv := &http.Server{
		Handler: a.routes(),
		// Bodies here are small forms and JSON: uploads go straight to the
		// store. The disk store's /blob/ handler extends its own deadlines.
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if cfg.MetricsAddr != "" {
		stop, err := serveMetrics(cfg.MetricsAddr, a.metrics.handler(), logger)
		if err != nil {
			return err
		}
		defer stop()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("serving", "addr", ln.Addr().String(), "base_url", cfg.BaseURL.String(), "version", version, "commit", commit)

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "grace", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// serveMetrics serves /metrics on its own listener, so it is reachable by
// the local CloudWatch agent but never routed through the load balancer.
func serveMetrics(addr string, h http.Handler, logger *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics server", "err", err)
		}
	}()
	logger.Info("serving metrics", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}
