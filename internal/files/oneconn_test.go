package files_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/blob"
	"github.com/weupload/weupload/internal/database/dbtest"
	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/svctest"
)

// TestOneConnection runs every flow of the service on a pool of one
// connection. A method that held a connection (a transaction, or a
// reconcile session) while asking the pool for a second would wait for
// itself: each step has a short deadline, so that fails the step instead
// of hanging, and after each step the connection must be back in the pool.
func TestOneConnection(t *testing.T) {
	t.Parallel()
	svctest.EachStore(t, func(t *testing.T, kind string) {
		cfg, err := pgxpool.ParseConfig(dbtest.NewURL(t))
		if err != nil {
			t.Fatal(err)
		}
		cfg.MaxConns, cfg.MinConns = 1, 0
		pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		e := newEnvOn(t, kind, testConfig(), pool)
		svc := e.svc

		// step runs fn with a deadline well above what it takes alone.
		step := func(name string, fn func(ctx context.Context) error) {
			t.Helper()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := fn(ctx); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if n := pool.Stat().AcquiredConns(); n != 0 {
				t.Fatalf("%s: %d connections still held", name, n)
			}
		}
		ann, _ := e.person(t, "Ann")
		bob, bobEmail := e.person(t, "Bob")

		// upload sends data through initiate, PUT(s) and complete(via).
		upload := func(ctx context.Context, user, folder, name string, data []byte,
			complete func(ctx context.Context, id string, in files.CompleteInput) (files.File, error)) (files.File, error) {
			urls, err := svc.InitiateUpload(ctx, user, files.InitiateInput{Name: name, Size: int64(len(data)), FolderID: folder})
			if err != nil {
				return files.File{}, err
			}
			var in files.CompleteInput
			if urls.Upload.Mode == files.ModeMultipart {
				ps := urls.Upload.PartSize
				for _, p := range urls.Parts {
					lo := int64(p.Number-1) * ps
					in.Parts = append(in.Parts, files.CompletedPart{Number: p.Number, ETag: svctest.PutPart(t, p, data[lo:min(lo+ps, int64(len(data)))])})
				}
				if _, err := svc.FindUpload(ctx, user, urls.Upload.ID); err != nil {
					return files.File{}, err
				}
				if _, err := svc.UploadURLs(ctx, user, urls.Upload.ID, []int32{1}); err != nil {
					return files.File{}, err
				}
			} else if st := svctest.PutSingle(t, urls, data); st != http.StatusOK {
				t.Fatalf("PUT %s: %d", name, st)
			}
			return complete(ctx, urls.Upload.ID, in)
		}
		completeAs := func(user string) func(ctx context.Context, id string, in files.CompleteInput) (files.File, error) {
			return func(ctx context.Context, id string, in files.CompleteInput) (files.File, error) {
				return svc.CompleteUpload(ctx, user, id, in)
			}
		}

		var docs, archive files.Folder
		var small, big, shared files.File
		step("create folders", func(ctx context.Context) (err error) {
			if docs, err = svc.CreateFolder(ctx, ann, files.CreateFolderInput{Name: "docs"}); err != nil {
				return err
			}
			archive, err = svc.CreateFolder(ctx, ann, files.CreateFolderInput{Name: "archive", ParentID: docs.ID})
			return err
		})
		step("single upload", func(ctx context.Context) (err error) {
			small, err = upload(ctx, ann, docs.ID, "a.txt", []byte("hello"), completeAs(ann))
			return err
		})
		step("multipart upload", func(ctx context.Context) (err error) {
			big, err = upload(ctx, ann, "", "big.bin", svctest.RandomBytes(blob.MinPartSize+10), completeAs(ann))
			return err
		})
		step("complete again", func(ctx context.Context) error {
			_, err := svc.CompleteUpload(ctx, ann, mustUploadOf(t, e, big.ID), files.CompleteInput{})
			return err
		})
		step("upload pending and listed, then aborted", func(ctx context.Context) error {
			urls, err := svc.InitiateUpload(ctx, ann, files.InitiateInput{Name: "later.txt", Size: 3})
			if err != nil {
				return err
			}
			if _, err := svc.ListUploads(ctx, ann); err != nil {
				return err
			}
			return svc.AbortUpload(ctx, ann, urls.Upload.ID)
		})
		step("complete before the bytes", func(ctx context.Context) error {
			urls, err := svc.InitiateUpload(ctx, ann, files.InitiateInput{Name: "short.txt", Size: 4})
			if err != nil {
				return err
			}
			_, err = svc.CompleteUpload(ctx, ann, urls.Upload.ID, files.CompleteInput{})
			if !apperr.Is(err, apperr.Conflict) {
				t.Errorf("complete before bytes: %v, want Conflict", err)
			}
			return svc.AbortUpload(ctx, ann, urls.Upload.ID)
		})
		step("list, search, path, find, download, usage", func(ctx context.Context) error {
			p, err := svc.List(ctx, ann, files.ListInput{FolderID: docs.ID, Limit: 1})
			if err != nil {
				return err
			}
			if _, err := svc.List(ctx, ann, files.ListInput{FolderID: docs.ID, Cursor: p.Next, Sort: files.SortName}); err != nil {
				return err
			}
			if _, err := svc.Search(ctx, ann, files.SearchInput{Query: "txt"}); err != nil {
				return err
			}
			if _, err := svc.FolderPath(ctx, ann, archive.ID); err != nil {
				return err
			}
			if _, err := svc.FindFile(ctx, ann, small.ID); err != nil {
				return err
			}
			if _, err := svc.DownloadURL(ctx, ann, small.ID); err != nil {
				return err
			}
			_, err = svc.Usage(ctx, ann)
			return err
		})
		step("rename", func(ctx context.Context) error {
			if _, err := svc.RenameFile(ctx, ann, small.ID, files.RenameInput{Name: "b.txt"}); err != nil {
				return err
			}
			_, err := svc.RenameFolder(ctx, ann, archive.ID, files.RenameInput{Name: "old"})
			return err
		})
		step("move", func(ctx context.Context) error {
			if _, err := svc.MoveFile(ctx, ann, big.ID, files.MoveInput{FolderID: archive.ID}); err != nil {
				return err
			}
			_, err := svc.MoveFolder(ctx, ann, archive.ID, files.MoveInput{})
			return err
		})
		var grant files.Grant
		step("grant", func(ctx context.Context) (err error) {
			if grant, err = svc.Share(ctx, ann, files.ShareInput{FolderID: docs.ID, Email: bobEmail, Role: files.RoleViewer}); err != nil {
				return err
			}
			if grant, err = svc.SetGrantRole(ctx, ann, grant.ID, files.RoleEditor); err != nil {
				return err
			}
			if _, err := svc.ShareFiles(ctx, ann, []string{big.ID}, bobEmail, files.RoleViewer); err != nil {
				return err
			}
			if _, err := svc.ListGrants(ctx, ann, files.GrantFilter{FolderID: docs.ID}); err != nil {
				return err
			}
			_, err = svc.SharedWithMe(ctx, bob)
			return err
		})
		step("editor uploads into the shared folder", func(ctx context.Context) (err error) {
			if _, err := svc.FolderAccess(ctx, bob, docs.ID); err != nil {
				return err
			}
			shared, err = upload(ctx, bob, docs.ID, "from-bob.txt", []byte("bob"), completeAs(bob))
			if err != nil {
				return err
			}
			_, err = svc.FileAccess(ctx, bob, shared.ID)
			return err
		})
		step("editor's upload after the grant ends", func(ctx context.Context) error {
			urls, err := svc.InitiateUpload(ctx, bob, files.InitiateInput{Name: "late.txt", Size: 1, FolderID: docs.ID})
			if err != nil {
				return err
			}
			if _, err := svc.RemoveGrant(ctx, ann, grant.ID, files.AsOwner); err != nil {
				return err
			}
			_, err = svc.CompleteUpload(ctx, bob, urls.Upload.ID, files.CompleteInput{})
			if !apperr.Is(err, apperr.NotFound) {
				t.Errorf("complete after the grant ended: %v, want NotFound", err)
			}
			return nil
		})
		step("trash", func(ctx context.Context) error {
			if err := svc.TrashFile(ctx, ann, small.ID); err != nil {
				return err
			}
			if err := svc.Trash(ctx, ann, files.Selection{Folders: []string{docs.ID}, Files: []string{big.ID}}); err != nil {
				return err
			}
			_, err := svc.ListTrash(ctx, ann)
			return err
		})
		step("restore", func(ctx context.Context) error {
			return svc.Restore(ctx, ann, files.Selection{Folders: []string{docs.ID}, Files: []string{small.ID}})
		})
		step("purge", func(ctx context.Context) error {
			if err := svc.TrashFolder(ctx, ann, docs.ID); err != nil {
				return err
			}
			if _, err := svc.EmptyTrash(ctx, ann); err != nil {
				return err
			}
			if err := svc.TrashFolder(ctx, ann, archive.ID); err != nil {
				return err
			}
			e.Clock.Advance(svc.Config().TrashRetention + time.Hour)
			n, err := svc.PurgeExpiredTrash(ctx)
			if err == nil && n != 1 {
				t.Errorf("purged %d expired trash entries, want 1", n)
			}
			return err
		})
		step("sweepers", func(ctx context.Context) error {
			if _, err := svc.InitiateUpload(ctx, ann, files.InitiateInput{Name: "never.txt", Size: 1}); err != nil {
				return err
			}
			e.Clock.Advance(svc.Config().UploadExpiry + svc.Config().ExpiryGrace + time.Hour)
			if n, err := svc.ExpireUploads(ctx); err != nil || n != 1 {
				t.Errorf("expired %d uploads (%v), want 1", n, err)
			}
			// The expired upload's deletion is due once a URL asked for at
			// its expiry could no longer store bytes.
			e.Clock.Advance(svc.Config().ExpiryGrace + time.Second)
			if _, err := svc.Reconcile(ctx); err != nil {
				return err
			}
			_, err := svc.DeleteObjects(ctx)
			return err
		})
		if n := e.Count(t, `SELECT count(*) FROM object_deletions`); n != 0 {
			t.Errorf("%d objects still queued for deletion", n)
		}
	})
}

// mustUploadOf returns the id of the upload that made a file.
func mustUploadOf(tb testing.TB, e *env, fileID string) string {
	tb.Helper()
	var id string
	if err := e.Pool.QueryRow(context.Background(), `SELECT id FROM uploads WHERE file_id = $1`, fileID).Scan(&id); err != nil {
		tb.Fatal(err)
	}
	return id
}
