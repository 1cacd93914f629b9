package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/ratelimit"
)

// Sweeper is a periodic job: the elected leader inserts it every Every
// (and once when it is elected), and any instance runs it.
type Sweeper struct {
	// Kind is the job kind (river_job.kind, the metrics' label).
	Kind string
	// Every is how often the leader inserts the job.
	Every time.Duration
	// OncePer, when set, runs the job at most once per period of this
	// length (UTC-aligned, e.g. 24h: once per day), however often it is
	// inserted: the job is unique per period in the database, so a job
	// that should run daily runs daily even when the leader changes more
	// often than that (River's schedule lives in the leader's memory).
	OncePer time.Duration
	// MaxAttempts bounds the retries of one insert; the next insert tries
	// again anyway.
	MaxAttempts int
	// Run does one round of the work and returns how many items it handled,
	// for the log.
	Run func(ctx context.Context) (int, error)

	args river.JobArgs
	add  func(*river.Workers, *slog.Logger) error
}

// NewSweeper makes a Sweeper of the job kind T (whose Kind method names
// it) running run.
func NewSweeper[T river.JobArgs](every time.Duration, run func(ctx context.Context) (int, error)) Sweeper {
	var args T
	s := Sweeper{Kind: args.Kind(), Every: every, MaxAttempts: 3, Run: run, args: args}
	s.add = func(w *river.Workers, logger *slog.Logger) error {
		return river.AddWorkerSafely(w, &sweepWorker[T]{kind: s.Kind, run: run, log: logger})
	}
	return s
}

// activeStates are the states in which a sweeper's job blocks another insert
// of it: queued, running or waiting for a retry. So rounds never overlap
// and a slow round does not pile up inserts behind it.
var activeStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}

// periodic is the sweeper's River periodic job; now keys OncePer periods.
func (s Sweeper) periodic(now func() time.Time) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(s.Every), func() (river.JobArgs, *river.InsertOpts) {
		opts := &river.InsertOpts{MaxAttempts: s.MaxAttempts, UniqueOpts: river.UniqueOpts{ByState: activeStates}}
		if s.OncePer > 0 {
			// Unique per period in every state but discarded and cancelled:
			// a completed run holds the period (rows are kept 48 h), a
			// failed one lets the next insert try again.
			at := now()
			opts.ScheduledAt = at
			opts.UniqueOpts = river.UniqueOpts{ByPeriod: s.OncePer}
		}
		return s.args, opts
	}, &river.PeriodicJobOpts{ID: s.Kind, RunOnStart: true})
}

// sweepWorker runs a sweeper's round as a River job.
type sweepWorker[T river.JobArgs] struct {
	river.WorkerDefaults[T]
	kind string
	run  func(ctx context.Context) (int, error)
	log  *slog.Logger
}

func (w *sweepWorker[T]) Work(ctx context.Context, job *river.Job[T]) error {
	start := time.Now()
	n, err := w.run(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		w.log.Info("job done", "job", w.kind, "items", n, "duration_ms", time.Since(start).Milliseconds())
	}
	return nil
}

// The sweepers' job kinds.
type (
	// ExpireUploadsArgs is the expire_uploads job.
	ExpireUploadsArgs struct{}
	// PurgeTrashArgs is the purge_trash job.
	PurgeTrashArgs struct{}
	// DeleteObjectsArgs is the delete_objects job.
	DeleteObjectsArgs struct{}
	// SweepThrottlesArgs is the sweep_throttles job.
	SweepThrottlesArgs struct{}
	// ReconcileStoreArgs is the reconcile_store job.
	ReconcileStoreArgs struct{}
)

// Kind names the job kind.
func (ExpireUploadsArgs) Kind() string { return "expire_uploads" }

// Kind names the job kind.
func (PurgeTrashArgs) Kind() string { return "purge_trash" }

// Kind names the job kind.
func (DeleteObjectsArgs) Kind() string { return "delete_objects" }

// Kind names the job kind.
func (SweepThrottlesArgs) Kind() string { return "sweep_throttles" }

// Kind names the job kind.
func (ReconcileStoreArgs) Kind() string { return "reconcile_store" }

// Sweepers are the app's periodic jobs:
//
//   - expire_uploads: pending uploads past their expiry (and grace) are
//     ended and their objects queued for deletion, due once their URLs can
//     no longer store bytes; ended uploads whose reservation outlived that
//     time are released;
//   - purge_trash: trash entries past the retention period are deleted (rows
//     first, objects queued);
//   - delete_objects: the queue of objects to delete is worked through as
//     each falls due, each failure retried later with backoff, until the
//     store confirms; an ended upload's reservation is released with its
//     object;
//   - sweep_throttles: ended rate-limit windows are removed;
//   - reconcile_store: once a day (UTC), objects in the store that no row
//     refers to (older than files.Service.MinOrphanAge) are queued for
//     deletion, and file rows whose object is missing are logged as errors.
//
// logger receives what reconcile_store found.
func Sweepers(fs *files.Service, limiter *ratelimit.Limiter, logger *slog.Logger) []Sweeper {
	reconcileStore := NewSweeper[ReconcileStoreArgs](time.Hour, func(ctx context.Context) (int, error) {
		return reconcile(ctx, fs, logger)
	})
	reconcileStore.OncePer = 24 * time.Hour
	return []Sweeper{
		NewSweeper[ExpireUploadsArgs](5*time.Minute, fs.ExpireUploads),
		NewSweeper[PurgeTrashArgs](15*time.Minute, fs.PurgeExpiredTrash),
		NewSweeper[DeleteObjectsArgs](time.Minute, fs.DeleteObjects),
		NewSweeper[SweepThrottlesArgs](10*time.Minute, func(ctx context.Context) (int, error) {
			n, err := limiter.Sweep(ctx)
			return int(n), err
		}),
		reconcileStore,
	}
}

// reconcile runs files.Service.Reconcile and logs its findings: missing
// objects as an error (data a user expects is gone), queued orphans as
// information. It returns the number of orphans queued.
func reconcile(ctx context.Context, fs *files.Service, logger *slog.Logger) (int, error) {
	rep, err := fs.Reconcile(ctx)
	if err != nil {
		return rep.Queued, err
	}
	if rep.Missing > 0 {
		logger.Error("reconcile_store: file rows whose object is missing from the store",
			"files", rep.Missing, "some_keys", rep.MissingKeys)
	}
	logger.Info("reconcile_store", "objects", rep.Objects, "orphans_queued", rep.Queued, "missing_objects", rep.Missing)
	return rep.Queued, nil
}
