package files_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/blob"
	"github.com/weupload/weupload/internal/blob/blobtest"
	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/svctest"
)

func TestInitiateBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk", testConfig())
	ann, bob := e.User(t, "u"), e.User(t, "u")
	bobs, err := e.svc.CreateFolder(context.Background(), bob, files.CreateFolderInput{Name: "Bob's"})
	if err != nil {
		t.Fatal(err)
	}
	ok := files.InitiateInput{Name: "a.txt", Size: 10, ContentType: "text/plain"}
	with := func(f func(*files.InitiateInput)) files.InitiateInput { in := ok; f(&in); return in }
	tests := []struct {
		name  string
		in    files.InitiateInput
		code  apperr.Code
		field string
	}{
		{"negative size", with(func(in *files.InitiateInput) { in.Size = -1 }), apperr.Invalid, "size"},
		{"over the max", with(func(in *files.InitiateInput) { in.Size = e.cfg.MaxFileSize + 1 }), apperr.Invalid, "size"},
		{"empty name", with(func(in *files.InitiateInput) { in.Name = "" }), apperr.Invalid, "name"},
		{"blank name", with(func(in *files.InitiateInput) { in.Name = "   " }), apperr.Invalid, "name"},
		{"256-byte name", with(func(in *files.InitiateInput) { in.Name = strings.Repeat("é", 128) }), apperr.Invalid, "name"},
		{"slash", with(func(in *files.InitiateInput) { in.Name = "a/b.txt" }), apperr.Invalid, "name"},
		{"NUL", with(func(in *files.InitiateInput) { in.Name = "a\x00b" }), apperr.Invalid, "name"},
		{"dot-dot", with(func(in *files.InitiateInput) { in.Name = ".." }), apperr.Invalid, "name"},
		{"dot", with(func(in *files.InitiateInput) { in.Name = "." }), apperr.Invalid, "name"},
		{"control character", with(func(in *files.InitiateInput) { in.Name = "a\nb" }), apperr.Invalid, "name"},
		{"bidi override", with(func(in *files.InitiateInput) { in.Name = "a\u202Etxt.exe" }), apperr.Invalid, "name"},
		{"invalid UTF-8", with(func(in *files.InitiateInput) { in.Name = "a\xffb" }), apperr.Invalid, "name"},
		{"bad content type", with(func(in *files.InitiateInput) { in.ContentType = "not a type" }), apperr.Invalid, "content_type"},
		{"bad sha256", with(func(in *files.InitiateInput) { in.SHA256 = "abc" }), apperr.Invalid, "sha256"},
		{"bad on_conflict", with(func(in *files.InitiateInput) { in.OnConflict = "overwrite" }), apperr.Invalid, "on_conflict"},
		{"unknown folder", with(func(in *files.InitiateInput) { in.FolderID = "00000000-0000-4000-8000-000000000000" }), apperr.NotFound, ""},
		{"malformed folder id", with(func(in *files.InitiateInput) { in.FolderID = "../etc" }), apperr.NotFound, ""},
		{"another user's folder", with(func(in *files.InitiateInput) { in.FolderID = bobs.ID }), apperr.NotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.InitiateUpload(context.Background(), ann, tt.in)
			svctest.WantCode(t, err, tt.code)
			if tt.field != "" {
				if msg := apperr.As(err).Fields[tt.field]; msg == "" {
					t.Errorf("no message for %s: %v", tt.field, apperr.As(err).Fields)
				}
			}
		})
	}
	// Nothing was recorded or reserved.
	if n := e.Count(t, `SELECT count(*) FROM uploads`); n != 0 {
		t.Errorf("%d uploads recorded", n)
	}
	if u := e.usage(t, ann); u.Reserved != 0 || u.Used != 0 {
		t.Errorf("usage %+v after refused initiates", u)
	}
	// The limits themselves are accepted: 255 bytes, the max size.
	e.initiate(t, ann, with(func(in *files.InitiateInput) { in.Name = strings.Repeat("é", 127) + "x" }))
	e.initiate(t, ann, with(func(in *files.InitiateInput) { in.Name = "max"; in.Size = 50 << 20 }))
}

