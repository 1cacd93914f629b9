package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/shares"
)

// Regression tests for upload URLs used against the quota and against
// access removal, fired concurrently at the real router.

// offsetClock is a service clock that tests move forward.
type offsetClock struct{ offset atomic.Int64 }

func (c *offsetClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *offsetClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// putAll sends body to url with headers from n goroutines at once and
// returns their statuses (0 for a transport error).
func putAll(n int, url string, headers map[string]string, body []byte) []int {
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			req, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
			for k, v := range headers {
				req.Header.Set(k, v)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		})
	}
	close(start)
	wg.Wait()
	return statuses
}

// storedBytes is what the store holds under the owner's keys.
func storedBytes(t testing.TB, ta *testApp, ownerID string) int64 {
	t.Helper()
	var n int64
	for o, err := range ta.blob.List(t.Context(), "u/"+ownerID+"/") {
		if err != nil {
			t.Fatal(err)
		}
		n += o.Size
	}
	return n
}

func usageOf(t testing.TB, ta *testApp, ownerID string) files.Usage {
	t.Helper()
	u, err := ta.files.Usage(t.Context(), ownerID)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// pastUploadURLs moves the files clock past the time any upload URL handed
// out so far can store bytes, then runs the sweepers that end uploads and
// delete objects.
func pastUploadURLs(t testing.TB, ta *testApp, clock *offsetClock) {
	t.Helper()
	cfg := ta.files.Config()
	clock.Advance(cfg.UploadURLTTL + cfg.ExpiryGrace + time.Second)
	if _, err := ta.files.ExpireUploads(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := ta.files.DeleteObjects(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestAbortedUploadURLKeepsQuota: an upload's PUT URL stays valid after an
// abort, so the abort keeps the reservation until the URL has expired and
// the object's deletion (due then) has run. Five concurrent PUTs to the old
// URL, with five concurrent initiates of the same size, cannot store more
// than the quota; once the clock passes the due time the deletion job
// deletes the object and releases the reservation, once.
func TestAbortedUploadURLKeepsQuota(t *testing.T) {
	clock := &offsetClock{}
	ta := newFilesTestApp(t, nil, func(a *app) { a.files.Now = clock.Now })
	ann, annUser := ta.shareUser(t, "ann@example.com")
	const quota, size = 1 << 20, 600 << 10
	if err := ta.files.SetQuota(t.Context(), annUser.ID, quota); err != nil {
		t.Fatal(err)
	}
	initiate := func(name string) response {
		return ann.apiCall("POST", "/api/v1/uploads", "", fmt.Sprintf(`{"name":%q,"size":%d}`, name, size))
	}
	r := initiate("first.bin")
	wantStatus(t, r, http.StatusCreated)
	u := decode[apiUploadURLs](t, r)
	wantStatus(t, ann.apiCall("DELETE", "/api/v1/uploads/"+u.ID, "", ""), http.StatusNoContent)

	// The attack: PUTs to the aborted upload's URL while initiating more.
	body := randomData(size)
	var puts []int
	initiated := make([]int, 5)
	var wg sync.WaitGroup
	wg.Go(func() { puts = putAll(5, u.URL, u.Headers, body) })
	for i := range initiated {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", ta.srv.URL+"/api/v1/uploads", bytes.NewReader(fmt.Appendf(nil, `{"name":"more-%d.bin","size":%d}`, i, size)))
			req.Header.Set("Content-Type", "application/json")
			res, err := ann.hc.Do(req)
			if err != nil {
				return
			}
			res.Body.Close()
			initiated[i] = res.StatusCode
		})
	}
	wg.Wait()
	accepted := 0
	for _, st := range initiated {
		if st == http.StatusCreated {
			accepted++
		}
	}
	stored := storedBytes(t, ta, annUser.ID)
	us := usageOf(t, ta, annUser.ID)
	t.Logf("after abort: PUT statuses %v, initiates %v, stored %d bytes, usage %+v", puts, initiated, stored, us)
	if accepted != 0 {
		t.Errorf("%d initiates of %d bytes accepted while the aborted upload's URL is valid (quota %d)", accepted, size, quota)
	}
	if us.Reserved != size || us.Used != 0 {
		t.Errorf("usage %+v after the abort, want the %d bytes still reserved", us, size)
	}
	if stored+int64(accepted)*size > quota {
		t.Errorf("%d bytes stored and %d more reserved, past the quota of %d", stored, int64(accepted)*size, quota)
	}

	// The deletion is not due yet: the job leaves it (and the reservation).
	if _, err := ta.files.DeleteObjects(t.Context()); err != nil {
		t.Fatal(err)
	}
	if us := usageOf(t, ta, annUser.ID); us.Reserved != size {
		t.Errorf("reserved %d before the deletion is due, want %d", us.Reserved, size)
	}

	// Past the URL's expiry and the grace: the object goes, then the
	// reservation, and only once whatever runs again.
	pastUploadURLs(t, ta, clock)
	pastUploadURLs(t, ta, clock)
	if n := storedBytes(t, ta, annUser.ID); n != 0 {
		t.Errorf("%d bytes still stored once the deletion was due", n)
	}
	if us := usageOf(t, ta, annUser.ID); us.Reserved != 0 || us.Used != 0 {
		t.Errorf("usage %+v once the deletion ran, want nothing", us)
	}
	wantStatus(t, initiate("again.bin"), http.StatusCreated)
}

// TestAbortRaceChargesOnce: concurrent aborts, completes and sweeps of the
// same uploads charge or release each reservation exactly once.
func TestAbortRaceChargesOnce(t *testing.T) {
	clock := &offsetClock{}
	ta := newFilesTestApp(t, nil, func(a *app) { a.files.Now = clock.Now })
	ann, annUser := ta.shareUser(t, "ann@example.com")
	const quota, size, n = 1 << 20, 100 << 10, 8
	if err := ta.files.SetQuota(t.Context(), annUser.ID, quota); err != nil {
		t.Fatal(err)
	}
	ups := make([]apiUploadURLs, n)
	for i := range ups {
		r := ann.apiCall("POST", "/api/v1/uploads", "", fmt.Sprintf(`{"name":"f%d.bin","size":%d}`, i, size))
		wantStatus(t, r, http.StatusCreated)
		ups[i] = decode[apiUploadURLs](t, r)
		if st, _ := put(t, ups[i].URL, ups[i].Headers, randomData(size)); st != http.StatusOK {
			t.Fatalf("PUT %d", st)
		}
	}
	call := func(method, path, body string) {
		req, _ := http.NewRequest(method, ta.srv.URL+path, bytes.NewReader([]byte(body)))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if res, err := ann.hc.Do(req); err == nil {
			res.Body.Close()
		}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, u := range ups {
		for range 2 {
			wg.Go(func() { <-start; call("DELETE", "/api/v1/uploads/"+u.ID, "") })
			wg.Go(func() { <-start; call("POST", "/api/v1/uploads/"+u.ID+"/complete", `{"parts":[]}`) })
		}
	}
	wg.Go(func() { <-start; _, _ = ta.files.ExpireUploads(context.Background()) })
	wg.Go(func() { <-start; _, _ = ta.files.DeleteObjects(context.Background()) })
	close(start)
	wg.Wait()

	var done int64
	for _, u := range ups {
		st, err := ta.files.FindUpload(t.Context(), annUser.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.State == files.StateDone {
			done++
		}
	}
	t.Logf("%d of %d uploads done after the race", done, n)
	if us := usageOf(t, ta, annUser.ID); us.Used != done*size || us.Reserved != (n-done)*size {
		t.Errorf("usage %+v with %d of %d uploads done, want %d used and %d reserved", us, done, n, done*size, (n-done)*size)
	}
	pastUploadURLs(t, ta, clock)
	pastUploadURLs(t, ta, clock)
	if us := usageOf(t, ta, annUser.ID); us.Used != done*size || us.Reserved != 0 {
		t.Errorf("usage %+v once the deletions ran, want %d used, nothing reserved", us, done*size)
	}
	if got := storedBytes(t, ta, annUser.ID); got != done*size {
		t.Errorf("%d bytes stored, want the %d of the files", got, done*size)
	}
}

// TestRequestAbortedUploadURLKeepsQuota: the same through an upload link,
// anonymously: after an abort the link's uploader cannot store more than
// the owner's quota through old URLs.
func TestRequestAbortedUploadURLKeepsQuota(t *testing.T) {
	clock := &offsetClock{}
	ta := newFilesTestApp(t, nil, func(a *app) { a.files.Now = clock.Now })
	_, annUser := ta.shareUser(t, "ann@example.com")
	const quota, size = 1 << 20, 600 << 10
	if err := ta.files.SetQuota(t.Context(), annUser.ID, quota); err != nil {
		t.Fatal(err)
	}
	maxBytes := int64(700 << 10)
	req, err := ta.shares.CreateRequest(t.Context(), annUser.ID, shares.CreateRequestInput{MaxBytes: &maxBytes})
	if err != nil {
		t.Fatal(err)
	}
	token := tokenFrom(req.URL)
	up := ta.client(t)
	accepted := 0
	for i := range 5 {
		r := up.apiCall("POST", "/r/"+token+"/uploads", "", fmt.Sprintf(`{"name":"x%d.bin","size":%d}`, i, size))
		if r.status != http.StatusCreated {
			continue
		}
		accepted++
		u := decode[apiUploadURLs](t, r)
		wantStatus(t, up.apiCall("DELETE", "/r/"+token+"/uploads/"+u.ID, "", ""), http.StatusNoContent)
		putAll(3, u.URL, u.Headers, randomData(size))
	}
	stored := storedBytes(t, ta, annUser.ID)
	t.Logf("through the link: %d initiates accepted, %d bytes stored, usage %+v", accepted, stored, usageOf(t, ta, annUser.ID))
	if stored > quota || accepted != 1 {
		t.Errorf("%d uploads accepted, %d bytes stored, quota %d", accepted, stored, quota)
	}
	pastUploadURLs(t, ta, clock)
	if n := storedBytes(t, ta, annUser.ID); n != 0 {
		t.Errorf("%d bytes left once the deletions ran", n)
	}
	if us := usageOf(t, ta, annUser.ID); us.Reserved != 0 {
		t.Errorf("reserved %d once the deletions ran", us.Reserved)
	}
}

// TestPurgedFileURLDeletionWaits: a file purged from the trash while its
// upload's PUT URL is valid has its deletion due after that URL's expiry,
// so bytes PUT again through it are deleted too.
func TestPurgedFileURLDeletionWaits(t *testing.T) {
	clock := &offsetClock{}
	ta := newFilesTestApp(t, nil, func(a *app) { a.files.Now = clock.Now })
	ann, annUser := ta.shareUser(t, "ann@example.com")
	data := randomData(1000)
	r := ann.apiCall("POST", "/api/v1/uploads", "", `{"name":"a.bin","size":1000}`)
	wantStatus(t, r, http.StatusCreated)
	u := decode[apiUploadURLs](t, r)
	if st, _ := put(t, u.URL, u.Headers, data); st != http.StatusOK {
		t.Fatalf("PUT %d", st)
	}
	r = ann.apiCall("POST", "/api/v1/uploads/"+u.ID+"/complete", "", `{"parts":[]}`)
	wantStatus(t, r, http.StatusOK)
	f := decode[apiFile](t, r)
	if err := ta.files.TrashFile(t.Context(), annUser.ID, f.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ta.files.EmptyTrash(t.Context(), annUser.ID); err != nil {
		t.Fatal(err)
	}
	// The deletion job runs while the URL is valid and PUTs arrive.
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = ta.files.DeleteObjects(context.Background()) })
	wg.Go(func() { putAll(5, u.URL, u.Headers, data) })
	wg.Wait()
	if _, err := ta.files.DeleteObjects(t.Context()); err != nil {
		t.Fatal(err)
	}
	var due time.Time
	if err := ta.pool.QueryRow(t.Context(), `SELECT not_before FROM object_deletions`).Scan(&due); err != nil {
		t.Fatalf("no deletion queued after the purge: %v", err)
	}
	if min := clock.Now().Add(ta.files.Config().UploadURLTTL - time.Minute); due.Before(min) {
		t.Errorf("deletion due %v, before the PUT URL expires (~%v)", due, min)
	}
	pastUploadURLs(t, ta, clock)
	if n := storedBytes(t, ta, annUser.ID); n != 0 {
		t.Errorf("%d bytes stored once the deletion was due", n)
	}
}

// TestRemovedEditorGetsNoUploadURLs: once the owner removes an editor's
// grant, the editor's pending upload gets no fresh URLs (as complete
// refuses it), whatever number of requests ask at once.
func TestRemovedEditorGetsNoUploadURLs(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	_, annUser := ta.shareUser(t, "ann@example.com")
	bob, _ := ta.shareUser(t, "bob@example.com")
	folder, err := ta.files.CreateFolder(t.Context(), annUser.ID, files.CreateFolderInput{Name: "Team"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := ta.files.Share(t.Context(), annUser.ID, files.ShareInput{FolderID: folder.ID, Email: "bob@example.com", Role: files.RoleEditor})
	if err != nil {
		t.Fatal(err)
	}
	r := bob.apiCall("POST", "/api/v1/uploads", "", fmt.Sprintf(`{"name":"b.txt","size":3,"folder_id":%q}`, folder.ID))
	wantStatus(t, r, http.StatusCreated)
	u := decode[apiUploadURLs](t, r)
	wantStatus(t, bob.apiCall("POST", "/api/v1/uploads/"+u.ID+"/parts", "", `{"numbers":[]}`), http.StatusOK)
	if _, err := ta.files.RemoveGrant(t.Context(), annUser.ID, g.ID, files.AsOwner); err != nil {
		t.Fatal(err)
	}
	statuses := make([]int, 5)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", ta.srv.URL+"/api/v1/uploads/"+u.ID+"/parts", bytes.NewReader([]byte(`{"numbers":[]}`)))
			req.Header.Set("Content-Type", "application/json")
			res, err := bob.hc.Do(req)
			if err != nil {
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		})
	}
	wg.Wait()
	t.Logf("URL requests after the grant was removed: %v", statuses)
	for _, st := range statuses {
		if st == http.StatusOK {
			t.Errorf("fresh URLs after the grant was removed: %v", statuses)
			break
		}
	}
}
