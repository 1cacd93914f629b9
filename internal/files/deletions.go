package files

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/database"
)

// deletionBatch is how many queued deletions one round of DeleteObjects
// takes.
const deletionBatch = 100

// DeleteObjects works through the queue of objects to delete from the
// store (purged files, aborted, expired and failed uploads) that are due:
// each that the store confirms leaves the queue, and an ended upload's
// reservation is released with it; a failure is retried later with
// backoff.
// It returns how many it deleted. For the jobs runner; the first error is
// returned after the whole batch was tried.
func (s *Service) DeleteObjects(ctx context.Context) (int, error) {
	done := 0
	var firstErr error
	for {
		batch, err := dueDeletions(ctx, s.pool, s.now(), deletionBatch)
		if err != nil {
			return done, apperr.Wrap(err, "files: delete objects")
		}
		failed := 0
		for _, it := range batch {
			if err := s.deleteObject(ctx, it.key, it.multipartID); err != nil {
				failed++
				if firstErr == nil {
					firstErr = err
				}
				backoff := min(time.Minute<<min(it.attempts, 10), 6*time.Hour)
				if err := postponeDeletion(ctx, s.pool, it.key, s.now().Add(backoff), truncate(err.Error(), 1000)); err != nil {
					return done, apperr.Wrap(err, "files: delete objects")
				}
				continue
			}
			done++
		}
		if len(batch) < deletionBatch || failed == len(batch) {
			return done, firstErr
		}
	}
}

// deleteObject removes a queued object that is due (aborting its
// multipart upload first), then in one transaction its queue row and, for
// the object of an ended upload, the upload's reservation: no URL of the
// upload can store bytes any more, and what the URLs stored is gone.
func (s *Service) deleteObject(ctx context.Context, key, multipartID string) error {
	if err := s.removeObject(ctx, key, multipartID); err != nil {
		return err
	}
	err := database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := dequeueDeletion(ctx, tx, key); err != nil {
			return err
		}
		ownerID, id, err := uploadOfObject(ctx, tx, key)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = releaseUpload(ctx, tx, ownerID, id, s.now())
		return err
	})
	if err != nil {
		return fmt.Errorf("files: dequeue %s: %w", key, err)
	}
	return nil
}

// removeObject deletes an object and its multipart upload from the store,
// and nothing else: the queue row stays, so an early try (at abort) does
// not stand for the deletion due once the upload's URLs have expired.
func (s *Service) removeObject(ctx context.Context, key, multipartID string) error {
	if multipartID != "" {
		if err := s.store.AbortMultipart(ctx, key, multipartID); err != nil {
			return fmt.Errorf("files: abort %s: %w", key, err)
		}
	}
	if err := s.store.Delete(ctx, key); err != nil {
		return fmt.Errorf("files: delete %s: %w", key, err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