func TestUploadRoundtrip(t *testing.T) {
	t.Parallel()
	svctest.EachStore(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind, testConfig())
		ctx := context.Background()
		ann := e.User(t, "u")
		data := []byte("<svg onload=alert(1)>hello</svg>")
		sum := sha256.Sum256(data)
		urls := e.initiate(t, ann, files.InitiateInput{Name: "pic.svg", Size: int64(len(data)), ContentType: "image/svg+xml", SHA256: hex.EncodeToString(sum[:])})
		if urls.Upload.Mode != files.ModeSingle || urls.URL == "" || urls.Header["If-None-Match"] != "*" {
			t.Fatalf("initiate = %+v", urls)
		}
		if !strings.Contains(e.objectKey(t, urls.Upload.ID), "u/"+ann+"/") {
			t.Errorf("key %q is not under u/<owner>/", e.objectKey(t, urls.Upload.ID))
		}
		if strings.Contains(e.objectKey(t, urls.Upload.ID), "pic") {
			t.Error("the client's name reached the object key")
		}
		if u := e.usage(t, ann); u.Reserved != int64(len(data)) || u.Used != 0 {
			t.Errorf("after initiate: %+v, want %d reserved", u, len(data))
		}
		if st := svctest.PutSingle(t, urls, data); st != http.StatusOK {
			t.Fatalf("PUT: %d", st)
		}
		f, err := e.svc.CompleteUpload(ctx, ann, urls.Upload.ID, files.CompleteInput{})
		if err != nil {
			t.Fatal(err)
		}
		if f.Name != "pic.svg" || f.Size != int64(len(data)) || f.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("file = %+v", f)
		}
		if u := e.usage(t, ann); u.Reserved != 0 || u.Used != int64(len(data)) {
			t.Errorf("after complete: %+v, want %d used", u, len(data))
		}
		res, body := e.download(t, ann, f.ID)
		if res.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
			t.Fatalf("download: %d %q", res.StatusCode, body)
		}
		if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, "pic.svg") {
			t.Errorf("Content-Disposition %q", cd)
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/octet-stream" {
			t.Errorf("SVG served as %q, want application/octet-stream", ct)
		}
		st, err := e.svc.FindUpload(ctx, ann, urls.Upload.ID)
		if err != nil || st.State != files.StateDone || st.FileID != f.ID {
			t.Errorf("upload after complete: %+v %v", st.Upload, err)
		}
	})
}

func TestEmptyFile(t *testing.T) {
	t.Parallel()
	svctest.EachStore(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind, testConfig())
		ann := e.User(t, "u")
		f := e.upload(t, ann, "", "empty.txt", nil)
		if f.Size != 0 {
			t.Errorf("size %d", f.Size)
		}
		if _, body := e.download(t, ann, f.ID); len(body) != 0 {
			t.Errorf("downloaded %d bytes", len(body))
		}
	})
}

func TestCompleteTwiceChargesOnce(t *testing.T) {
	t.Parallel()
	svctest.EachStore(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind, testConfig())
		ctx := context.Background()
		ann := e.User(t, "u")
		data := svctest.RandomBytes(1000)
		urls := e.initiate(t, ann, files.InitiateInput{Name: "a.bin", Size: 1000})
		svctest.PutSingle(t, urls, data)
		// Concurrent completes (a client retrying on a timeout) and a late one.
		var wg sync.WaitGroup
		got := make([]files.File, 5)
		errs := make([]error, 5)
		for i := range got {
			wg.Go(func() { got[i], errs[i] = e.svc.CompleteUpload(ctx, ann, urls.Upload.ID, files.CompleteInput{}) })
		}
		wg.Wait()
		again, err := e.svc.CompleteUpload(ctx, ann, urls.Upload.ID, files.CompleteInput{})
		for i, err := range append(errs, err) {
			if err != nil {
				t.Fatalf("complete %d: %v", i, err)
			}
		}
		for _, f := range append(got, again) {
			if f.ID != got[0].ID {
				t.Fatalf("completes returned different files: %s and %s", f.ID, got[0].ID)
			}
		}
		if u := e.usage(t, ann); u.Used != 1000 || u.Reserved != 0 {
			t.Errorf("usage %+v, want 1000 used once", u)
		}
		if n := e.Count(t, `SELECT count(*) FROM files`); n != 1 {
			t.Errorf("%d files", n)
		}
	})
}

func TestCompleteBeforeBytes(t *testing.T) {
	t.Parallel()
	svctest.EachStore(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind, testConfig())
		ctx := context.Background()
		ann := e.User(t, "u")
		data := svctest.RandomBytes(100)
		urls := e.initiate(t, ann, files.InitiateInput{Name: "a.bin", Size: 100})
		_, err := e.svc.CompleteUpload(ctx, ann, urls.Upload.ID, files.CompleteInput{})
		svctest.WantCode(t, err, apperr.Conflict)

		// Multipart: nothing yet, then only some parts.
		big := svctest.RandomBytes(2*blob.MinPartSize + 10)
		mp := e.initiate(t, ann, files.InitiateInput{Name: "big.bin", Size: int64(len(big))})
		_, err = e.svc.CompleteUpload(ctx, ann, mp.Upload.ID, files.CompleteInput{})
		svctest.WantCode(t, err, apperr.Conflict)
		etag := svctest.PutPart(t, mp.Parts[0], big[:blob.MinPartSize])
		_, err = e.svc.CompleteUpload(ctx, ann, mp.Upload.ID, files.CompleteInput{})
		svctest.WantCode(t, err, apperr.Conflict)
		_, err = e.svc.CompleteUpload(ctx, ann, mp.Upload.ID, files.CompleteInput{Parts: []files.CompletedPart{
			{Number: 1, ETag: etag}, {Number: 2, ETag: `"nope"`}, {Number: 3, ETag: `"nope"`}}})
		svctest.WantCode(t, err, apperr.Conflict)

		// Nothing was lost: both finish once the bytes are there.
		svctest.PutSingle(t, urls, data)
		if _, err := e.svc.CompleteUpload(ctx, ann, urls.Upload.ID, files.CompleteInput{}); err != nil {
			t.Fatal(err)
		}
		svctest.PutPart(t, mp.Parts[1], big[blob.MinPartSize:2*blob.MinPartSize])
		svctest.PutPart(t, mp.Parts[2], big[2*blob.MinPartSize:])
		f, err := e.svc.CompleteUpload(ctx, ann, mp.Upload.ID, files.CompleteInput{})
		if err != nil {
			t.Fatal(err)
		}
		if _, body := e.download(t, ann, f.ID); !bytes.Equal(body, big) {
			t.Error("multipart bytes differ")
		}
	})
}

