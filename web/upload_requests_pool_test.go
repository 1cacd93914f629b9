package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weupload/weupload/internal/database"
	"github.com/weupload/weupload/internal/database/dbtest"
	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/shares"
)

// newPoolTestApp is newFilesTestApp on a pool of maxConns connections made
// as production makes it (database.PoolConfig: statement and lock
// timeouts). Every request runs under a deadline, so a handler waiting for
// a connection that never comes fails instead of hanging the test.
func newPoolTestApp(t testing.TB, maxConns int32, deadline time.Duration, env map[string]string) *testApp {
	t.Helper()
	cfg, err := database.PoolConfig(dbtest.NewURL(t), database.Options{MaxConns: maxConns, StatementTimeout: testConfig(t, nil).DBStatementTimeout})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	withDeadline := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), deadline)
			defer cancel()
			h.ServeHTTP(w, r.WithContext(ctx))
		})
	}
	return newFilesTestAppOn(t, pool, withDeadline, env)
}

// newFilesTestAppOn is newFilesTestApp on pool, its router wrapped by wrap
// when that is not nil.
func newFilesTestAppOn(t testing.TB, pool *pgxpool.Pool, wrap func(http.Handler) http.Handler, env map[string]string, configure ...func(*app)) *testApp {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	e := map[string]string{"BASE_URL": "http://" + srv.Listener.Addr().String()}
	maps.Copy(e, env)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := newApp(testConfig(t, e), logger, pool)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range configure {
		f(a)
	}
	srv.Config.Handler = a.routes()
	if wrap != nil {
		srv.Config.Handler = wrap(srv.Config.Handler)
	}
	srv.Start()
	ta := &testApp{app: a, srv: srv, logs: logs}
	t.Cleanup(func() {
		srv.Close()
		a.close()
		if t.Failed() {
			t.Logf("server logs:\n%s", logs.String())
		}
	})
	return ta
}

