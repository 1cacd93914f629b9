package files_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/weupload/weupload/internal/blob"
	"github.com/weupload/weupload/internal/blob/blobtest"
	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/svctest"
)

// putOrphan stores data under a fresh key of owner straight through the
// store, as a PUT whose row is gone leaves it.
func (e *env) putOrphan(tb testing.TB, owner string, data []byte) string {
	tb.Helper()
	key := "u/" + owner + "/" + svctest.RandomHex(16)
	req, err := e.Store.PresignPut(context.Background(), key, blob.PutOptions{Size: int64(len(data))})
	if err != nil {
		tb.Fatal(err)
	}
	if res := blobtest.Do(tb, req, data); res.Status != http.StatusOK {
		tb.Fatalf("PUT %s: %d %s", key, res.Status, res.Body)
	}
	return key
}

// exists reports whether the store holds key.
func (e *env) exists(tb testing.TB, key string) bool {
	tb.Helper()
	_, err := e.Store.Head(context.Background(), key)
	if err != nil && !errors.Is(err, blob.ErrNotFound) {
		tb.Fatal(err)
	}
	return err == nil
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	svctest.EachStore(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind, testConfig())
		ctx := context.Background()
		owner := e.User(t, "u")

		// Before the boundary: a file, an orphan, an orphan already queued
		// for deletion, a pending upload's object and a file whose object
		// is lost.
		kept := e.upload(t, owner, "", "kept.txt", []byte("kept"))
		keptKey := fileKey(t, e, kept.ID)
		oldOrphan := e.putOrphan(t, owner, []byte("old orphan"))
		queued := e.putOrphan(t, owner, []byte("queued"))
		if _, err := e.Pool.Exec(ctx, `INSERT INTO object_deletions (object_key, not_before) VALUES ($1, $2)`,
			queued, e.Clock.Now().Add(1000*time.Hour)); err != nil {
			t.Fatal(err)
		}
		pending := e.initiate(t, owner, files.InitiateInput{Name: "pending.bin", Size: 7})
		if st := svctest.PutSingle(t, pending, []byte("pending")); st != http.StatusOK {
			t.Fatalf("PUT pending: %d", st)
		}
		pendingKey := e.objectKey(t, pending.Upload.ID)
		lost := e.upload(t, owner, "", "lost.txt", []byte("lost"))
		lostKey := fileKey(t, e, lost.ID)
		if err := e.Store.Delete(ctx, lostKey); err != nil {
			t.Fatal(err)
		}
		// Store times have a resolution of a second (S3), so the boundary
		// keeps more than that from the objects on both sides.
		time.Sleep(1500 * time.Millisecond)
		boundary := time.Now()
		time.Sleep(1500 * time.Millisecond)
		young := e.putOrphan(t, owner, []byte("young orphan"))

		// Objects stored before the boundary are now exactly old enough.
		e.Clock.Advance(boundary.Add(e.svc.MinOrphanAge()).Sub(e.Clock.Now()))
		rep, err := e.svc.Reconcile(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Objects != 5 || rep.Queued != 1 || rep.Missing != 1 || !slices.Equal(rep.MissingKeys, []string{lostKey}) {
			t.Errorf("report %+v, want 5 objects, 1 queued, missing [%s]", rep, lostKey)
		}
		if n := e.Count(t, `SELECT count(*) FROM object_deletions WHERE object_key = $1`, oldOrphan); n != 1 {
			t.Errorf("old orphan queued %d times, want 1", n)
		}
		if n := e.Count(t, `SELECT count(*) FROM files WHERE id = $1`, lost.ID); n != 1 {
			t.Error("the row of the lost file was deleted")
		}

		// The deletion queue removes the old orphan and nothing else.
		if _, err := e.svc.DeleteObjects(ctx); err != nil {
			t.Fatal(err)
		}
		if e.exists(t, oldOrphan) {
			t.Error("old orphan still stored after DeleteObjects")
		}
		for name, key := range map[string]string{"file": keptKey, "young orphan": young, "pending upload": pendingKey, "queued": queued} {
			if !e.exists(t, key) {
				t.Errorf("%s %s was deleted", name, key)
			}
		}
		if _, b := e.download(t, owner, kept.ID); string(b) != "kept" {
			t.Errorf("kept file reads %q", b)
		}

		// A second run finds nothing new.
		rep, err = e.svc.Reconcile(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Objects != 4 || rep.Queued != 0 || rep.Missing != 1 {
			t.Errorf("second run: %+v, want 4 objects, none queued, 1 missing", rep)
		}
	})
}

func TestReconcileStoreUnavailable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk", testConfig())
	owner := e.User(t, "u")
	e.upload(t, owner, "", "a.txt", []byte("a"))
	e.Clock.Advance(e.svc.MinOrphanAge() * 2)
	_, err := e.service(svctest.Unreachable(t)).Reconcile(context.Background())
	if !errors.Is(err, blob.ErrUnavailable) {
		t.Fatalf("Reconcile with the store down: %v, want ErrUnavailable", err)
	}
	if n := e.Count(t, `SELECT count(*) FROM object_deletions`); n != 0 {
		t.Errorf("%d objects queued although the listing failed", n)
	}
}

// fileKey returns the store key of a file.
func fileKey(tb testing.TB, e *env, fileID string) string {
	tb.Helper()
	var key string
	if err := e.Pool.QueryRow(context.Background(), `SELECT object_key FROM files WHERE id = $1`, fileID).Scan(&key); err != nil {
		tb.Fatal(err)
	}
	return key
}
