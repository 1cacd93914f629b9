// Package scan checks stored files for viruses with ClamAV's clamd: the
// object is streamed from the blob store (either store) to clamd's
// INSTREAM through a fixed buffer, and the outcome is recorded on the
// file (files.ScanState). It decides nothing about downloads: the files
// service serves by the state (files.Service.Servable).
//
// Scans run as background jobs: one per completed upload, retried while
// clamd is unreachable (ScanFile returns ErrRetry), plus a catch-up sweep
// over ToDo for files stored while scanning was off or whose job was lost.
package scan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/blob"
	"github.com/weupload/weupload/internal/files"
)

// Mode is SCAN_MODE: off (no scanning; files are "unscanned"), async
// (scan, serve whatever the state) or required (serve only clean files).
type Mode string

// The modes.
const (
	ModeOff      Mode = "off"
	ModeAsync    Mode = "async"
	ModeRequired Mode = "required"
)

// Policy is the files service's policy for the mode.
func (m Mode) Policy(allowSkipped bool) files.ScanPolicy {
	return files.ScanPolicy{Enabled: m != ModeOff && m != "", Required: m == ModeRequired, AllowSkipped: allowSkipped}
}

// ErrRetry is wrapped around every error that means "try this scan again
// later": clamd unreachable or timing out, the store or the database
// unavailable. Anything else is permanent.
var ErrRetry = errors.New("scan: try again later")

// Service scans files and records the outcome.
type Service struct {
	files *files.Service
	store blob.Store
	clamd *Clamd
	log   *slog.Logger
}

// New returns the service scanning with clamd.
func New(fs *files.Service, store blob.Store, clamd *Clamd, log *slog.Logger) *Service {
	return &Service{files: fs, store: store, clamd: clamd, log: log}
}

// ScanFile scans one file unless its scan has ended, and records clean,
// infected (with the signature) or skipped (larger than clamd's
// StreamMaxLength). It is idempotent and safe to run twice at once: the
// outcome is recorded only on a file still waiting, and a file deleted
// meanwhile is nothing to do (nil). Errors wrap ErrRetry when the scan
// could not run (the file stays pending, never clean); a stored file whose
// object is missing is recorded failed (and logged), not retried.
func (s *Service) ScanFile(ctx context.Context, fileID string) error {
	t, err := s.files.FindScanTarget(ctx, fileID)
	if apperr.Is(err, apperr.NotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRetry, err)
	}
	if t.State.Done() {
		return nil
	}
	rc, err := s.store.Get(ctx, t.ObjectKey)
	if errors.Is(err, blob.ErrNotFound) {
		s.log.Error("scan: object of file missing", "file", t.ID, "owner", t.OwnerID)
		return s.record(ctx, t, files.ScanFailed, "")
	}
	if err != nil {
		return fmt.Errorf("%w: scan %s: %w", ErrRetry, t.ID, err)
	}
	defer rc.Close()
	v, err := s.clamd.Scan(ctx, rc)
	if err != nil {
		// clamd down, a timeout, or the store failing mid-stream: all
		// passing conditions, so the job tries again.
		return fmt.Errorf("%w: scan %s: %w", ErrRetry, t.ID, err)
	}
	switch {
	case v.Infected:
		s.log.Warn("scan: virus found", "file", t.ID, "owner", t.OwnerID, "signature", v.Signature)
		return s.record(ctx, t, files.ScanInfected, v.Signature)
	case v.TooLarge:
		return s.record(ctx, t, files.ScanSkipped, "")
	}
	return s.record(ctx, t, files.ScanClean, "")
}

func (s *Service) record(ctx context.Context, t files.ScanTarget, st files.ScanState, sig string) error {
	if _, err := s.files.RecordScan(ctx, t, st, sig); err != nil {
		return fmt.Errorf("%w: %w", ErrRetry, err)
	}
	return nil
}

// GiveUp records a file still waiting as failed: for the job's last
// attempt, so an admin sees it in the scan issues list. A file that is
// gone or already scanned is left as it is.
func (s *Service) GiveUp(ctx context.Context, fileID string) error {
	t, err := s.files.FindScanTarget(ctx, fileID)
	if apperr.Is(err, apperr.NotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRetry, err)
	}
	if t.State.Done() {
		return nil
	}
	s.log.Error("scan: gave up", "file", t.ID, "owner", t.OwnerID)
	return s.record(ctx, t, files.ScanFailed, "")
}

// ToDo lists up to limit files still waiting for a scan, oldest first,
// for the catch-up sweep (each then goes through ScanFile).
func (s *Service) ToDo(ctx context.Context, limit int) ([]string, error) {
	return s.files.ScansToDo(ctx, limit)
}

// Ping checks that clamd answers.
func (s *Service) Ping(ctx context.Context) error { return s.clamd.Ping(ctx) }
