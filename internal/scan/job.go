package scan

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/jobs"
)

// FileArgs is the job scanning one completed upload, inserted in the
// transaction that completes it (jobs.FileJob).
type FileArgs struct {
	FileID string `json:"file_id"`
}

// Kind names the job kind.
func (FileArgs) Kind() string { return "scan_file" }

// fileAttempts bounds the retries of one scan (River's backoff grows with
// each: the last of 10 comes hours later); after the last the file is
// recorded failed, which admins see.
const fileAttempts = 10

// InsertOpts are the scan job's insert options.
func (FileArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: fileAttempts} }

// FileJob is the per-upload scan job for jobs.Config.FileJobs.
func FileJob() jobs.FileJob {
	return jobs.FileJob{Args: func(f files.File) river.JobArgs { return FileArgs{FileID: f.ID} }}
}

// Register adds the scan job's worker (jobs.Config.Register).
func (s *Service) Register(w *river.Workers) {
	river.AddWorker(w, &fileWorker{scan: s})
}

type fileWorker struct {
	river.WorkerDefaults[FileArgs]
	scan *Service
}

// Work scans the file; a scan that could not run is retried, and on the
// last attempt the file is given up on (failed) instead of staying pending.
func (w *fileWorker) Work(ctx context.Context, job *river.Job[FileArgs]) error {
	err := w.scan.ScanFile(ctx, job.Args.FileID)
	if err != nil && job.Attempt >= job.MaxAttempts {
		if gerr := w.scan.GiveUp(context.WithoutCancel(ctx), job.Args.FileID); gerr != nil {
			return errors.Join(err, gerr)
		}
	}
	return err
}

// CatchUpArgs is the periodic sweep scanning files still waiting: stored
// while scanning was off, or whose job was lost.
type CatchUpArgs struct{}

// Kind names the job kind.
func (CatchUpArgs) Kind() string { return "scan_catch_up" }

// catchUpBatch is how many waiting files one sweep scans.
const catchUpBatch = 100

// CatchUp is the catch-up sweeper (jobs.Config.Sweepers).
func (s *Service) CatchUp() jobs.Sweeper {
	return jobs.NewSweeper[CatchUpArgs](10*time.Minute, func(ctx context.Context) (int, error) {
		ids, err := s.ToDo(ctx, catchUpBatch)
		if err != nil {
			return 0, err
		}
		n := 0
		for _, id := range ids {
			if err := s.ScanFile(ctx, id); err != nil {
				return n, err
			}
			n++
		}
		return n, nil
	})
}
