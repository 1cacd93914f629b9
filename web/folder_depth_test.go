package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/weupload/weupload/internal/files"
)

// folderChain makes n nested folders under parent ("" for the root) through
// the service and returns their ids, outermost first.
func folderChain(t testing.TB, ta *testApp, ownerID, parent, prefix string, n int) []string {
	t.Helper()
	ids := make([]string, 0, n)
	for i := range n {
		f, err := ta.files.CreateFolder(t.Context(), ownerID, files.CreateFolderInput{ParentID: parent, Name: fmt.Sprintf("%s%d", prefix, i+1)})
		if err != nil {
			t.Fatalf("level %d: %v", i+1, err)
		}
		ids = append(ids, f.ID)
		parent = f.ID
	}
	return ids
}

// maxFolderDepth is the depth of the owner's deepest folder.
func maxFolderDepth(t testing.TB, ta *testApp, ownerID string) int {
	t.Helper()
	var depth int
	err := ta.pool.QueryRow(t.Context(), `
		WITH RECURSIVE down AS (
			SELECT id, 1 AS depth FROM folders WHERE owner_id = $1 AND parent_id IS NULL
			UNION ALL
			SELECT f.id, down.depth + 1 FROM folders f JOIN down ON f.parent_id = down.id
		)
		SELECT max(depth) FROM down`, ownerID).Scan(&depth)
	if err != nil {
		t.Fatal(err)
	}
	return depth
}

// TestFolderDepthLimit: folders nest at most files.MaxFolderDepth levels:
// creating one at the limit works, one level deeper is refused with a 422
// naming the limit, and so is moving a subtree whose deepest folder would
// pass it; the page and breadcrumbs of a folder at the limit stay cheap.
func TestFolderDepthLimit(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	ann, annUser := ta.shareUser(t, "ann@example.com")
	const limit = files.MaxFolderDepth
	chain := folderChain(t, ta, annUser.ID, "", "d", limit-1)
	create := func(parent, name string) response {
		return ann.apiCall("POST", "/api/v1/folders", "", fmt.Sprintf(`{"name":%q,"parent_id":%q}`, name, parent))
	}
	r := create(chain[len(chain)-1], "at-limit")
	wantStatus(t, r, http.StatusCreated)
	deepest := decode[struct {
		ID string `json:"id"`
	}](t, r).ID
	wantProblem(t, create(deepest, "too-deep"), http.StatusUnprocessableEntity, fmt.Sprintf("at most %d levels", limit))

	// The browser's form says it too.
	wantBody(t, ann.htmxPost("/folders", "", url.Values{"parent_id": {deepest}, "name": {"too-deep"}}), fmt.Sprintf("at most %d levels", limit))

	// A subtree of two levels fits under depth limit-2, not under limit-1.
	sub := folderChain(t, ta, annUser.ID, "", "s", 2)
	move := func(id, to string) response {
		return ann.apiCall("POST", "/api/v1/folders/"+id+"/move", "", fmt.Sprintf(`{"folder_id":%q}`, to))
	}
	wantProblem(t, move(sub[0], chain[limit-2]), http.StatusUnprocessableEntity, fmt.Sprintf("at most %d levels", limit))
	wantStatus(t, move(sub[0], chain[limit-3]), http.StatusOK)
	if d := maxFolderDepth(t, ta, annUser.ID); d != limit {
		t.Errorf("deepest folder at %d, want %d", d, limit)
	}

	// The page of the deepest folder, breadcrumbs and all.
	start := time.Now()
	wantStatus(t, ann.get("/folders/"+deepest), http.StatusOK)
	t.Logf("page of a folder %d levels deep: %v", limit, time.Since(start))
}

// TestFolderDepthLimitConcurrent: a folder created at the bottom of a
// chain while the chain is moved one level deeper, each within the limit
// alone, cannot together pass it.
func TestFolderDepthLimitConcurrent(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	ann, annUser := ta.shareUser(t, "ann@example.com")
	const limit = files.MaxFolderDepth
	for round := range 3 {
		into, err := ta.files.CreateFolder(t.Context(), annUser.ID, files.CreateFolderInput{Name: fmt.Sprintf("into-%d", round)})
		if err != nil {
			t.Fatal(err)
		}
		chain := folderChain(t, ta, annUser.ID, "", fmt.Sprintf("r%d-", round), limit-1)
		call := func(path, body string) int {
			req, _ := http.NewRequestWithContext(context.Background(), "POST", ta.srv.URL+path, bytes.NewReader([]byte(body)))
			req.Header.Set("Content-Type", "application/json")
			res, err := ann.hc.Do(req)
			if err != nil {
				return 0
			}
			res.Body.Close()
			return res.StatusCode
		}
		var created, moved int
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Go(func() {
			<-start
			created = call("/api/v1/folders", fmt.Sprintf(`{"name":"leaf","parent_id":%q}`, chain[len(chain)-1]))
		})
		wg.Go(func() {
			<-start
			moved = call("/api/v1/folders/"+chain[0]+"/move", fmt.Sprintf(`{"folder_id":%q}`, into.ID))
		})
		close(start)
		wg.Wait()
		d := maxFolderDepth(t, ta, annUser.ID)
		t.Logf("round %d: create %d, move %d, deepest folder at %d", round, created, moved, d)
		if d > limit {
			t.Fatalf("deepest folder at %d, past the limit of %d", d, limit)
		}
		if created != http.StatusCreated && moved != http.StatusOK {
			t.Fatalf("both refused: create %d, move %d", created, moved)
		}
	}
}
