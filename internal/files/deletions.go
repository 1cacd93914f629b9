package files

import (
	"context"
	"fmt"
	"time"

	"github.com/weupload/weupload/internal/apperr"
)

// deletionBatch is how many queued deletions one round of DeleteObjects
// takes.
const deletionBatch = 100

// DeleteObjects works through the queue of objects to delete from the
// store (purged files, aborted, expired and failed uploads): each that the
// store confirms leaves the queue; a failure is retried later with backoff.
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

// deleteObject removes an object (aborting its multipart upload first) and
// then its queue row.
func (s *Service) deleteObject(ctx context.Context, key, multipartID string) error {
	if multipartID != "" {
		if err := s.store.AbortMultipart(ctx, key, multipartID); err != nil {
			return fmt.Errorf("files: abort %s: %w", key, err)
		}
	}
	if err := s.store.Delete(ctx, key); err != nil {
		return fmt.Errorf("files: delete %s: %w", key, err)
	}
	if err := dequeueDeletion(ctx, s.pool, key); err != nil {
		return fmt.Errorf("files: dequeue %s: %w", key, err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