func TestWrongLengthPutIsRefused(t *testing.T) {
	t.Parallel()
	svctest.EachStore(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind, testConfig())
		ctx := context.Background()
		ann := e.User(t, "u")
		data := svctest.RandomBytes(1000)
		urls := e.initiate(t, ann, files.InitiateInput{Name: "a.bin", Size: 1000})
		for _, body := range [][]byte{data[:999], append(data[:1000:1000], 'x')} {
			if st := svctest.PutSingle(t, urls, body); st != http.StatusForbidden && st != http.StatusBadRequest {
				t.Fatalf("PUT of %d bytes for 1000: %d, want 403 or 400", len(body), st)
			}
		}
		// Storage kept nothing, so complete has nothing to verify (409, as
		// before any bytes) and creates nothing...
		_, err := e.svc.CompleteUpload(ctx, ann, urls.Upload.ID, files.CompleteInput{})
		svctest.WantCode(t, err, apperr.Conflict)
		if n := e.Count(t, `SELECT count(*) FROM files`); n != 0 {
			t.Fatalf("%d files after refused PUTs", n)
		}
		// ...and the upload still completes with the right bytes.
		if st := svctest.PutSingle(t, urls, data); st != http.StatusOK {
			t.Fatalf("PUT: %d", st)
		}
		if _, err := e.svc.CompleteUpload(ctx, ann, urls.Upload.ID, files.CompleteInput{}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestStoredBytesMismatch(t *testing.T) {
	t.Parallel()
	svctest.EachStore(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind, testConfig())
		ctx := context.Background()
		ann := e.User(t, "u")
		urls := e.initiate(t, ann, files.InitiateInput{Name: "a.bin", Size: 1000})
		// Both stores refuse a body of another length (see above), so plant
		// a wrong-size object at the upload's key directly, as a store that
		// did not enforce the signed length would have stored it.
		key := e.objectKey(t, urls.Upload.ID)
		req, err := e.Store.PresignPut(ctx, key, blob.PutOptions{Size: 999})
		if err != nil {
			t.Fatal(err)
		}
		if res := blobtest.Do(t, req, svctest.RandomBytes(999)); res.Status != http.StatusOK {
			t.Fatalf("plant: %d", res.Status)
		}
		_, err = e.svc.CompleteUpload(ctx, ann, urls.Upload.ID, files.CompleteInput{})
		svctest.WantCode(t, err, apperr.Invalid)
		if _, err := e.Store.Head(ctx, key); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("object still there after a failed verification: %v", err)
		}
		if n := e.Count(t, `SELECT count(*) FROM files`); n != 0 {
			t.Errorf("%d files created", n)
		}
		// The URL may still store bytes: the reservation stays until the
		// deletion due after its expiry.
		if u := e.usage(t, ann); u.Reserved != 1000 || u.Used != 0 {
			t.Errorf("usage %+v after a failed upload, want 1000 reserved", u)
		}
		e.pastURLs(t)
		if u := e.usage(t, ann); u.Reserved != 0 || u.Used != 0 {
			t.Errorf("usage %+v once the URL expired", u)
		}
		st, _ := e.svc.FindUpload(ctx, ann, urls.Upload.ID)
		if st.State != files.StateFailed {
			t.Errorf("state %q, want failed", st.State)
		}
		_, err = e.svc.CompleteUpload(ctx, ann, urls.Upload.ID, files.CompleteInput{})
		svctest.WantCode(t, err, apperr.Invalid)
	})
}

func TestChecksumEnforced(t *testing.T) {
	t.Parallel()
	svctest.EachStore(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind, testConfig())
		ann := e.User(t, "u")
		data := svctest.RandomBytes(100)
		sum := sha256.Sum256(data)
		urls := e.initiate(t, ann, files.InitiateInput{Name: "a.bin", Size: 100, SHA256: base64.StdEncoding.EncodeToString(sum[:])})
		if urls.Header["x-amz-checksum-sha256"] == "" {
			t.Errorf("headers %v lack the checksum", urls.Header)
		}
		other := svctest.RandomBytes(100)
		if st := svctest.PutSingle(t, urls, other); st < 400 {
			t.Fatalf("PUT with the wrong digest: %d", st)
		}
		if st := svctest.PutSingle(t, urls, data); st != http.StatusOK {
			t.Fatalf("PUT: %d", st)
		}
		f, err := e.svc.CompleteUpload(context.Background(), ann, urls.Upload.ID, files.CompleteInput{})
		if err != nil || f.SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("complete: %+v %v", f, err)
		}
	})
}

