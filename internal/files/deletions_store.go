package files

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weupload/weupload/internal/database"
)

// SQL of the queue of objects to delete from the store. object_deletions
// has no owner_id: a row is keyed by its object key, which carries no
// account's data beyond the bytes that are to go.

// enqueueDeletion records that key (and its multipart upload, if any) must
// be removed from the store at notBefore; the row goes when the store
// confirms. A row already queued keeps the later of the two times: a
// deletion due after the last URL's expiry is never brought forward.
func enqueueDeletion(ctx context.Context, q database.Querier, key, multipartID string, notBefore time.Time) error {
	// object_deletions is keyed by object key (no owner_id).
	_, err := q.Exec(ctx, `
		INSERT INTO object_deletions (object_key, multipart_id, not_before) VALUES ($1, $2, $3)
		ON CONFLICT (object_key) DO UPDATE SET multipart_id = coalesce(EXCLUDED.multipart_id, object_deletions.multipart_id),
			not_before = greatest(EXCLUDED.not_before, object_deletions.not_before)`,
		key, nullID(multipartID), notBefore)
	if err != nil {
		return fmt.Errorf("queue deletion of %s: %w", key, err)
	}
	return nil
}

// queuedDeletion is an object waiting to be deleted.
type queuedDeletion struct {
	key, multipartID string
	attempts         int
}

// dueDeletions returns up to limit queued deletions due at now, oldest first.
func dueDeletions(ctx context.Context, q database.Querier, now time.Time, limit int) ([]queuedDeletion, error) {
	rows, err := q.Query(ctx, `SELECT object_key, coalesce(multipart_id, ''), attempts FROM object_deletions
		WHERE not_before <= $1 ORDER BY not_before LIMIT $2`, now, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (queuedDeletion, error) {
		var d queuedDeletion
		return d, r.Scan(&d.key, &d.multipartID, &d.attempts)
	})
}

// postponeDeletion records a failed attempt and when to try again.
func postponeDeletion(ctx context.Context, q database.Querier, key string, next time.Time, lastError string) error {
	// object_deletions is keyed by object key (no owner_id).
	_, err := q.Exec(ctx, `UPDATE object_deletions SET attempts = attempts + 1, not_before = $2, last_error = $3
		WHERE object_key = $1`, key, next, lastError)
	return err
}

// dequeueDeletion removes the queue row of a deleted object.
func dequeueDeletion(ctx context.Context, q database.Querier, key string) error {
	// object_deletions is keyed by object key (no owner_id).
	_, err := q.Exec(ctx, `DELETE FROM object_deletions WHERE object_key = $1`, key)
	return err
}
