package files

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/database"
)

// ScanState is where a file's virus scan stands (see internal/scan).
type ScanState string

// The scan states. A file starts ScanPending when scanning is on and
// ScanUnscanned when it is off (files stored before scanning existed are
// ScanUnscanned too); the scanner moves it to one of the others, once.
const (
	ScanUnscanned ScanState = "unscanned"
	ScanPending   ScanState = "pending"
	ScanClean     ScanState = "clean"
	ScanInfected  ScanState = "infected"
	// ScanFailed: the scan gave up after its retries; admins see it.
	ScanFailed ScanState = "failed"
	// ScanSkipped: larger than the scanner's limit, not scanned.
	ScanSkipped ScanState = "skipped"
)

// Done reports whether the scan has ended (nothing more will change).
func (st ScanState) Done() bool { return st != ScanPending && st != ScanUnscanned }

// ScanPolicy is what the files service needs to know of virus scanning.
type ScanPolicy struct {
	// Enabled: new files start ScanPending (else ScanUnscanned).
	Enabled bool
	// Required: only clean files are served (bytes, URLs, zips), to anyone.
	Required bool
	// AllowSkipped: with Required, files too large to scan are served too.
	AllowSkipped bool
}

func (p ScanPolicy) initial() ScanState {
	if p.Enabled {
		return ScanPending
	}
	return ScanUnscanned
}

// Messages of the files held back by a required scan. They are Conflict
// errors (HTTP 409): the file exists and the caller may see it, but its
// state does not allow a download.
var (
	errScanPending  = apperr.Errorf(apperr.Conflict, "This file is being checked for viruses. Try again in a moment.")
	errScanInfected = apperr.Errorf(apperr.Conflict, "This file is blocked: a virus was found in it. It can only be deleted.")
	errScanFailed   = apperr.Errorf(apperr.Conflict, "This file could not be checked for viruses, so it cannot be downloaded. An administrator can see it.")
	errScanSkipped  = apperr.Errorf(apperr.Conflict, "This file is too large to be checked for viruses, so it cannot be downloaded.")
)

// Servable says whether a file in state st may be served under the
// policy: nil, or a Conflict error saying why not. Every path that hands
// out bytes or URLs to bytes asks it (downloads, links, zips).
func (s *Service) Servable(st ScanState) error {
	p := s.cfg.Scan
	switch {
	case !p.Required || st == ScanClean:
		return nil
	case st == ScanSkipped && p.AllowSkipped:
		return nil
	case st == ScanInfected:
		return errScanInfected
	case st == ScanFailed:
		return errScanFailed
	case st == ScanSkipped:
		return errScanSkipped
	}
	return errScanPending
}

// ScanTarget is a file as the scanner sees it.
type ScanTarget struct {
	ID        string
	OwnerID   string
	ObjectKey string
	Size      int64
	State     ScanState
}

// FindScanTarget returns the file to scan, trashed or not; it decides no
// access (the scanner works for the system). Errors: NotFound (no such
// file, or purged), Unavailable.
func (s *Service) FindScanTarget(ctx context.Context, id string) (ScanTarget, error) {
	if !validIDs(id) {
		return ScanTarget{}, errFileNotFound
	}
	t, err := findScanTarget(ctx, s.pool, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return ScanTarget{}, errFileNotFound
	}
	return t, apperr.Wrap(err, "files: scan target %s", id)
}

// RecordScan stores a scan's outcome for a file still waiting for one
// (pending or unscanned), with the signature found when infected. It
// reports whether it did: false when the file is gone or another scan
// recorded first, so a retried or duplicated scan changes nothing.
// Errors: Invalid (a state that is not an outcome), Unavailable.
func (s *Service) RecordScan(ctx context.Context, t ScanTarget, st ScanState, signature string) (bool, error) {
	if !st.Done() {
		return false, apperr.Errorf(apperr.Invalid, "%q is not a scan outcome.", st)
	}
	var sig *string
	if st == ScanInfected {
		sig = &signature
	}
	n, err := recordScan(ctx, s.pool, t.OwnerID, t.ID, st, sig, s.now())
	return n == 1, apperr.Wrap(err, "files: record scan of %s", t.ID)
}

// ScansToDo returns the ids of files waiting for a scan (pending, or
// stored while scanning was off), oldest first, at most limit: the
// catch-up sweep scans them. Errors: Unavailable.
func (s *Service) ScansToDo(ctx context.Context, limit int) ([]string, error) {
	ids, err := scansToDo(ctx, s.pool, limit)
	return ids, apperr.Wrap(err, "files: scans to do")
}

// ScanIssue is an infected or failed file, for the admins' list.
type ScanIssue struct {
	File
	OwnerEmail string
}

// ScanIssues lists infected and failed files of every account, latest
// first, at most limit, to an administrator. Errors: NotFound (actor is
// not an administrator), Unavailable.
func (s *Service) ScanIssues(ctx context.Context, actorID string, limit int) ([]ScanIssue, error) {
	var issues []ScanIssue
	var admin bool
	err := database.RetryRead(ctx, func(ctx context.Context) error {
		var err error
		if admin, err = isAdmin(ctx, s.pool, actorID); err != nil || !admin {
			return err
		}
		issues, err = scanIssues(ctx, s.pool, limit)
		return err
	})
	if err == nil && !admin {
		return nil, apperr.Errorf(apperr.NotFound, "Page not found.")
	}
	return issues, apperr.Wrap(err, "files: scan issues")
}
