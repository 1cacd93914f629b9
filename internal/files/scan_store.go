package files

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weupload/weupload/internal/database"
)

func findScanTarget(ctx context.Context, q database.Querier, id string) (ScanTarget, error) {
	var t ScanTarget
	err := q.QueryRow(ctx, `SELECT id, owner_id, object_key, size, scan_state FROM files WHERE id = $1`, id).
		Scan(&t.ID, &t.OwnerID, &t.ObjectKey, &t.Size, &t.State)
	return t, err
}

// recordScan sets the outcome of a file still waiting for its scan and
// returns how many rows changed (0 or 1).
func recordScan(ctx context.Context, q database.Querier, ownerID, id string, st ScanState, sig *string, now time.Time) (int64, error) {
	tag, err := q.Exec(ctx, `UPDATE files SET scan_state = $3, scan_signature = $4, scanned_at = $5
		WHERE id = $1 AND owner_id = $2 AND scan_state IN ('unscanned', 'pending')`, id, ownerID, st, sig, now)
	return tag.RowsAffected(), err
}

func scansToDo(ctx context.Context, q database.Querier, limit int) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT id::text FROM files WHERE scan_state IN ('unscanned', 'pending')
		ORDER BY created_at, id LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func scanIssues(ctx context.Context, q database.Querier, limit int) ([]ScanIssue, error) {
	rows, err := q.Query(ctx, `SELECT `+prefixed("f.", fileColumns)+`, u.email
		FROM files f JOIN users u ON u.id = f.owner_id
		WHERE f.scan_state IN ('infected', 'failed')
		ORDER BY f.scanned_at DESC, f.id LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ScanIssue, error) {
		var i ScanIssue
		var email string
		f, err := scanFile(rowWith{r, &email})
		i.File, i.OwnerEmail = f, email
		return i, err
	})
}

// isAdmin reports whether userID is an administrator (false for no such
// user).
func isAdmin(ctx context.Context, q database.Querier, userID string) (bool, error) {
	if !database.ValidID(userID) {
		return false, nil
	}
	var admin bool
	err := q.QueryRow(ctx, "SELECT coalesce((SELECT is_admin FROM users WHERE id = $1), false)", userID).Scan(&admin)
	return admin, err
}

// prefixed qualifies each column of a column list ("a, b" → "f.a, f.b").
func prefixed(p, cols string) string {
	return p + strings.ReplaceAll(cols, ", ", ", "+p)
}

// rowWith scans a row whose first columns are read by another scanner and
// whose last ones go to extra.
type rowWith struct {
	pgx.Row
	extra any
}

func (r rowWith) Scan(dest ...any) error { return r.Row.Scan(append(dest, r.extra)...) }
