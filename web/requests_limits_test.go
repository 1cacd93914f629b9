package main

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
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
