package files

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weupload/weupload/internal/database"
)

// The SQL of Reconcile. reconcile_objects is a temporary table (one
// session) holding what the store listed.

func createReconcileTable(ctx context.Context, q database.Querier) error {
	_, err := q.Exec(ctx, `CREATE TEMPORARY TABLE reconcile_objects (object_key text NOT NULL, modified timestamptz NOT NULL)`)
	return err
}

// copyReconcileKeys adds listed objects ({key, modified} rows).
func copyReconcileKeys(ctx context.Context, conn *pgxpool.Conn, rows [][]any) error {
	_, err := conn.CopyFrom(ctx, pgx.Identifier{"reconcile_objects"}, []string{"object_key", "modified"}, pgx.CopyFromRows(rows))
	return err
}

// analyzeReconcileTable gives the planner statistics autovacuum never
// gathers for a temporary table.
func analyzeReconcileTable(ctx context.Context, q database.Querier) error {
	_, err := q.Exec(ctx, `ANALYZE reconcile_objects`)
	return err
}

func dropReconcileTable(ctx context.Context, q database.Querier) error {
	_, err := q.Exec(ctx, `DROP TABLE IF EXISTS pg_temp.reconcile_objects`)
	return err
}

// queueOrphans queues for deletion the listed objects modified before
// `before` that no file, pending upload or queued deletion refers to
// (uploads in any other state had their object queued when they ended, so
// a row of theirs protects nothing), and returns how many.
func queueOrphans(ctx context.Context, q database.Querier, before, now time.Time) (int64, error) {
	tag, err := q.Exec(ctx, `
		INSERT INTO object_deletions (object_key, not_before)
		SELECT o.object_key, $2 FROM reconcile_objects o
		WHERE o.modified < $1
		  AND NOT EXISTS (SELECT 1 FROM files f WHERE f.object_key = o.object_key)
		  AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.object_key = o.object_key AND u.state = 'pending')
		  AND NOT EXISTS (SELECT 1 FROM object_deletions d WHERE d.object_key = o.object_key)
		ON CONFLICT (object_key) DO NOTHING`, before, now)
	return tag.RowsAffected(), err
}

// missingObjects lists the keys of file rows made before started (so their
// object was stored before the listing began) that the listing did not
// see. A row deleted since is not counted: its object may be gone with
// reason.
func missingObjects(ctx context.Context, q database.Querier, started time.Time) (pgx.Rows, error) {
	return q.Query(ctx, `
		SELECT f.object_key FROM files f
		WHERE f.created_at < $1
		  AND NOT EXISTS (SELECT 1 FROM reconcile_objects o WHERE o.object_key = f.object_key)
		ORDER BY f.object_key`, started)
}
