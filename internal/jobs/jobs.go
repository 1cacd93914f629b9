// Package jobs runs the app's background work on River
// (github.com/riverqueue/river), a job queue in PostgreSQL: the periodic
// sweepers and the per-file jobs of completed uploads. Jobs are rows
// (river_job, created by `weupload migrate up`), so a job outlives the
// instance that inserted or started it: an instance that dies mid-job leaves
// the row running, and the elected leader's rescuer hands it to another
// instance after RescueAfter. Failed jobs are retried with River's backoff
// (attempt⁴ seconds, with jitter) up to their MaxAttempts.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/weupload/weupload/internal/files"
)

// Config tunes the client. Zero fields take the defaults below.
type Config struct {
	// Workers is how many jobs one instance runs at once.
	Workers int
	// Timeout bounds one run of a job (its context is cancelled then).
	Timeout time.Duration
	// RescueAfter is how long a job may stay running before it counts as
	// stuck (its instance died) and is retried elsewhere; it must be longer
	// than Timeout. Zero: Timeout + 1 hour.
	RescueAfter time.Duration
	// Sweepers are the periodic jobs (see Sweepers).
	Sweepers []Sweeper
	// FileJobs are the per-file job kinds inserted with every completed
	// upload (see FileJob); their workers are added by Register.
	FileJobs []FileJob
	// Register adds the workers of job kinds defined elsewhere (the
	// per-file ones) to the client's bundle.
	Register func(*river.Workers)
	// Observe, when set, hears every finished run on this instance: the
	// job's kind, its outcome (completed, retried, discarded, cancelled or
	// snoozed) and how long it ran. The app feeds its metrics with it.
	Observe func(kind, outcome string, d time.Duration)
	// Now is the clock that keys daily jobs to their day; tests replace it.
	Now func() time.Time
	// Logger receives River's own log lines (warnings and up).
	Logger *slog.Logger
	// PollInterval is how often an instance looks for jobs when no
	// notification came; tests lower it. Zero: River's default (1 s).
	PollInterval time.Duration
}

// Defaults for the zero fields of Config.
const (
	DefaultWorkers = 10
	DefaultTimeout = 10 * time.Minute
)

// FileJob is a per-file job kind: Args makes its arguments for a file that
// just completed. The job is inserted in the transaction creating the file.
type FileJob struct {
	Args func(f files.File) river.JobArgs
	// Opts are the insert options (queue, MaxAttempts, uniqueness); nil for
	// the kind's own (JobArgsWithInsertOpts) or River's defaults.
	Opts *river.InsertOpts
}

// Jobs is the app's River client. It implements files.FileJobs.
type Jobs struct {
	client   *river.Client[pgx.Tx]
	fileJobs []FileJob
	observe  func(kind, outcome string, d time.Duration)
	log      *slog.Logger
	stopSub  func()
	subDone  chan struct{}
}

