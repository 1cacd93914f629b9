package files

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/blob"
)

// ReconcileReport is what one Reconcile run found.
type ReconcileReport struct {
	// Objects is how many objects the store holds under blob.KeyPrefix.
	Objects int
	// Queued is how many of them no row refers to and were queued for
	// deletion (old enough, see Reconcile).
	Queued int
	// Missing is how many file rows refer to an object the store does not
	// hold. They are reported, not deleted.
	Missing int
	// MissingKeys are the object keys of up to ten of those rows, for the
	// log.
	MissingKeys []string
}

// reconcileBatch is how many listed keys go to the database in one COPY.
const reconcileBatch = 1000

// MinOrphanAge is how old an object must be before Reconcile may queue it
// as an orphan: twice the upload expiry plus the grace, so an upload still
// in flight (its row pending, or a PUT that started before its URL expired)
// is never touched, whatever the clocks of the store and the app say.
func (s *Service) MinOrphanAge() time.Duration {
	return 2*s.cfg.UploadExpiry + s.cfg.ExpiryGrace
}

// Reconcile compares the store with the database, for the daily job:
//
//   - an object under blob.KeyPrefix older than MinOrphanAge that no file, no pending
//     upload and no queued deletion refers to is an orphan (e.g. the bytes
//     of an upload whose row was expired while its PUT was still running,
//     or left by a crash between the store and the database); it is queued
//     in object_deletions, which DeleteObjects works through;
//   - a file row whose object the store does not hold is counted and
//     returned (MissingKeys), never deleted: that needs a person.
//
// The listing goes page by page into a temporary table on one connection,
// without a transaction held open; then one statement queues the orphans
// (checking every reference in its own snapshot, so a row committed during
// the walk protects its object) and one counts the missing objects among
// the files created before the walk started. A store or database failure
// stops it before anything is queued.
func (s *Service) Reconcile(ctx context.Context) (ReconcileReport, error) {
	var rep ReconcileReport
	started := s.now()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return rep, apperr.Wrap(err, "files: reconcile")
	}
	defer releaseReconcile(conn)
	if err := createReconcileTable(ctx, conn); err != nil {
		return rep, apperr.Wrap(err, "files: reconcile: temporary table")
	}
	batch := make([][]any, 0, reconcileBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := copyReconcileKeys(ctx, conn, batch)
		rep.Objects += len(batch)
		batch = batch[:0]
		return err
	}
	for obj, err := range s.store.List(ctx, blob.KeyPrefix) {
		if err != nil {
			return rep, apperr.Wrap(err, "files: reconcile: list objects")
		}
		batch = append(batch, []any{obj.Key, obj.Modified})
		if len(batch) == reconcileBatch {
			if err := flush(); err != nil {
				return rep, apperr.Wrap(err, "files: reconcile: copy keys")
			}
		}
	}
	if err := flush(); err != nil {
		return rep, apperr.Wrap(err, "files: reconcile: copy keys")
	}
	if err := analyzeReconcileTable(ctx, conn); err != nil {
		return rep, apperr.Wrap(err, "files: reconcile: analyze")
	}
	queued, err := queueOrphans(ctx, conn, started.Add(-s.MinOrphanAge()), started)
	if err != nil {
		return rep, apperr.Wrap(err, "files: reconcile: queue orphans")
	}
	rep.Queued = int(queued)
	rows, err := missingObjects(ctx, conn, started)
	if err != nil {
		return rep, apperr.Wrap(err, "files: reconcile: missing objects")
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		if err := rows.Scan(&key); err != nil {
			return rep, apperr.Wrap(err, "files: reconcile: missing objects")
		}
		rep.Missing++
		if len(rep.MissingKeys) < 10 {
			rep.MissingKeys = append(rep.MissingKeys, key)
		}
	}
	if err := rows.Err(); err != nil {
		return rep, apperr.Wrap(err, "files: reconcile: missing objects")
	}
	return rep, nil
}

// releaseReconcile drops the temporary table and gives the connection back
// to the pool, or closes it when the table cannot be dropped, so no pooled
// session keeps the table (or a half-read result).
func releaseReconcile(conn *pgxpool.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := dropReconcileTable(ctx, conn); err != nil {
		_ = conn.Conn().Close(ctx)
	}
	conn.Release()
}

// String summarizes the report for logs.
func (r ReconcileReport) String() string {
	return fmt.Sprintf("%d objects, %d orphans queued, %d files missing their object", r.Objects, r.Queued, r.Missing)
}