// TestRequestCompletesDoNotStarveThePool: many uploaders completing at once
// through one upload link, on a pool of 4 connections, neither fail nor
// hold up the rest of the instance: /api/v1/me answers fast meanwhile. (A
// completion that held the request's row lock while the files service
// waited for a second connection stalled every database request until the
// statement timeout.)
func TestRequestCompletesDoNotStarveThePool(t *testing.T) {
	const uploads = 16
	ta := newPoolTestApp(t, 4, 30*time.Second, nil)
	ann, annUser := ta.shareUser(t, "ann@example.com")
	req, err := ta.shares.CreateRequest(t.Context(), annUser.ID, shares.CreateRequestInput{MaxFiles: ptrTo(uploads)})
	if err != nil {
		t.Fatal(err)
	}
	token := tokenFrom(req.URL)
	up := ta.client(t)
	var ids []string
	for i := range uploads {
		r := up.apiCall("POST", "/r/"+token+"/uploads", "", fmt.Sprintf(`{"name":"f%d.txt","size":4,"content_type":"text/plain"}`, i))
		wantStatus(t, r, http.StatusCreated)
		u := decode[apiUploadURLs](t, r)
		if st, _ := put(t, u.URL, u.Headers, []byte("data")); st != http.StatusOK {
			t.Fatalf("PUT: %d", st)
		}
		ids = append(ids, u.ID)
	}

	post := func(hc *http.Client, path string) (int, time.Duration) {
		start := time.Now()
		req, _ := http.NewRequest(http.MethodPost, ta.srv.URL+path, nil)
		res, err := hc.Do(req)
		if err != nil {
			t.Errorf("POST %s: %v", path, err)
			return 0, time.Since(start)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, time.Since(start)
	}
	var wg sync.WaitGroup
	statuses := make([]int, len(ids))
	start := make(chan struct{})
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i], _ = post(up.hc, "/r/"+token+"/uploads/"+id+"/complete")
		}()
	}
	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	close(start)
	var slowest time.Duration
	probes := 0
	for running := true; running; {
		t0 := time.Now()
		req, _ := http.NewRequest(http.MethodGet, ta.srv.URL+"/api/v1/me", nil)
		res, err := ann.hc.Do(req)
		if err != nil {
			t.Fatalf("/api/v1/me during the completes: %v", err)
		}
		res.Body.Close()
		slowest, probes = max(slowest, time.Since(t0)), probes+1
		if res.StatusCode != http.StatusOK {
			t.Errorf("/api/v1/me during the completes: %d", res.StatusCode)
		}
		select {
		case <-finished:
			running = false
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Logf("%d /api/v1/me during %d completes, slowest %s", probes, uploads, slowest)
	for i, st := range statuses {
		if st != http.StatusOK {
			t.Errorf("complete %d: %d", i, st)
		}
	}
	if slowest > time.Second {
		t.Errorf("/api/v1/me took %s while the completes ran", slowest)
	}
	p, err := ta.files.List(t.Context(), annUser.ID, files.ListInput{})
	if err != nil || len(p.Files) != uploads {
		t.Fatalf("%d files arrived, want %d (%v)", len(p.Files), uploads, err)
	}
}

// TestFlowsOnOneConnection: the upload protocol, share links (create, open,
// unlock, download, zip) and upload requests (initiate, complete) all work
// on a pool of one connection, which they could not if any of them held a
// connection (a transaction) while asking the pool for another. Each
// request has a deadline, so such a wait fails fast instead of hanging.
func TestFlowsOnOneConnection(t *testing.T) {
	ta := newPoolTestApp(t, 1, 5*time.Second, nil)
	ann, annUser := ta.shareUser(t, "ann@example.com")
	ann.hc.Timeout = 10 * time.Second

	a := uploadViaAPI(t, ann, "a.txt", []byte("alpha"))
	b := uploadViaAPI(t, ann, "b.txt", []byte("beta"))
	dir, err := ta.files.CreateFolder(t.Context(), annUser.ID, files.CreateFolderInput{Name: "Docs"})
	if err != nil {
		t.Fatal(err)
	}

	r := ann.apiCall("POST", "/api/v1/links", "", fmt.Sprintf(`{"file_ids":[%q,%q],"password":"open sesame","max_downloads":5}`, a.ID, b.ID))
	wantStatus(t, r, http.StatusCreated)
	link := decode[apiLink](t, r)
	token := tokenFrom(link.URL)
	visitor := ta.client(t)
	visitor.hc.Timeout = 10 * time.Second
	wantBody(t, visitor.get("/s/"+token), "Password required")
	visitor = ta.unlocked(t, token, "open sesame")
	visitor.hc.Timeout = 10 * time.Second
	wantBody(t, visitor.get("/s/"+token), "a.txt", "b.txt")
	r = visitor.get("/s/" + token + "/files/" + a.ID)
	wantStatus(t, r, http.StatusSeeOther)
	wantDownload(t, r.header.Get("Location"), []byte("alpha"))
	r = visitor.get("/s/" + token + "/zip")
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(r.body, "b.txt") {
		t.Fatal("the zip lacks b.txt")
	}

	r = ann.apiCall("POST", "/api/v1/links", "", fmt.Sprintf(`{"folder_id":%q}`, dir.ID))
	wantStatus(t, r, http.StatusCreated)
	wantBody(t, visitor.get("/s/"+tokenFrom(decode[apiLink](t, r).URL)), "Docs")

	req, err := ta.shares.CreateRequest(t.Context(), annUser.ID, shares.CreateRequestInput{FolderID: dir.ID, MaxFiles: ptrTo(2)})
	if err != nil {
		t.Fatal(err)
	}
	up := ta.client(t)
	up.hc.Timeout = 10 * time.Second
	wantStatus(t, up.get("/r/"+tokenFrom(req.URL)), http.StatusOK)
	wantStatus(t, requestSend(t, up, tokenFrom(req.URL), "sent.txt", []byte("sent")), http.StatusOK)
	p, err := ta.files.List(t.Context(), annUser.ID, files.ListInput{FolderID: dir.ID})
	if err != nil || len(p.Files) != 1 || p.Files[0].Name != "sent.txt" {
		t.Fatalf("the request's folder holds %+v (%v)", p.Files, err)
	}
}

// TestPoolExhaustedAnswers503: while every pool connection is held, requests
// wait for one no longer than their deadline (twice the statement timeout)
// and answer 503 with Retry-After in their form; none hangs. Held by the
// test here, as a burst of slow requests would hold them.
func TestPoolExhaustedAnswers503(t *testing.T) {
	env := map[string]string{"DB_STATEMENT_TIMEOUT": "500ms"}
	cfg, err := database.PoolConfig(dbtest.NewURL(t), database.Options{MaxConns: 2, StatementTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	ta := newFilesTestAppOn(t, pool, nil, env)
	// Take every connection the app is not using: until an acquire waits.
	var held []*pgxpool.Conn
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pool.Acquire(ctx)
		cancel()
		if err != nil {
			break
		}
		held = append(held, conn)
	}
	if len(held) == 0 {
		t.Fatal("the test could hold no connection")
	}
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			c := ta.client(t)
			start := time.Now()
			var r response
			if i%2 == 0 {
				r = c.apiCall("GET", "/api/v1/me", "wu_"+strings.Repeat("a", 40), "")
			} else {
				u, _ := url.Parse(ta.srv.URL)
				c.hc.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: "some-session-token", Path: "/"}})
				r = c.get("/files")
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("request %d took %s with the pool exhausted", i, took)
			}
			if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
				t.Errorf("request %d: %d, Retry-After %q; want 503 with Retry-After", i, r.status, r.header.Get("Retry-After"))
			}
		})
	}
	wg.Wait()
	for _, c := range held {
		c.Release()
	}
	// Service resumes as soon as connections are free.
	if r := ta.client(t).get("/login"); r.status != http.StatusOK {
		t.Fatalf("after release: %d", r.status)
	}
}
