package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/ratelimit"
	"github.com/weupload/weupload/internal/shares"
)

// Regression tests for the limits of upload links and limited share links,
// fired concurrently at the real router.

// throttleRows counts the rows of the throttles table.
func throttleRows(t testing.TB, ta *testApp) int {
	t.Helper()
	var n int
	if err := ta.pool.QueryRow(t.Context(), `SELECT count(*) FROM throttles`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestUploaderThrottleMadeUpTokens: many uploader calls with made-up
// tokens from one address, all at once, are counted per IP only: the
// throttles table gets one row, not one per token, and the address is
// refused with 429 once over its limit.
func TestUploaderThrottleMadeUpTokens(t *testing.T) {
	const calls, ipLimit = 60, 20
	ta := newFilesTestApp(t, nil, func(a *app) {
		a.apiRules = apiRules{Caller: ratelimit.Rule{Limit: 3, Window: time.Minute}, IP: ratelimit.Rule{Limit: ipLimit, Window: time.Minute}}
	})
	before := throttleRows(t, ta)
	statuses := make([]int, calls)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range calls {
		wg.Go(func() {
			b := make([]byte, 24)
			_, _ = rand.Read(b)
			token := base64.RawURLEncoding.EncodeToString(b) // well-formed, unknown
			if i%4 == 0 {
				token = "junk-" + token[:10]
			}
			<-start
			req, _ := http.NewRequest(http.MethodGet, ta.srv.URL+"/r/"+token+"/uploads/00000000-0000-0000-0000-000000000000", nil)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		})
	}
	close(start)
	wg.Wait()
	count := map[int]int{}
	for _, st := range statuses {
		count[st]++
	}
	rows := throttleRows(t, ta) - before
	t.Logf("%d calls with made-up tokens from one address: statuses %v, %d new throttle rows", calls, count, rows)
	if rows != 1 {
		t.Errorf("%d new rows in the throttles table, want 1 (the address)", rows)
	}
	if count[http.StatusNotFound] != ipLimit || count[http.StatusTooManyRequests] != calls-ipLimit {
		t.Errorf("statuses %v, want %d × 404 and %d × 429", count, ipLimit, calls-ipLimit)
	}

	// The address is checked first: a real link's calls from it are refused
	// without a count of their own (TestUploadRequestRateLimit has a real
	// link's count).
	_, annUser := ta.shareUser(t, "ann@example.com")
	req, err := ta.shares.CreateRequest(t.Context(), annUser.ID, shares.CreateRequestInput{})
	if err != nil {
		t.Fatal(err)
	}
	up := ta.client(t)
	rows = throttleRows(t, ta)
	for range 3 {
		wantProblem(t, up.get("/r/"+tokenFrom(req.URL)+"/uploads/nope"), http.StatusTooManyRequests, "")
	}
	if got := throttleRows(t, ta) - rows; got != 0 {
		t.Errorf("%d rows for a real link from an address over its limit, want none", got)
	}
}

// urlExpiry is the expiry a disk store's signed URL carries.
func urlExpiry(t testing.TB, raw string) time.Time {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	sec, err := strconv.ParseInt(u.Query().Get("expires"), 10, 64)
	if err != nil {
		t.Fatalf("no expiry in %s", raw)
	}
	return time.Unix(sec, 0)
}

// TestLimitedLinkShortURLs: a link with a download limit counts the URLs
// it hands out, and each can be fetched again until it expires, so its
// URLs live LIMITED_DOWNLOAD_URL_TTL (60 s), not DOWNLOAD_URL_TTL (5 min);
// an unlimited link keeps the 5 minutes. Concurrent clicks on the limited
// link get exactly its limit of URLs, each short-lived; the share dialog
// says what the limit counts.
func TestLimitedLinkShortURLs(t *testing.T) {
	const limit, clicks = 3, 20
	ta := newFilesTestApp(t, nil)
	ann, annUser := ta.shareUser(t, "ann@example.com")
	data := []byte("counted")
	f := ta.uploadTo(t, annUser.ID, "", "a.txt", data)
	limited := ta.link(t, annUser.ID, shares.CreateInput{FileIDs: []string{f.ID}, MaxDownloads: ptrTo(limit)})
	open := ta.link(t, annUser.ID, shares.CreateInput{FileIDs: []string{f.ID}, Title: "open"})

	issued := time.Now()
	locations := make([]string, clicks)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range clicks {
		wg.Go(func() {
			<-start
			req, _ := http.NewRequest(http.MethodGet, ta.srv.URL+"/s/"+limited.Token+"/files/"+f.ID, nil)
			res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			if res.StatusCode == http.StatusSeeOther {
				locations[i] = res.Header.Get("Location")
			}
		})
	}
	close(start)
	wg.Wait()
	var lifetimes []time.Duration
	for _, loc := range locations {
		if loc != "" {
			lifetimes = append(lifetimes, urlExpiry(t, loc).Sub(issued).Round(time.Second))
		}
	}
	r := ta.client(t).get("/s/" + open.Token + "/files/" + f.ID)
	wantStatus(t, r, http.StatusSeeOther)
	openLife := urlExpiry(t, r.header.Get("Location")).Sub(issued).Round(time.Second)
	t.Logf("%d clicks on a link limited to %d: %d URLs living %v; the unlimited link's URL lives %s", clicks, limit, len(lifetimes), lifetimes, openLife)
	if len(lifetimes) != limit {
		t.Errorf("%d URLs handed out, want %d", len(lifetimes), limit)
	}
	for _, d := range lifetimes {
		if d < 55*time.Second || d > 61*time.Second {
			t.Errorf("a limited link's URL lives %s, want 60s", d)
		}
	}
	if openLife < 295*time.Second || openLife > 301*time.Second {
		t.Errorf("an unlimited link's URL lives %s, want 5m", openLife)
	}
	for _, loc := range locations {
		if loc != "" {
			if st, _, b := fetchURL(t, loc); st != http.StatusOK || string(b) != string(data) {
				t.Errorf("the download: %d %q", st, b)
			}
			break
		}
	}
	wantBody(t, ann.htmxGet("/share/dialog?link="+limited.ID, ""), "Counts download links handed out", "each works for 60 seconds")
}

// pendingThroughRequest initiates n uploads of size bytes through the
// request's link and PUTs their bytes, returning their URLs.
func pendingThroughRequest(t testing.TB, ta *testApp, token string, n, size int) []apiUploadURLs {
	t.Helper()
	up := ta.client(t)
	var ups []apiUploadURLs
	for i := range n {
		r := up.apiCall("POST", "/r/"+token+"/uploads", "", fmt.Sprintf(`{"name":"f%d.bin","size":%d}`, i, size))
		wantStatus(t, r, http.StatusCreated)
		u := decode[apiUploadURLs](t, r)
		if st, _ := put(t, u.URL, u.Headers, randomData(size)); st != http.StatusOK {
			t.Fatalf("PUT: %d", st)
		}
		ups = append(ups, u)
	}
	return ups
}

// uploadStates counts the uploads by state.
func uploadStates(t testing.TB, ta *testApp, ownerID string, ups []apiUploadURLs) map[string]int {
	t.Helper()
	states := map[string]int{}
	for _, u := range ups {
		st, err := ta.files.FindUpload(t.Context(), ownerID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		states[st.State]++
	}
	return states
}

// TestClosedRequestEndsItsUploads: closing an upload link (the API's
// DELETE, or the dialog's Close) aborts its unfinished uploads at once, so
// completes after the close are refused and the owner's reservation is
// released once their URLs have expired (plus the grace), not after
// UPLOAD_EXPIRY.
func TestClosedRequestEndsItsUploads(t *testing.T) {
	const size = 1000
	clock := &offsetClock{}
	ta := newFilesTestApp(t, nil, func(a *app) { a.files.Now = clock.Now })
	ann, annUser := ta.shareUser(t, "ann@example.com")
	closers := []struct {
		name  string
		close func(id string) response
	}{
		{"api", func(id string) response { return ann.apiCall("DELETE", "/api/v1/requests/"+id, "", "") }},
		{"dialog", func(id string) response { return ann.htmxPost("/share/requests/"+id+"/close", "shared-requests", nil) }},
	}
	for _, c := range closers {
		t.Run(c.name, func(t *testing.T) {
			req, err := ta.shares.CreateRequest(t.Context(), annUser.ID, shares.CreateRequestInput{})
			if err != nil {
				t.Fatal(err)
			}
			token := tokenFrom(req.URL)
			ups := pendingThroughRequest(t, ta, token, 3, size)
			if us := usageOf(t, ta, annUser.ID); us.Reserved != 3*size {
				t.Fatalf("usage %+v before the close", us)
			}
			if r := c.close(req.ID); r.status != http.StatusNoContent && r.status != http.StatusOK {
				t.Fatalf("close: %d %s", r.status, r.body)
			}
			states := uploadStates(t, ta, annUser.ID, ups)
			t.Logf("after the close: uploads %v, usage %+v", states, usageOf(t, ta, annUser.ID))
			if states[files.StateAborted] != 3 {
				t.Errorf("uploads %v after the close, want 3 aborted", states)
			}
			// One uploader tries to complete; the other two never come back.
			wantProblem(t, ta.client(t).apiCall("POST", "/r/"+token+"/uploads/"+ups[0].ID+"/complete", "", ""), http.StatusGone, "")
			pastUploadURLs(t, ta, clock)
			if us := usageOf(t, ta, annUser.ID); us.Reserved != 0 || us.Used != 0 {
				t.Errorf("usage %+v once the URLs expired and the deletions ran, want nothing", us)
			}
			if n := storedBytes(t, ta, annUser.ID); n != 0 {
				t.Errorf("%d bytes stored after the close", n)
			}
		})
	}
}

// TestCloseRequestWhileCompleting: the owner closes an upload link while
// its uploaders complete, all at once (one more upload is never
// completed). Every upload ends either as a file (its complete answered
// 200) or aborted, none stays pending; the quota charges each file once
// and, once the URLs expired, holds nothing else.
func TestCloseRequestWhileCompleting(t *testing.T) {
	const size, n = 1000, 8
	clock := &offsetClock{}
	ta := newFilesTestApp(t, nil, func(a *app) { a.files.Now = clock.Now })
	ann, annUser := ta.shareUser(t, "ann@example.com")
	req, err := ta.shares.CreateRequest(t.Context(), annUser.ID, shares.CreateRequestInput{})
	if err != nil {
		t.Fatal(err)
	}
	token := tokenFrom(req.URL)
	ups := pendingThroughRequest(t, ta, token, n+1, size) // the last one is never completed
	statuses := make([]int, n)
	closed := 0
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, u := range ups[:n] {
		wg.Go(func() {
			<-start
			req, _ := http.NewRequest(http.MethodPost, ta.srv.URL+"/r/"+token+"/uploads/"+u.ID+"/complete", nil)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		})
	}
	wg.Go(func() {
		<-start
		req, _ := http.NewRequest(http.MethodDelete, ta.srv.URL+"/api/v1/requests/"+req.ID, nil)
		res, err := ann.hc.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		res.Body.Close()
		closed = res.StatusCode
	})
	close(start)
	wg.Wait()
	if closed != http.StatusNoContent {
		t.Fatalf("close: %d", closed)
	}
	ok := 0
	for _, st := range statuses {
		if st == http.StatusOK {
			ok++
		}
	}
	states := uploadStates(t, ta, annUser.ID, ups)
	us := usageOf(t, ta, annUser.ID)
	t.Logf("close during %d completes (and one upload left alone): statuses %v, uploads %v, usage %+v", n, statuses, states, us)
	if states[files.StateDone] != ok || states[files.StateDone]+states[files.StateAborted] != n+1 {
		t.Errorf("uploads %v with %d completes answered 200, want each done or aborted", states, ok)
	}
	p, err := ta.files.List(t.Context(), annUser.ID, files.ListInput{})
	if err != nil || len(p.Files) != ok {
		t.Fatalf("%d files, want %d (%v)", len(p.Files), ok, err)
	}
	if us.Used != int64(ok*size) {
		t.Errorf("used %d, want %d", us.Used, ok*size)
	}
	pastUploadURLs(t, ta, clock)
	if us := usageOf(t, ta, annUser.ID); us.Used != int64(ok*size) || us.Reserved != 0 {
		t.Errorf("usage %+v once the URLs expired, want %d used, nothing reserved", us, ok*size)
	}
}
