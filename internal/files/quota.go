package files

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/database"
)

// Usage is a user's storage: bytes in files (trash included), bytes
// reserved by uploads in progress, and the quota.
type Usage struct {
	Used     int64
	Reserved int64
	Quota    int64
}

// Usage returns the user's storage use and quota. Errors: Unavailable.
func (s *Service) Usage(ctx context.Context, ownerID string) (Usage, error) {
	u, err := s.usage(ctx, s.pool, ownerID)
	return u, apperr.Wrap(err, "files: usage of %s", ownerID)
}

// usage is Usage on q; an owner without a quota row has the default quota
// and uses nothing.
func (s *Service) usage(ctx context.Context, q database.Querier, ownerID string) (Usage, error) {
	if !validIDs(ownerID) {
		return Usage{Quota: s.cfg.DefaultQuota}, nil
	}
	u, err := findUsage(ctx, q, ownerID, s.cfg.DefaultQuota)
	if errors.Is(err, pgx.ErrNoRows) {
		return Usage{Quota: s.cfg.DefaultQuota}, nil
	}
	return u, err
}

// SetQuota overrides a user's quota (bytes); a negative quota restores the
// default. For administrators: it checks no permission itself. Errors:
// Unavailable.
func (s *Service) SetQuota(ctx context.Context, userID string, quota int64) error {
	var q *int64
	if quota >= 0 {
		q = &quota
	}
	err := setQuota(ctx, s.pool, userID, q)
	return apperr.Wrap(err, "files: set quota of %s", userID)
}
