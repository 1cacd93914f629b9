package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"riverqueue.com/riverui"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/config"
	"github.com/weupload/weupload/internal/jobs"
	"github.com/weupload/weupload/internal/scan"
)

// jobsUIPrefix is where admins see the job queue (River's UI).
const jobsUIPrefix = "/admin/jobs"

// newJobs makes the River client working the app's background jobs: the
// sweepers and the per-file jobs of completed uploads (files.FileJobs).
func (a *app) newJobs() error {
	cfg := jobs.Config{
		Workers:  a.cfg.JobWorkers,
		Timeout:  a.cfg.JobTimeout,
		Sweepers: jobs.Sweepers(a.files, a.limiter, a.log),
		Observe:  a.metrics.observeJob,
		Logger:   a.log,
	}
	if a.scan != nil {
		cfg.FileJobs = append(cfg.FileJobs, scan.FileJob())
		cfg.Sweepers = append(cfg.Sweepers, a.scan.CatchUp())
		cfg.Register = a.scan.Register
	}
	j, err := jobs.New(a.pool, cfg)
	if err != nil {
		return err
	}
	a.files.FileJobs = j
	a.jobs = j
	ui, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(j.Client(), nil),
		Logger:    slog.New(slog.DiscardHandler),
		Prefix:    jobsUIPrefix,
	})
	if err != nil {
		return fmt.Errorf("jobs UI: %w", err)
	}
	a.jobsUI = ui
	return nil
}

// startJobs works jobs (and starts the UI's background queries) until the
// returned stop is called; stop waits for running jobs up to the shutdown
// timeout, then cancels them (River retries them later).
func (a *app) startJobs(ctx context.Context, work bool) (stop func(), err error) {
	// A context of our own: ctx ending (SIGTERM) must not cancel running
	// jobs before stop has given them the grace period.
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if err := a.jobsUI.Start(bg); err != nil {
		cancel()
		return nil, fmt.Errorf("jobs UI: %w", err)
	}
	if !work {
		return cancel, nil
	}
	if err := a.jobs.Start(bg); err != nil {
		cancel()
		return nil, err
	}
	a.log.Info("working background jobs", "workers", a.cfg.JobWorkers, "timeout", a.cfg.JobTimeout.String())
	return func() {
		defer cancel()
		sctx, scancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
		defer scancel()
		if err := a.jobs.Stop(sctx); err != nil {
			a.log.Warn("jobs stopped with jobs still running (they are retried)", "err", err)
		}
	}, nil
}

// requireAdmin lets administrators through; anyone else finds nothing here.
func (a *app) requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := currentUser(r); u == nil || !u.IsAdmin {
			a.error(w, r, apperr.Errorf(apperr.NotFound, "This page does not exist."))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// worker runs "weupload worker": background jobs only, no HTTP server but
// the metrics listener (METRICS_ADDR), until ctx ends. It does not migrate:
// serve or "weupload migrate up" does.
func worker(ctx context.Context, cfg config.Config, logger *slog.Logger) error {
	pool, err := openDB(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer pool.Close()
	a, err := newApp(cfg, logger, pool)
	if err != nil {
		return err
	}
	defer a.close()
	if cfg.MetricsAddr != "" {
		stopMetrics, err := serveMetrics(cfg.MetricsAddr, a.metrics.handler(), logger)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	stop, err := a.startJobs(ctx, true)
	if err != nil {
		return err
	}
	logger.Info("worker started", "version", version, "commit", commit)
	<-ctx.Done()
	logger.Info("worker stopping", "grace", cfg.ShutdownTimeout.String())
	stop()
	logger.Info("stopped")
	return nil
}
