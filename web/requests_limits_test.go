package main

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"sync"
	"testing"
	"time"

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
