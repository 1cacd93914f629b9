package jobs

import (
	"context"
	"time"

	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/ratelimit"
)

// Sweepers are the app's background jobs:
//
//   - expire-uploads: pending uploads past their expiry (and grace) are
//     ended, their reservations released, their objects queued for deletion;
//   - purge-trash: trash entries past the retention period are deleted (rows
//     first, objects queued);
//   - delete-objects: the queue of objects to delete is worked through, each
//     failure retried later with backoff, until the store confirms;
//   - sweep-throttles: ended rate-limit windows are removed.
func Sweepers(fs *files.Service, limiter *ratelimit.Limiter) []Job {
	return []Job{
		{Name: "expire-uploads", Every: 5 * time.Minute, Run: fs.ExpireUploads},
		{Name: "purge-trash", Every: 15 * time.Minute, Run: fs.PurgeExpiredTrash},
		{Name: "delete-objects", Every: time.Minute, Run: fs.DeleteObjects},
		{Name: "sweep-throttles", Every: 10 * time.Minute, Run: func(ctx context.Context) (int, error) {
			n, err := limiter.Sweep(ctx)
			return int(n), err
		}},
	}
}
