package jobs_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/weupload/weupload/internal/blob/disk"
	"github.com/weupload/weupload/internal/database/dbtest"
	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/jobs"
	"github.com/weupload/weupload/internal/ratelimit"
	"github.com/weupload/weupload/internal/svctest"
	"github.com/weupload/weupload/internal/testenv"
)

// newPool opens a pool of its own on url: one per "instance". beforeConnect,
// when set, can refuse new connections (an instance whose host is gone).
func newPool(t *testing.T, url string, beforeConnect func() error) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	if beforeConnect != nil {
		cfg.ConnConfig.RuntimeParams["application_name"] = "instance_a"
		cfg.BeforeConnect = func(context.Context, *pgx.ConnConfig) error { return beforeConnect() }
	}
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// start makes and starts a client on pool with cfg (polling fast), stopped
// when the test ends.
func start(t *testing.T, pool *pgxpool.Pool, cfg jobs.Config) *jobs.Jobs {
	t.Helper()
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 50 * time.Millisecond
	}
	j, err := jobs.New(pool, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = j.Stop(ctx)
	})
	return j
}

func testLogger(t *testing.T) *slog.Logger { return slog.New(slog.DiscardHandler) }

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

type slowArgs struct{}

func (slowArgs) Kind() string { return "test_slow" }

// A sweeper inserted often, by the leader of two instances running two
// clients each, never runs twice at once and keeps running.
func TestSweeperRunsNeverOverlap(t *testing.T) {
	url := dbtest.NewURL(t)
	var running, maxRunning, runs atomic.Int32
	sweep := jobs.NewSweeper[slowArgs](20*time.Millisecond, func(ctx context.Context) (int, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := maxRunning.Load()
			if n <= m || maxRunning.CompareAndSwap(m, n) {
				break
			}
		}
		runs.Add(1)
		time.Sleep(100 * time.Millisecond)
		return 0, nil
	})
	p1, p2 := newPool(t, url, nil), newPool(t, url, nil)
	for _, p := range []*pgxpool.Pool{p1, p2, p1, p2} {
		start(t, p, jobs.Config{Sweepers: []jobs.Sweeper{sweep}})
	}
	testenv.Eventually(t, 30*time.Second, "five runs", func() bool { return runs.Load() >= 5 })
	if maxRunning.Load() != 1 {
		t.Errorf("up to %d runs at once, want 1", maxRunning.Load())
	}
}

type dailyArgs struct{}

func (dailyArgs) Kind() string { return "test_daily" }

type tickArgs struct{}

func (tickArgs) Kind() string { return "test_tick" }

