package jobs_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weupload/weupload/internal/blob/disk"
	"github.com/weupload/weupload/internal/database/dbtest"
	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/jobs"
	"github.com/weupload/weupload/internal/ratelimit"
	"github.com/weupload/weupload/internal/testenv"
)

// twoInstances returns two runners on separate pools of one database, as
// two app instances would have.
func twoInstances(t *testing.T) (*pgxpool.Pool, *pgxpool.Pool) {
	t.Helper()
	url := dbtest.NewURL(t)
	var pools [2]*pgxpool.Pool
	for i := range pools {
		p, err := pgxpool.New(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		pools[i] = p
	}
	return pools[0], pools[1]
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestRunOnceIsExclusiveAcrossInstances(t *testing.T) {
	p1, p2 := twoInstances(t)
	started, release := make(chan struct{}), make(chan struct{})
	job := jobs.Job{Name: "sweep", Every: time.Hour, Run: func(ctx context.Context) (int, error) {
		close(started)
		<-release
		return 1, nil
	}}
	r1, r2 := jobs.New(p1, quiet()), jobs.New(p2, quiet())
	ctx := context.Background()
	done := make(chan error, 1)
	go func() { _, err := r1.RunOnce(ctx, job); done <- err }()
	<-started
	// While instance 1 runs it, instance 2 (and instance 1 again) skip it.
	if _, err := r2.RunOnce(ctx, job); !errors.Is(err, jobs.ErrBusy) {
		t.Fatalf("second instance: %v, want ErrBusy", err)
	}
	if _, err := r1.RunOnce(ctx, job); !errors.Is(err, jobs.ErrBusy) {
		t.Fatalf("same instance again: %v, want ErrBusy", err)
	}
	// Another job is not blocked by it.
	other := jobs.Job{Name: "other", Every: time.Hour, Run: func(context.Context) (int, error) { return 0, nil }}
	if _, err := r2.RunOnce(ctx, other); err != nil {
		t.Fatalf("other job: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Released: the other instance can run it now.
	job.Run = func(context.Context) (int, error) { return 0, nil }
	if _, err := r2.RunOnce(ctx, job); err != nil {
		t.Fatalf("after release: %v", err)
	}
}

func TestObserve(t *testing.T) {
	p1, p2 := twoInstances(t)
	type run struct{ job, result string }
	var mu sync.Mutex
	var runs []run
	observe := func(job, result string, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		if d < 0 {
			t.Errorf("%s: negative duration %v", job, d)
		}
		runs = append(runs, run{job, result})
	}
	r1, r2 := jobs.New(p1, quiet()), jobs.New(p2, quiet())
	r1.Observe, r2.Observe = observe, observe
	ctx := context.Background()
	started, release := make(chan struct{}), make(chan struct{})
	slow := jobs.Job{Name: "slow", Run: func(context.Context) (int, error) { close(started); <-release; return 0, nil }}
	done := make(chan struct{})
	go func() { r1.RunOnce(ctx, slow); close(done) }()
	<-started
	r2.RunOnce(ctx, slow)
	close(release)
	<-done
	r2.RunOnce(ctx, jobs.Job{Name: "bad", Run: func(context.Context) (int, error) { return 0, errors.New("boom") }})
	want := []run{{"slow", "skipped"}, {"slow", "ok"}, {"bad", "error"}}
	mu.Lock()
	defer mu.Unlock()
	if len(runs) != len(want) {
		t.Fatalf("observed %v, want %v", runs, want)
	}
	for i := range want {
		if runs[i] != want[i] {
			t.Errorf("run %d: %v, want %v", i, runs[i], want[i])
		}
	}
}

func TestPeriodicRunsNeverOverlap(t *testing.T) {
	p1, p2 := twoInstances(t)
	var running, maxRunning, runs atomic.Int32
	job := jobs.Job{Name: "slow", Every: 5 * time.Millisecond, Run: func(ctx context.Context) (int, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := maxRunning.Load()
			if n <= m || maxRunning.CompareAndSwap(m, n) {
				break
			}
		}
		runs.Add(1)
		time.Sleep(20 * time.Millisecond)
		return 0, nil
	}}
	var runners []*jobs.Runner
	for _, p := range []*pgxpool.Pool{p1, p2, p1, p2} { // two runners per instance too
		r := jobs.New(p, quiet(), job)
		r.Start(context.Background())
		runners = append(runners, r)
	}
	// Enough runs for four runners on two instances to have contended.
	testenv.Eventually(t, 20*time.Second, "five runs", func() bool { return runs.Load() >= 5 })
	var wg sync.WaitGroup
	for _, r := range runners {
		wg.Go(r.Stop)
	}
	wg.Wait()
	if maxRunning.Load() != 1 {
		t.Errorf("up to %d runs at once, want 1", maxRunning.Load())
	}
}

func TestLockFreedWhenConnectionDies(t *testing.T) {
	p1, p2 := twoInstances(t)
	ctx := context.Background()
	started := make(chan struct{})
	job := jobs.Job{Name: "crash", Every: time.Hour, Run: func(ctx context.Context) (int, error) {
		close(started)
		<-ctx.Done()
		return 0, ctx.Err()
	}}
	r1 := jobs.New(p1, quiet())
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { r1.RunOnce(rctx, job); close(done) }()
	<-started
	// Instance 1 dies: its connections end, and with them the lock.
	var pids []int32
	rows, _ := p2.Query(ctx, `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted`)
	for rows.Next() {
		var pid int32
		_ = rows.Scan(&pid)
		pids = append(pids, pid)
	}
	rows.Close()
	if len(pids) != 1 {
		t.Fatalf("%d advisory locks held, want 1", len(pids))
	}
	if _, err := p2.Exec(ctx, `SELECT pg_terminate_backend($1)`, pids[0]); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	job.Run = func(context.Context) (int, error) { return 0, nil }
	testenv.Eventually(t, 5*time.Second, "lock freed for the other instance", func() bool {
		_, err := jobs.New(p2, quiet()).RunOnce(ctx, job)
		return err == nil
	})
}

func TestSweepers(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	st, err := disk.New(disk.Config{Dir: t.TempDir(), BaseURL: "http://127.0.0.1", Secret: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Now()
	fs := files.New(pool, st, files.Config{})
	fs.Now = func() time.Time { return now }
	limiter := ratelimit.New(pool)
	limiter.Now = fs.Now

	var owner string
	if err := pool.QueryRow(ctx, `INSERT INTO users (email, display_name, password_hash) VALUES ('a@example.com', 'A', 'x') RETURNING id`).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.InitiateUpload(ctx, owner, files.InitiateInput{Name: "stale", Size: 10}); err != nil {
		t.Fatal(err)
	}
	if err := limiter.Hit(ctx, "k", ratelimit.Rule{Limit: 1, Window: time.Minute}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(files.DefaultUploadExpiry + files.DefaultExpiryGrace + time.Hour)

	r := jobs.New(pool, quiet())
	want := map[string]int{"expire-uploads": 1, "purge-trash": 0, "delete-objects": 0, "sweep-throttles": 1, "reconcile-store": 0}
	for _, j := range jobs.Sweepers(fs, limiter, quiet()) {
		n, err := r.RunOnce(ctx, j)
		if err != nil || n != want[j.Name] {
			t.Errorf("%s: %d %v, want %d", j.Name, n, err, want[j.Name])
		}
	}
	// A URL asked for at the expiry could still store bytes for a while:
	// the reservation waits for the deletion due then.
	if u, _ := fs.Usage(ctx, owner); u.Reserved != 10 {
		t.Errorf("reserved %d after the sweep, want 10 until the deletion is due", u.Reserved)
	}
	now = now.Add(files.DefaultExpiryGrace + time.Second)
	want = map[string]int{"expire-uploads": 0, "purge-trash": 0, "delete-objects": 1, "sweep-throttles": 0, "reconcile-store": 0}
	for _, j := range jobs.Sweepers(fs, limiter, quiet()) {
		n, err := r.RunOnce(ctx, j)
		if err != nil || n != want[j.Name] {
			t.Errorf("second round, %s: %d %v, want %d", j.Name, n, err, want[j.Name])
		}
	}
	if u, _ := fs.Usage(ctx, owner); u.Reserved != 0 {
		t.Errorf("reserved %d after the deletion", u.Reserved)
	}
}