func TestPutURLReuseAfterComplete(t *testing.T) {
	t.Parallel()
	svctest.EachStore(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind, testConfig())
		ann := e.User(t, "u")
		data := svctest.RandomBytes(500)
		urls := e.initiate(t, ann, files.InitiateInput{Name: "a.bin", Size: 500})
		svctest.PutSingle(t, urls, data)
		f, err := e.svc.CompleteUpload(context.Background(), ann, urls.Upload.ID, files.CompleteInput{})
		if err != nil {
			t.Fatal(err)
		}
		if st := svctest.PutSingle(t, urls, svctest.RandomBytes(500)); st != http.StatusPreconditionFailed {
			t.Errorf("reused PUT URL: %d, want 412", st)
		}
		if _, body := e.download(t, ann, f.ID); !bytes.Equal(body, data) {
			t.Error("the stored file changed after a reused PUT URL")
		}
	})
}

func TestAnotherUsersUpload(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk", testConfig())
	ctx := context.Background()
	ann, bob := e.User(t, "u"), e.User(t, "u")
	urls := e.initiate(t, ann, files.InitiateInput{Name: "a.bin", Size: 10})
	svctest.PutSingle(t, urls, svctest.RandomBytes(10))
	id := urls.Upload.ID
	_, err := e.svc.CompleteUpload(ctx, bob, id, files.CompleteInput{})
	svctest.WantCode(t, err, apperr.NotFound)
	_, err = e.svc.FindUpload(ctx, bob, id)
	svctest.WantCode(t, err, apperr.NotFound)
	_, err = e.svc.UploadURLs(ctx, bob, id, nil)
	svctest.WantCode(t, err, apperr.NotFound)
	svctest.WantCode(t, e.svc.AbortUpload(ctx, bob, id), apperr.NotFound)
	_, err = e.svc.CompleteUpload(ctx, bob, "not-a-uuid", files.CompleteInput{})
	svctest.WantCode(t, err, apperr.NotFound)
	// Ann's upload is untouched.
	if _, err := e.svc.CompleteUpload(ctx, ann, id, files.CompleteInput{}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.DownloadURL(ctx, bob, mustFile(t, e, ann, id).ID)
	svctest.WantCode(t, err, apperr.NotFound)
}

func mustFile(t *testing.T, e *env, owner, uploadID string) files.File {
	t.Helper()
	st, err := e.svc.FindUpload(context.Background(), owner, uploadID)
	if err != nil {
		t.Fatal(err)
	}
	f, err := e.svc.FindFile(context.Background(), owner, st.FileID)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestExpiredURL(t *testing.T) {
	t.Parallel()
	svctest.EachStore(t, func(t *testing.T, kind string) {
		cfg := testConfig()
		cfg.UploadURLTTL = time.Second
		e := newEnv(t, kind, cfg)
		ctx := context.Background()
		ann := e.User(t, "u")
		data := svctest.RandomBytes(10)
		urls := e.initiate(t, ann, files.InitiateInput{Name: "a.bin", Size: 10})
		// The disk store reads the test clock; S3 checks real time.
		e.Clock.Advance(3 * time.Second)
		if kind == "s3" {
			time.Sleep(2100 * time.Millisecond)
		}
		if st := svctest.PutSingle(t, urls, data); st != http.StatusForbidden {
			t.Fatalf("PUT with an expired URL: %d, want 403", st)
		}
		// A fresh URL for the same upload works (from a service whose URLs
		// last long enough for a loaded machine to use them).
		e.cfg.UploadURLTTL = time.Minute
		fresh, err := e.service(e.Store).UploadURLs(ctx, ann, urls.Upload.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if st := svctest.PutSingle(t, fresh, data); st != http.StatusOK {
			t.Fatalf("PUT with a fresh URL: %d", st)
		}
		if _, err := e.svc.CompleteUpload(ctx, ann, urls.Upload.ID, files.CompleteInput{}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestUploadExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk", testConfig())
	ctx := context.Background()
	ann := e.User(t, "u")
	urls := e.initiate(t, ann, files.InitiateInput{Name: "a.bin", Size: 10})
	svctest.PutSingle(t, urls, svctest.RandomBytes(10))
	mp := e.initiate(t, ann, files.InitiateInput{Name: "b.bin", Size: blob.MinPartSize + 1})
	svctest.PutPart(t, mp.Parts[0], svctest.RandomBytes(blob.MinPartSize))
	key := e.objectKey(t, urls.Upload.ID)

	e.Clock.Advance(files.DefaultUploadExpiry + time.Minute)
	_, err := e.svc.CompleteUpload(ctx, ann, urls.Upload.ID, files.CompleteInput{})
	svctest.WantCode(t, err, apperr.Gone)
	// Within the grace period the sweeper leaves it alone...
	if n, err := e.svc.ExpireUploads(ctx); err != nil || n != 0 {
		t.Fatalf("ExpireUploads in the grace period: %d %v", n, err)
	}
	// ...then it ends them and deletes the bytes, keeping the reservation
	// until the deletion due a grace later (a PUT started before the
	// expiry may still land)...
	e.Clock.Advance(files.DefaultExpiryGrace)
	if n, err := e.svc.ExpireUploads(ctx); err != nil || n != 2 {
		t.Fatalf("ExpireUploads: %d %v", n, err)
	}
	if _, err := e.Store.Head(ctx, key); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("expired upload's object: %v", err)
	}
	if u := e.usage(t, ann); u.Reserved != 10+blob.MinPartSize+1 {
		t.Errorf("reserved %d right after expiry", u.Reserved)
	}
	// ...which then releases it.
	e.Clock.Advance(files.DefaultExpiryGrace)
	if _, err := e.svc.DeleteObjects(ctx); err != nil {
		t.Fatal(err)
	}
	if u := e.usage(t, ann); u.Reserved != 0 {
		t.Errorf("reserved %d after expiry", u.Reserved)
	}
	if n := e.Count(t, `SELECT count(*) FROM object_deletions`); n != 0 {
		t.Errorf("%d deletions left queued", n)
	}
	st, _ := e.svc.FindUpload(ctx, ann, mp.Upload.ID)
	if st.State != files.StateExpired {
		t.Errorf("state %q", st.State)
	}
}

func TestConcurrentInitiatesRespectQuota(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk", testConfig())
	ctx := context.Background()
	ann := e.User(t, "u")
	const quota, size, n = 10_000, 3_000, 20
	if err := e.svc.SetQuota(ctx, ann, quota); err != nil {
		t.Fatal(err)
	}
	e.upload(t, ann, "", "existing", svctest.RandomBytes(1000)) // 9000 left: room for 3
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	for i := range n {
		wg.Go(func() {
			_, err := e.svc.InitiateUpload(ctx, ann, files.InitiateInput{Name: "f" + string(rune('a'+i)), Size: size})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case apperr.Is(err, apperr.Conflict):
				refused++
			default:
				t.Errorf("initiate: %v", err)
			}
		})
	}
	wg.Wait()
	if ok != 3 || refused != n-3 {
		t.Errorf("%d accepted, %d refused; want 3 and %d", ok, refused, n-3)
	}
	if u := e.usage(t, ann); u.Used+u.Reserved > quota || u.Reserved != 3*size {
		t.Errorf("usage %+v exceeds the quota %d", u, quota)
	}
	// The refusal says why.
	_, err := e.svc.InitiateUpload(ctx, ann, files.InitiateInput{Name: "more", Size: size})
	if e := apperr.As(err); e == nil || !strings.Contains(e.Message, "Not enough space") {
		t.Errorf("over quota: %v", err)
	}
}

func TestStoreUnavailableDuringComplete(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "s3", testConfig())
	ctx := context.Background()
	ann := e.User(t, "u")
	data := svctest.RandomBytes(100)
	urls := e.initiate(t, ann, files.InitiateInput{Name: "a.bin", Size: 100})
	svctest.PutSingle(t, urls, data)
	// The fault: a second service on the same database whose store points at
	// a closed port, as if S3 were unreachable during complete.
	down := e.service(svctest.Unreachable(t))
	_, err := down.CompleteUpload(ctx, ann, urls.Upload.ID, files.CompleteInput{})
	svctest.WantCode(t, err, apperr.Unavailable)
	if apperr.As(err).RetryAfter <= 0 {
		t.Error("503 without Retry-After")
	}
	st, _ := e.svc.FindUpload(ctx, ann, urls.Upload.ID)
	if st.State != files.StatePending {
		t.Fatalf("state %q after a 503, want pending", st.State)
	}
	if n := e.Count(t, `SELECT count(*) FROM files`); n != 0 {
		t.Fatal("a file was created while storage was down")
	}
	// The retry (storage back) completes it.
	f, err := e.svc.CompleteUpload(ctx, ann, urls.Upload.ID, files.CompleteInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, body := e.download(t, ann, f.ID); !bytes.Equal(body, data) {
		t.Error("bytes differ")
	}
	// Initiating a multipart upload with storage down: 503 and nothing held.
	_, err = down.InitiateUpload(ctx, ann, files.InitiateInput{Name: "big", Size: blob.MinPartSize * 2})
	svctest.WantCode(t, err, apperr.Unavailable)
	if u := e.usage(t, ann); u.Reserved != 0 {
		t.Errorf("reserved %d after a failed initiate", u.Reserved)
	}
}

func TestDatabaseUnavailable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk", testConfig())
	ctx := context.Background()
	ann := e.User(t, "u")
	urls := e.initiate(t, ann, files.InitiateInput{Name: "a.bin", Size: 10})
	svctest.PutSingle(t, urls, svctest.RandomBytes(10))
	// The fault: a service whose pool points at a port nothing listens on.
	down, err := pgxpool.New(ctx, "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(down.Close)
	svc := files.New(down, e.Store, e.cfg)
	_, err = svc.CompleteUpload(ctx, ann, urls.Upload.ID, files.CompleteInput{})
	svctest.WantCode(t, err, apperr.Unavailable)
	_, err = svc.InitiateUpload(ctx, ann, files.InitiateInput{Name: "b.bin", Size: 10})
	svctest.WantCode(t, err, apperr.Unavailable)
	_, err = svc.List(ctx, ann, files.ListInput{})
	svctest.WantCode(t, err, apperr.Unavailable)
	// With the database back, the upload is still pending and completes.
	if _, err := e.svc.CompleteUpload(ctx, ann, urls.Upload.ID, files.CompleteInput{}); err != nil {
		t.Fatal(err)
	}
}

func TestMultipartUploadAndResume(t *testing.T) {
	t.Parallel()
	svctest.EachStore(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind, testConfig())
		ctx := context.Background()
		ann := e.User(t, "u")
		data := svctest.RandomBytes(3*blob.MinPartSize + 123)
		urls := e.initiate(t, ann, files.InitiateInput{Name: "big.bin", Size: int64(len(data)), ContentType: "application/zip"})
		if urls.Upload.Mode != files.ModeMultipart || urls.Upload.PartSize != blob.MinPartSize || len(urls.Parts) != 4 {
			t.Fatalf("initiate: mode %s part size %d, %d parts", urls.Upload.Mode, urls.Upload.PartSize, len(urls.Parts))
		}
		part := func(n int32) []byte {
			lo := int64(n-1) * blob.MinPartSize
			return data[lo:min(lo+blob.MinPartSize, int64(len(data)))]
		}
		// Two parts, then "the page reloads": the state lists them.
		svctest.PutPart(t, urls.Parts[0], part(1))
		svctest.PutPart(t, urls.Parts[2], part(3))
		st, err := e.svc.FindUpload(ctx, ann, urls.Upload.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Parts) != 2 || st.Parts[0].Number != 1 || st.Parts[1].Number != 3 {
			t.Fatalf("stored parts %+v, want 1 and 3", st.Parts)
		}
		// More URLs for the missing parts, in a batch.
		more, err := e.svc.UploadURLs(ctx, ann, urls.Upload.ID, []int32{2, 4})
		if err != nil {
			t.Fatal(err)
		}
		svctest.PutPart(t, more.Parts[0], part(2))
		svctest.PutPart(t, more.Parts[1], part(4))
		_, err = e.svc.UploadURLs(ctx, ann, urls.Upload.ID, []int32{5})
		svctest.WantCode(t, err, apperr.Invalid)

		// Complete with the client's list (as the browser does).
		st, _ = e.svc.FindUpload(ctx, ann, urls.Upload.ID)
		var in files.CompleteInput
		for _, p := range st.Parts {
			in.Parts = append(in.Parts, files.CompletedPart{Number: p.Number, ETag: p.ETag})
		}
		_, err = e.svc.CompleteUpload(ctx, ann, urls.Upload.ID, files.CompleteInput{Parts: in.Parts[:3]})
		svctest.WantCode(t, err, apperr.BadRequest)
		f, err := e.svc.CompleteUpload(ctx, ann, urls.Upload.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if f.Size != int64(len(data)) || f.ContentType != "application/zip" {
			t.Errorf("file %+v", f)
		}
		if _, body := e.download(t, ann, f.ID); !bytes.Equal(body, data) {
			t.Error("bytes differ")
		}
		// A retry after the store completed returns the file.
		if again, err := e.svc.CompleteUpload(ctx, ann, urls.Upload.ID, in); err != nil || again.ID != f.ID {
			t.Errorf("second complete: %v", err)
		}
	})
}

func TestPartSizeGrowsForHugeFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "s3", testConfig()) // the disk store would preallocate 200 GiB
	ann := e.User(t, "u")
	if err := e.svc.SetQuota(context.Background(), ann, 1<<40); err != nil {
		t.Fatal(err)
	}
	cfg := e.cfg
	cfg.MaxFileSize = 1 << 40
	svc := files.New(e.Pool, e.Store, cfg)
	const size = 200 << 30 // 200 GiB: 5 MiB parts would need 40960
	urls, err := svc.InitiateUpload(context.Background(), ann, files.InitiateInput{Name: "huge", Size: size})
	if err != nil {
		t.Fatal(err)
	}
	if got := urls.Upload.Parts(); got > blob.MaxParts || urls.Upload.PartSize != (size+blob.MaxParts-1)/blob.MaxParts {
		t.Errorf("part size %d gives %d parts", urls.Upload.PartSize, got)
	}
	if len(urls.Parts) != files.FirstPartBatch {
		t.Errorf("first batch has %d URLs", len(urls.Parts))
	}
	_ = svc.AbortUpload(context.Background(), ann, urls.Upload.ID)
}

func TestAbortUpload(t *testing.T) {
	t.Parallel()
	svctest.EachStore(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind, testConfig())
		ctx := context.Background()
		ann := e.User(t, "u")
		urls := e.initiate(t, ann, files.InitiateInput{Name: "a.bin", Size: 10})
		svctest.PutSingle(t, urls, svctest.RandomBytes(10))
		mp := e.initiate(t, ann, files.InitiateInput{Name: "b.bin", Size: blob.MinPartSize + 1})
		svctest.PutPart(t, mp.Parts[0], svctest.RandomBytes(blob.MinPartSize))
		for _, id := range []string{urls.Upload.ID, mp.Upload.ID} {
			if err := e.svc.AbortUpload(ctx, ann, id); err != nil {
				t.Fatal(err)
			}
			if err := e.svc.AbortUpload(ctx, ann, id); err != nil {
				t.Fatalf("second abort: %v", err)
			}
			_, err := e.svc.CompleteUpload(ctx, ann, id, files.CompleteInput{})
			svctest.WantCode(t, err, apperr.Gone)
		}
		// The bytes go at once; the reservation stays until the URLs
		// have expired and the deletion then due has run.
		if _, err := e.Store.Head(ctx, e.objectKey(t, urls.Upload.ID)); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("aborted object: %v", err)
		}
		if u := e.usage(t, ann); u.Reserved != 10+blob.MinPartSize+1 {
			t.Errorf("reserved %d right after aborts", u.Reserved)
		}
		if n := e.Count(t, `SELECT count(*) FROM object_deletions`); n != 2 {
			t.Errorf("%d deletions queued, want 2", n)
		}
		e.pastURLs(t)
		if u := e.usage(t, ann); u.Reserved != 0 {
			t.Errorf("reserved %d after aborts", u.Reserved)
		}
		if n := e.Count(t, `SELECT count(*) FROM object_deletions`); n != 0 {
			t.Errorf("%d deletions still queued", n)
		}
		// A PUT after the abort cannot resurrect the multipart upload.
		if res := blobtest.Do(t, blob.Request{Method: http.MethodPut, URL: mp.Parts[1].URL, Header: mp.Parts[1].Header}, []byte{1}); res.Status < 400 {
			t.Errorf("part PUT after abort: %d", res.Status)
		}
		done := e.upload(t, ann, "", "c.bin", []byte("x"))
		var doneUpload string
		_ = e.Pool.QueryRow(ctx, `SELECT id FROM uploads WHERE file_id = $1`, done.ID).Scan(&doneUpload)
		svctest.WantCode(t, e.svc.AbortUpload(ctx, ann, doneUpload), apperr.Conflict)
	})
}

