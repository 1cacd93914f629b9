package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/ratelimit"
)

// Sweepers are the app's background jobs:
//
//   - expire-uploads: pending uploads past their expiry (and grace) are
//     ended and their objects queued for deletion, due once their URLs can
//     no longer store bytes; ended uploads whose reservation outlived that
//     time are released;
//   - purge-trash: trash entries past the retention period are deleted (rows
//     first, objects queued);
//   - delete-objects: the queue of objects to delete is worked through as
//     each falls due, each failure retried later with backoff, until the
//     store confirms; an ended upload's reservation is released with its
//     object;
//   - sweep-throttles: ended rate-limit windows are removed;
//   - reconcile-store: once a day, objects in the store that no row refers
//     to (older than files.Service.MinOrphanAge) are queued for deletion,
//     and file rows whose object is missing are logged as errors.
//
// logger receives what reconcile-store found.
func Sweepers(fs *files.Service, limiter *ratelimit.Limiter, logger *slog.Logger) []Job {
	return []Job{
		{Name: "expire-uploads", Every: 5 * time.Minute, Run: fs.ExpireUploads},
		{Name: "purge-trash", Every: 15 * time.Minute, Run: fs.PurgeExpiredTrash},
		{Name: "delete-objects", Every: time.Minute, Run: fs.DeleteObjects},
		{Name: "sweep-throttles", Every: 10 * time.Minute, Run: func(ctx context.Context) (int, error) {
			n, err := limiter.Sweep(ctx)
			return int(n), err
		}},
		{Name: "reconcile-store", Every: 24 * time.Hour, Run: func(ctx context.Context) (int, error) {
			return reconcile(ctx, fs, logger)
		}},
	}
}

// reconcile runs files.Service.Reconcile and logs its findings: missing
// objects as an error (data a user expects is gone), queued orphans as
// information. It returns the number of orphans queued.
func reconcile(ctx context.Context, fs *files.Service, logger *slog.Logger) (int, error) {
	rep, err := fs.Reconcile(ctx)
	if err != nil {
		return rep.Queued, err
	}
	if rep.Missing > 0 {
		logger.Error("reconcile-store: file rows whose object is missing from the store",
			"files", rep.Missing, "some_keys", rep.MissingKeys)
	}
	logger.Info("reconcile-store", "objects", rep.Objects, "orphans_queued", rep.Queued, "missing_objects", rep.Missing)
	return rep.Queued, nil
}