// A daily job runs once per UTC day however often instances restart (River
// schedules periodic jobs from the leader's memory, and a new leader inserts
// them at once): two starts on one day run it once, a start on the next day
// runs it again.
func TestDailyJobAcrossRestarts(t *testing.T) {
	url := dbtest.NewURL(t)
	pool := newPool(t, url, nil)
	var daily, ticks atomic.Int32
	day := time.Now().UTC().Truncate(24 * time.Hour).Add(-72 * time.Hour)
	// One "instance life": a client whose clock says at, until its start
	// round (the tick inserted with the daily job) has been worked.
	life := func(at time.Time) {
		t.Helper()
		d := jobs.NewSweeper[dailyArgs](time.Hour, func(context.Context) (int, error) { daily.Add(1); return 0, nil })
		d.OncePer = 24 * time.Hour
		tick := jobs.NewSweeper[tickArgs](time.Hour, func(context.Context) (int, error) { ticks.Add(1); return 0, nil })
		j, err := jobs.New(newPool(t, url, nil), jobs.Config{
			Sweepers: []jobs.Sweeper{d, tick}, Now: func() time.Time { return at }, PollInterval: 50 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		before := ticks.Load()
		if err := j.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, 30*time.Second, "the start round", func() bool { return ticks.Load() > before })
		testenv.Eventually(t, 10*time.Second, "daily jobs worked", func() bool {
			return count(t, pool, `SELECT count(*) FROM river_job WHERE kind = 'test_daily' AND state <> 'completed'`) == 0
		})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := j.Stop(ctx); err != nil {
			t.Fatal(err)
		}
	}
	life(day.Add(time.Hour))
	life(day.Add(5 * time.Hour))
	if n := daily.Load(); n != 1 {
		t.Fatalf("after two starts on one day the daily job ran %d times, want 1", n)
	}
	life(day.Add(25 * time.Hour))
	if n := daily.Load(); n != 2 {
		t.Fatalf("after a start on the next day the daily job ran %d times in all, want 2", n)
	}
}

type blockArgs struct{}

func (blockArgs) Kind() string { return "test_block" }

// blockWorker is instance A's worker: it never finishes (its process dies
// mid-job). onB counts B's runs: the job's side effect.
type blockWorker struct {
	river.WorkerDefaults[blockArgs]
	started chan struct{}
	dead    chan struct{}
}

func (w *blockWorker) Work(ctx context.Context, job *river.Job[blockArgs]) error {
	close(w.started)
	<-w.dead // a dead process does nothing more, its context notwithstanding
	return errors.New("dead")
}

type countWorker struct {
	river.WorkerDefaults[blockArgs]
	runs *atomic.Int32
}

func (w *countWorker) Work(ctx context.Context, job *river.Job[blockArgs]) error {
	w.runs.Add(1)
	return nil
}

// An instance killed mid-job (its connections cut, no new ones, its worker
// never returning) leaves the job running; the other instance becomes
// leader, rescues it once RescueAfter has passed, and completes it, once.
func TestKilledInstanceJobCompletesElsewhere(t *testing.T) {
	url := dbtest.NewURL(t)
	var killed atomic.Bool
	pa := newPool(t, url, func() error {
		if killed.Load() {
			return errors.New("instance a is gone")
		}
		return nil
	})
	pb := newPool(t, url, nil)
	cfg := jobs.Config{Timeout: time.Second, RescueAfter: 2 * time.Second}
	wa := &blockWorker{started: make(chan struct{}), dead: make(chan struct{})}
	t.Cleanup(func() { close(wa.dead) }) // before the clients' stops (cleanups run last first)
	cfgA := cfg
	cfgA.Register = func(w *river.Workers) { river.AddWorker(w, wa) }
	a := start(t, pa, cfgA)
	job, err := a.Client().Insert(context.Background(), blockArgs{}, &river.InsertOpts{MaxAttempts: 5})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-wa.started:
	case <-time.After(30 * time.Second):
		t.Fatal("the job did not start on instance a")
	}
	// Kill A: no new connections, and its sessions ended.
	killed.Store(true)
	if _, err := pb.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'instance_a'`); err != nil {
		t.Fatal(err)
	}
	var runsB atomic.Int32
	cfgB := cfg
	cfgB.Register = func(w *river.Workers) { river.AddWorker(w, &countWorker{runs: &runsB}) }
	b := start(t, pb, cfgB)
	testenv.Eventually(t, 90*time.Second, "the job completed on instance b", func() bool {
		row, err := b.Client().JobGet(context.Background(), job.Job.ID)
		return err == nil && row.State == "completed"
	})
	if n := runsB.Load(); n != 1 {
		t.Fatalf("instance b ran the job %d times, want 1", n)
	}
	row, err := b.Client().JobGet(context.Background(), job.Job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if row.Attempt != 2 || len(row.AttemptedBy) != 2 || row.AttemptedBy[0] == row.AttemptedBy[1] {
		t.Fatalf("attempt %d by %v, want the second attempt, on another client", row.Attempt, row.AttemptedBy)
	}
}

type outcomeArgs struct {
	Outcome string `json:"outcome"`
}

func (outcomeArgs) Kind() string { return "test_outcome" }

type outcomeWorker struct {
	river.WorkerDefaults[outcomeArgs]
}

func (outcomeWorker) Work(ctx context.Context, job *river.Job[outcomeArgs]) error {
	switch job.Args.Outcome {
	case "fail-once":
		if job.Attempt == 1 {
			return errors.New("first attempt fails")
		}
	case "discard":
		return errors.New("always fails")
	case "cancel":
		return river.JobCancel(errors.New("not worth it"))
	case "snooze":
		return river.JobSnooze(time.Hour)
	}
	return nil
}

// Observe hears each finished run with its kind and outcome.
func TestObserveOutcomes(t *testing.T) {
	pool := dbtest.New(t)
	var mu sync.Mutex
	var got []string
	j := start(t, pool, jobs.Config{
		Register: func(w *river.Workers) { river.AddWorker(w, outcomeWorker{}) },
		Observe: func(kind, outcome string, d time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			if kind != "test_outcome" || d < 0 {
				t.Errorf("observed %s %s %v", kind, outcome, d)
			}
			got = append(got, outcome)
		},
	})
	ctx := context.Background()
	for _, o := range []string{"ok", "fail-once", "discard", "cancel", "snooze"} {
		max := 3
		if o == "discard" {
			max = 1
		}
		if _, err := j.Client().Insert(ctx, outcomeArgs{o}, &river.InsertOpts{MaxAttempts: max}); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"cancelled", "completed", "completed", "discarded", "retried", "snoozed"}
	testenv.Eventually(t, 30*time.Second, "six runs observed", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= len(want)
	})
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("observed %v, want %v", got, want)
	}
}

type fileJobArgs struct {
	FileID string `json:"file_id"`
}

func (fileJobArgs) Kind() string { return "test_file_job" }

type fileJobWorker struct {
	river.WorkerDefaults[fileJobArgs]
}

func (fileJobWorker) Work(context.Context, *river.Job[fileJobArgs]) error { return nil }

// A completed upload always has its per-file jobs, and a completion whose
// transaction fails has none (nor a file): they commit together.
func TestFileJobsCommitWithTheFile(t *testing.T) {
	env := svctest.New(t, "disk")
	fs := env.Files(files.Config{})
	j, err := jobs.New(env.Pool, jobs.Config{
		FileJobs: []jobs.FileJob{{Args: func(f files.File) river.JobArgs { return fileJobArgs{f.ID} }}},
		Register: func(w *river.Workers) { river.AddWorker(w, fileJobWorker{}) },
	})
	if err != nil {
		t.Fatal(err)
	}
	fs.FileJobs = j // inserts only: the client is not started
	ctx := context.Background()
	owner := env.User(t, "owner")

	f := svctest.Upload(t, fs, owner, "", "ok.txt", []byte("hello"))
	if n := count(t, env.Pool, `SELECT count(*) FROM river_job WHERE kind = 'test_file_job' AND args->>'file_id' = $1`, f.ID); n != 1 {
		t.Fatalf("%d jobs for the completed file, want 1", n)
	}

	// A commit that fails after the jobs were inserted, as a lost
	// connection or a serialization failure at commit would: a deferred
	// trigger refusing one file name stands in for it.
	if _, err := env.Pool.Exec(ctx, `
		CREATE FUNCTION refuse_doomed() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.name = 'doomed.txt' THEN RAISE EXCEPTION 'commit refused'; END IF; RETURN NEW; END $$;
		CREATE CONSTRAINT TRIGGER refuse_doomed AFTER INSERT ON files DEFERRABLE INITIALLY DEFERRED
			FOR EACH ROW EXECUTE FUNCTION refuse_doomed();`); err != nil {
		t.Fatal(err)
	}
	data := []byte("doomed")
	urls, err := fs.InitiateUpload(ctx, owner, files.InitiateInput{Name: "doomed.txt", Size: int64(len(data)), ContentType: "text/plain"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.CompleteUpload(ctx, owner, urls.Upload.ID, svctest.Send(t, urls, data)); err == nil {
		t.Fatal("completion committed despite the refused commit")
	}
	if n := count(t, env.Pool, `SELECT count(*) FROM river_job WHERE kind = 'test_file_job'`); n != 1 {
		t.Fatalf("%d file jobs after the failed completion, want still 1", n)
	}
	if n := count(t, env.Pool, `SELECT count(*) FROM files WHERE name = 'doomed.txt'`); n != 0 {
		t.Fatalf("%d files after the failed completion", n)
	}
}

// Every sweeper does its work (ported from the runner's tests: the counts
// each round handles), and each runs as a River job.
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

	sweepers := jobs.Sweepers(fs, limiter, testLogger(t))
	want := map[string]int{"expire_uploads": 1, "purge_trash": 0, "delete_objects": 0, "sweep_throttles": 1, "reconcile_store": 0}
	for _, s := range sweepers {
		n, err := s.Run(ctx)
		if err != nil || n != want[s.Kind] {
			t.Errorf("%s: %d %v, want %d", s.Kind, n, err, want[s.Kind])
		}
	}
	// A URL asked for at the expiry could still store bytes for a while:
	// the reservation waits for the deletion due then.
	if u, _ := fs.Usage(ctx, owner); u.Reserved != 10 {
		t.Errorf("reserved %d after the sweep, want 10 until the deletion is due", u.Reserved)
	}
	now = now.Add(files.DefaultExpiryGrace + time.Second)
	want = map[string]int{"expire_uploads": 0, "purge_trash": 0, "delete_objects": 1, "sweep_throttles": 0, "reconcile_store": 0}
	for _, s := range sweepers {
		n, err := s.Run(ctx)
		if err != nil || n != want[s.Kind] {
			t.Errorf("second round, %s: %d %v, want %d", s.Kind, n, err, want[s.Kind])
		}
	}
	if u, _ := fs.Usage(ctx, owner); u.Reserved != 0 {
		t.Errorf("reserved %d after the deletion", u.Reserved)
	}

	// As River jobs: the leader inserts each at start, and they complete.
	start(t, pool, jobs.Config{Sweepers: sweepers})
	testenv.Eventually(t, 30*time.Second, "every sweeper completed as a job", func() bool {
		return count(t, pool, `SELECT count(DISTINCT kind) FROM river_job WHERE state = 'completed'`) == len(sweepers)
	})
}