func TestDeletionQueueRetries(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "s3", testConfig())
	ctx := context.Background()
	ann := e.User(t, "u")
	f := e.upload(t, ann, "", "a.bin", svctest.RandomBytes(10))
	down := e.service(svctest.Unreachable(t))
	if err := down.TrashFile(ctx, ann, f.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := down.EmptyTrash(ctx, ann); err != nil {
		t.Fatal(err)
	}
	// The row is gone at once (no more downloads); the object waits, at
	// least until the upload's PUT URL has expired.
	_, err := e.svc.FindFile(ctx, ann, f.ID)
	svctest.WantCode(t, err, apperr.NotFound)
	if n, _ := e.svc.DeleteObjects(ctx); n != 0 {
		t.Fatalf("deleted %d objects while the PUT URL is valid", n)
	}
	e.Clock.Advance(e.cfg.UploadURLTTL + files.DefaultExpiryGrace)
	if n, err := down.DeleteObjects(ctx); n != 0 || err == nil {
		t.Fatalf("DeleteObjects with storage down: %d %v", n, err)
	}
	if n := e.Count(t, `SELECT count(*) FROM object_deletions WHERE attempts = 1`); n != 1 {
		t.Fatalf("%d queued deletions with one attempt", n)
	}
	// Not retried before its backoff; then done.
	if n, _ := e.svc.DeleteObjects(ctx); n != 0 {
		t.Errorf("retried %d before the backoff", n)
	}
	e.Clock.Advance(2 * time.Minute)
	if n, err := e.svc.DeleteObjects(ctx); n != 1 || err != nil {
		t.Fatalf("DeleteObjects: %d %v", n, err)
	}
	var key string
	_ = e.Pool.QueryRow(ctx, `SELECT object_key FROM uploads WHERE owner_id = $1`, ann).Scan(&key)
	if _, err := e.Store.Head(ctx, key); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("object after the queue ran: %v", err)
	}
	if u := e.usage(t, ann); u.Used != 0 {
		t.Errorf("used %d after purge", u.Used)
	}
}

