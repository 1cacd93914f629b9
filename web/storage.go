package main

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"time"

	"github.com/weupload/weupload/internal/blob"
	"github.com/weupload/weupload/internal/blob/disk"
	"github.com/weupload/weupload/internal/blob/s3"
	"github.com/weupload/weupload/internal/config"
	"github.com/weupload/weupload/internal/files"
)

// blobStore is the configured object store and, for the disk store, the
// handler of its signed /blob/ URLs and its closer.
type blobStore struct {
	blob.Store
	handler http.Handler // nil for S3
	close   func()
}

// newBlobStore builds the store STORAGE_BACKEND names: the local disk (one
// instance only; URLs on BASE_URL/blob/, signed with BLOB_SIGNING_KEY or a
// random per-process key) or S3 (credentials from the SDK's default chain).
func newBlobStore(cfg config.Config, logger *slog.Logger) (blobStore, error) {
	s := cfg.Storage
	if s.Backend == "s3" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		st, err := s3.New(ctx, s3Config(s))
		if err != nil {
			return blobStore{}, err
		}
		return blobStore{Store: st, close: func() {}}, nil
	}
	secret := []byte(s.SigningKey)
	if len(secret) == 0 {
		// Signed URLs then stop working when the process restarts, which is
		// fine for development; set BLOB_SIGNING_KEY to keep them.
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
	}
	st, err := disk.New(disk.Config{Dir: s.Dir, BaseURL: cfg.BaseURL.String(), Secret: secret, Log: logger})
	if err != nil {
		return blobStore{}, err
	}
	return blobStore{Store: st, handler: withTransferDeadlines(st.Handler()), close: func() { _ = st.Close() }}, nil
}

func s3Config(s config.Storage) s3.Config {
	return s3.Config{
		Bucket:         s.S3Bucket,
		Region:         s.S3Region,
		Endpoint:       s.S3Endpoint,
		PathStyle:      s.S3PathStyle,
		PublicEndpoint: s.S3PublicEndpoint,
	}
}

// filesConfig maps the storage settings onto the files service.
func filesConfig(s config.Storage) files.Config {
	return files.Config{
		MaxFileSize:        s.MaxFileSize,
		DefaultQuota:       s.DefaultQuota,
		MultipartThreshold: s.MultipartThreshold,
		PartSize:           s.PartSize,
		UploadURLTTL:       s.UploadURLTTL,
		DownloadURLTTL:     s.DownloadURLTTL,
		UploadExpiry:       s.UploadExpiry,
		TrashRetention:     s.TrashRetention,
	}
}

// Minimum transfer rate the /blob/ deadlines allow for, and the most a
// download may take.
const (
	minTransferRate = 64 << 10 // bytes per second
	maxDownloadTime = 12 * time.Hour
)

// withTransferDeadlines replaces the server's 60-second read and write
// timeouts (right for JSON, fatal for a 5 GiB PUT) on the disk store's
// routes: a PUT may take a minute plus its length at minTransferRate, a GET
// up to maxDownloadTime. Slow clients are still cut off eventually.
func withTransferDeadlines(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		now := time.Now()
		if r.ContentLength > 0 {
			d := time.Minute + time.Duration(r.ContentLength/minTransferRate)*time.Second
			_ = rc.SetReadDeadline(now.Add(d))
			_ = rc.SetWriteDeadline(now.Add(d + time.Minute))
		} else {
			_ = rc.SetWriteDeadline(now.Add(maxDownloadTime))
		}
		h.ServeHTTP(w, r)
	})
}
