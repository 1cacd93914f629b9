package files_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/files"
)

// TestConditionalUpdates checks IfUpdatedAt (HTTP If-Match): a rename or
// move applies only to the version the caller read, every update makes a
// new version even when the clock stands still, and of two concurrent
// updates from the same version exactly one wins.
func TestConditionalUpdates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk", testConfig())
	ctx := context.Background()
	ann := e.User(t, "u")
	docs, err := e.svc.CreateFolder(ctx, ann, files.CreateFolderInput{Name: "Docs"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.svc.CreateFolder(ctx, ann, files.CreateFolderInput{Name: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	f := e.upload(t, ann, "", "a.txt", []byte("a"))

	// The clock does not move in this test: versions must still change.
	renamed, err := e.svc.RenameFolder(ctx, ann, docs.ID, files.RenameInput{Name: "Papers", IfUpdatedAt: []time.Time{docs.UpdatedAt}})
	if err != nil {
		t.Fatal(err)
	}
	if !renamed.UpdatedAt.After(docs.UpdatedAt) {
		t.Fatalf("version did not move: %v then %v", docs.UpdatedAt, renamed.UpdatedAt)
	}

	t.Run("stale rename", func(t *testing.T) {
		_, err := e.svc.RenameFolder(ctx, ann, docs.ID, files.RenameInput{Name: "Lost", IfUpdatedAt: []time.Time{docs.UpdatedAt}})
		if !apperr.Is(err, apperr.Stale) {
			t.Fatalf("got %v, want Stale", err)
		}
		if got, _ := e.svc.FindFolder(ctx, ann, docs.ID); got.Name != "Papers" {
			t.Errorf("name %q after a refused rename", got.Name)
		}
	})
	t.Run("any of several versions", func(t *testing.T) {
		_, err := e.svc.RenameFolder(ctx, ann, docs.ID, files.RenameInput{Name: "Papers 2", IfUpdatedAt: []time.Time{docs.UpdatedAt, renamed.UpdatedAt}})
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("stale move", func(t *testing.T) {
		_, err := e.svc.MoveFile(ctx, ann, f.ID, files.MoveInput{FolderID: other.ID, IfUpdatedAt: []time.Time{f.UpdatedAt.Add(-time.Microsecond)}})
		if !apperr.Is(err, apperr.Stale) {
			t.Fatalf("got %v, want Stale", err)
		}
		moved, err := e.svc.MoveFile(ctx, ann, f.ID, files.MoveInput{FolderID: other.ID, IfUpdatedAt: []time.Time{f.UpdatedAt}})
		if err != nil || moved.FolderID != other.ID {
			t.Fatalf("move: %+v %v", moved, err)
		}
	})
	t.Run("not found before stale", func(t *testing.T) {
		_, err := e.svc.RenameFile(ctx, e.User(t, "u"), f.ID, files.RenameInput{Name: "x", IfUpdatedAt: []time.Time{{}}})
		if !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another user's file: %v, want NotFound", err)
		}
	})
	t.Run("one of two concurrent updates wins", func(t *testing.T) {
		cur, err := e.svc.FindFile(ctx, ann, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = e.svc.RenameFile(ctx, ann, f.ID, files.RenameInput{Name: []string{"left.txt", "right.txt"}[i], IfUpdatedAt: []time.Time{cur.UpdatedAt}})
			}()
		}
		wg.Wait()
		won, stale := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case apperr.Is(err, apperr.Stale):
				stale++
			default:
				t.Fatal(err)
			}
		}
		if won != 1 || stale != 1 {
			t.Fatalf("%d won, %d stale; want 1 and 1", won, stale)
		}
	})
}