func TestCompleteAfterFolderTrashedOrNameTaken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk", testConfig())
	ctx := context.Background()
	ann := e.User(t, "u")
	dir, err := e.svc.CreateFolder(ctx, ann, files.CreateFolderInput{Name: "Docs"})
	if err != nil {
		t.Fatal(err)
	}
	a := e.initiate(t, ann, files.InitiateInput{Name: "a.txt", Size: 1, FolderID: dir.ID})
	b := e.initiate(t, ann, files.InitiateInput{Name: "b.txt", Size: 1})
	svctest.PutSingle(t, a, []byte("a"))
	svctest.PutSingle(t, b, []byte("b"))
	if err := e.svc.TrashFolder(ctx, ann, dir.ID); err != nil {
		t.Fatal(err)
	}
	e.upload(t, ann, "", "b.txt", []byte("B")) // takes the name meanwhile
	fa, err := e.svc.CompleteUpload(ctx, ann, a.Upload.ID, files.CompleteInput{})
	if err != nil {
		t.Fatal(err)
	}
	if fa.FolderID != "" {
		t.Errorf("file went into the trashed folder %q", fa.FolderID)
	}
	fb, err := e.svc.CompleteUpload(ctx, ann, b.Upload.ID, files.CompleteInput{})
	if err != nil {
		t.Fatal(err)
	}
	if fb.Name != "b (1).txt" {
		t.Errorf("name %q, want b (1).txt", fb.Name)
	}
	// A name taken at initiate is refused unless rename is asked for.
	_, err = e.svc.InitiateUpload(ctx, ann, files.InitiateInput{Name: "b.txt", Size: 1})
	svctest.WantCode(t, err, apperr.Conflict)
	r := e.initiate(t, ann, files.InitiateInput{Name: "b.txt", Size: 1, OnConflict: files.ConflictRename})
	svctest.PutSingle(t, r, []byte("c"))
	fr, err := e.svc.CompleteUpload(ctx, ann, r.Upload.ID, files.CompleteInput{})
	if err != nil || fr.Name != "b (2).txt" {
		t.Errorf("renamed upload: %q %v", fr.Name, err)
	}
}