// New builds the client on pool. Nothing runs until Start; without Start it
// still inserts jobs (a serve process with jobs turned off).
func New(pool *pgxpool.Pool, cfg Config) (*Jobs, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.RescueAfter <= 0 {
		cfg.RescueAfter = cfg.Timeout + time.Hour
	}
	if cfg.RescueAfter <= cfg.Timeout {
		return nil, errors.New("jobs: RescueAfter must be longer than Timeout, or a job still running would be started again elsewhere")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = river.FetchPollIntervalDefault
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	workers := river.NewWorkers()
	var periodic []*river.PeriodicJob
	for _, s := range cfg.Sweepers {
		if err := s.add(workers, cfg.Logger); err != nil {
			return nil, fmt.Errorf("jobs: sweeper %s: %w", s.Kind, err)
		}
		periodic = append(periodic, s.periodic(cfg.Now))
	}
	if cfg.Register != nil {
		cfg.Register(workers)
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers:              workers,
		PeriodicJobs:         periodic,
		JobTimeout:           cfg.Timeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
		FetchPollInterval:    cfg.PollInterval,
		FetchCooldown:        min(cfg.PollInterval, river.FetchCooldownDefault),
		// Completed rows are kept two days: a daily job's row must outlive
		// its day, or the next check of that day would run it again.
		CompletedJobRetentionPeriod: 48 * time.Hour,
		// River logs each job failure at error level; failures are ours to
		// count (metrics) and retry, so only River's own problems are logged.
		Logger: slog.New(levelAtLeast{cfg.Logger.Handler(), slog.LevelWarn}),
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	return &Jobs{client: client, fileJobs: cfg.FileJobs, observe: cfg.Observe, log: cfg.Logger}, nil
}

// Client is the River client, for the admin UI and tests.
func (j *Jobs) Client() *river.Client[pgx.Tx] { return j.client }

// Start works jobs until Stop: this instance takes part in the leader
// election (the leader schedules the periodic jobs and rescues stuck ones)
// and runs up to Config.Workers jobs at once.
func (j *Jobs) Start(ctx context.Context) error {
	if j.observe != nil {
		events, cancel := j.client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed,
			river.EventKindJobCancelled, river.EventKindJobSnoozed)
		j.stopSub, j.subDone = cancel, make(chan struct{})
		go func() {
			defer close(j.subDone)
			for e := range events {
				j.observeEvent(e)
			}
		}()
	}
	if err := j.client.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	return nil
}

// Stop stops fetching jobs and waits for the running ones until ctx ends;
// then it cancels them (they are retried later, here or elsewhere).
func (j *Jobs) Stop(ctx context.Context) error {
	err := j.client.Stop(ctx)
	if err != nil {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = j.client.StopAndCancel(cctx)
	}
	if j.stopSub != nil {
		j.stopSub()
		<-j.subDone
	}
	return err
}

// observeEvent turns a River event into Config.Observe's kind and outcome.
func (j *Jobs) observeEvent(e *river.Event) {
	if e.Job == nil {
		return
	}
	var outcome string
	switch e.Kind {
	case river.EventKindJobCompleted:
		outcome = "completed"
	case river.EventKindJobCancelled:
		outcome = "cancelled"
	case river.EventKindJobSnoozed:
		outcome = "snoozed"
	case river.EventKindJobFailed:
		outcome = "retried"
		if e.Job.State == rivertype.JobStateDiscarded {
			outcome = "discarded"
		}
	default:
		return
	}
	var d time.Duration
	if e.JobStats != nil {
		d = e.JobStats.RunDuration
	}
	if e.Kind == river.EventKindJobFailed && outcome == "discarded" {
		j.log.Error("job discarded after its last attempt", "kind", e.Job.Kind, "job_id", e.Job.ID, "attempts", e.Job.Attempt, "err", lastError(e.Job))
	}
	j.observe(e.Job.Kind, outcome, d)
}

// lastError is the message of a job's latest failed attempt.
func lastError(job *rivertype.JobRow) string {
	if len(job.Errors) == 0 {
		return ""
	}
	return job.Errors[len(job.Errors)-1].Error
}

// EnqueueFileJobs inserts the per-file jobs of f in tx, the transaction
// completing its upload: they commit with the file or not at all.
func (j *Jobs) EnqueueFileJobs(ctx context.Context, tx pgx.Tx, f files.File) error {
	if len(j.fileJobs) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, 0, len(j.fileJobs))
	for _, fj := range j.fileJobs {
		params = append(params, river.InsertManyParams{Args: fj.Args(f), InsertOpts: fj.Opts})
	}
	if _, err := j.client.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("jobs: file jobs of %s: %w", f.ID, err)
	}
	return nil
}

// levelAtLeast passes on records at min or above only.
type levelAtLeast struct {
	slog.Handler
	min slog.Level
}

func (h levelAtLeast) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelAtLeast) WithAttrs(as []slog.Attr) slog.Handler {
	return levelAtLeast{h.Handler.WithAttrs(as), h.min}
}

func (h levelAtLeast) WithGroup(name string) slog.Handler {
	return levelAtLeast{h.Handler.WithGroup(name), h.min}
}