// TestQuotaMessageFiguresDiffer: a refused upload never shows the need and
// the free space as the same figure (the need rounds up, the free space
// down).
func TestQuotaMessageFiguresDiffer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk", testConfig())
	ctx := context.Background()
	tests := []struct {
		name        string
		quota, size int64
		want        string
	}{
		{"free just under the need", 3<<20 - 1000, 3 << 20, "needs 3 MiB, and 2.9 MiB of your 3 MiB is free"},
		{"need just over the free space", 3 << 20, 3<<20 + 1, "needs 3.1 MiB, and 3 MiB of your 3 MiB is free"},
		{"need just under a unit", 1000 << 10, 1<<20 - 1, "needs 1 MiB, and 1000 KiB of your 1000 KiB is free"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			owner := e.User(t, "u")
			if err := e.svc.SetQuota(ctx, owner, tt.quota); err != nil {
				t.Fatal(err)
			}
			_, err := e.svc.InitiateUpload(ctx, owner, files.InitiateInput{Name: "big.bin", Size: tt.size})
			svctest.WantCode(t, err, apperr.Conflict)
			if msg := apperr.As(err).Message; !strings.Contains(msg, tt.want) {
				t.Errorf("message %q, want it to contain %q", msg, tt.want)
			}
		})
	}
}

// TestUploadURLsRecordExpiry: every URL handed out moves the time an ended
// upload's reservation and deletion wait for; an upload that ended gets no
// more URLs, nor does an editor whose access was removed.
func TestUploadURLsRecordExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk", testConfig())
	ctx := context.Background()
	ann := e.User(t, "u")
	mp := e.initiate(t, ann, files.InitiateInput{Name: "b.bin", Size: blob.MinPartSize + 1})
	e.Clock.Advance(10 * time.Minute)
	asked := e.Clock.Now()
	if _, err := e.svc.UploadURLs(ctx, ann, mp.Upload.ID, []int32{2}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AbortUpload(ctx, ann, mp.Upload.ID); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.UploadURLs(ctx, ann, mp.Upload.ID, []int32{1})
	svctest.WantCode(t, err, apperr.Gone)
	var due time.Time
	if err := e.Pool.QueryRow(ctx, `SELECT not_before FROM object_deletions`).Scan(&due); err != nil {
		t.Fatal(err)
	}
	if want := asked.Add(e.cfg.UploadURLTTL + files.DefaultExpiryGrace); due.Before(want.Add(-time.Second)) {
		t.Errorf("deletion due %v, want after the last URL's expiry and grace, %v", due, want)
	}
	// Not released before that time, whatever runs.
	e.Clock.Advance(e.cfg.UploadURLTTL + files.DefaultExpiryGrace - 11*time.Minute)
	_, _ = e.svc.ExpireUploads(ctx)
	_, _ = e.svc.DeleteObjects(ctx)
	if u := e.usage(t, ann); u.Reserved != blob.MinPartSize+1 {
		t.Errorf("reserved %d before the last URL's expiry and grace", u.Reserved)
	}
	e.pastURLs(t)
	if u := e.usage(t, ann); u.Reserved != 0 {
		t.Errorf("reserved %d after", u.Reserved)
	}

	owner, _ := e.person(t, "Owner")
	bob, bobEmail := e.person(t, "Bob")
	team := e.folder(t, owner, "", "Team")
	g := e.share(t, owner, files.ShareInput{FolderID: team.ID, Email: bobEmail, Role: files.RoleEditor})
	up := e.initiate(t, bob, files.InitiateInput{Name: "b.txt", Size: 3, FolderID: team.ID})
	if _, err := e.svc.UploadURLs(ctx, bob, up.Upload.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RemoveGrant(ctx, owner, g.ID, files.AsOwner); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.UploadURLs(ctx, bob, up.Upload.ID, nil)
	svctest.WantCode(t, err, apperr.NotFound)
	if st, _ := e.svc.FindUpload(ctx, owner, up.Upload.ID); st.State != files.StateAborted {
		t.Errorf("state %q after the editor lost access, want aborted", st.State)
	}
}
