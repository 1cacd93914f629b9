// Command plans seeds a database of 1,000,000 files across 1,000 users and
// shows, for each hot query, the plan PostgreSQL uses (EXPLAIN (ANALYZE,
// BUFFERS)) and its time (p50 and p95 over n runs with varying parameters).
//
// The statements are not copied from the code: each hot operation runs once
// through the real service (auth, files, shares, scs's pgxstore) with a pgx
// tracer that records the SQL and arguments it sends, and each recorded
// statement is then prepared and explained with those arguments, once as a
// custom plan (what the first five executions on a connection get) and once
// as a generic plan (what pgx's cached prepared statements may switch to).
// Timings run the same service calls, so they include what the app adds
// (scanning, cursors, presigning). A Seq Scan in any plan is reported.
//
// Last, it measures the caching question: a typical authenticated page
// through the real binary against the session and user lookups it makes.
//
//	go run ./bench/plans [-users 1000] [-files 1000000] [-n 200] [-db URL] [-bin weupload]
//
// -bin runs the page measurement on a binary built elsewhere (when the
// working tree's web package is mid-change).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weupload/weupload/bench/internal/harness"
	"github.com/weupload/weupload/internal/auth"
	"github.com/weupload/weupload/internal/blob/disk"
	"github.com/weupload/weupload/internal/database"
	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/password"
	"github.com/weupload/weupload/internal/ratelimit"
	"github.com/weupload/weupload/internal/shares"
)

func main() {
	users := flag.Int("users", 1000, "users")
	total := flag.Int("files", 1_000_000, "files across all users (Zipf-distributed)")
	n := flag.Int("n", 200, "timed runs per query")
	dbURL := flag.String("db", "", "use this database instead of a fresh cluster (seeded only when it has no users)")
	bin := flag.String("bin", "", "the weupload binary for the page measurement (default: go build ./web)")
	flag.Parse()
	if err := run(*users, *total, *n, *dbURL, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "bench/plans:", err)
		os.Exit(1)
	}
}

// seedPassword is every seeded user's password, so the page measurement can log in.
const seedPassword = "correct horse battery staple"

// defaultQuota is the quota of users without an override (all seeded ones).
const defaultQuota = 1 << 40

func run(users, total, n int, dbURL, bin string) error {
	ctx := context.Background()
	var env *harness.Env
	var err error
	if dbURL == "" {
		if env, err = harness.New(); err != nil {
			return err
		}
	} else {
		// An existing database: only a scratch directory of our own.
		dir, err := os.MkdirTemp(os.Getenv("BENCH_DIR"), "weupload-plans-")
		if err != nil {
			return err
		}
		env = &harness.Env{Dir: dir, DatabaseURL: dbURL}
	}
	defer env.Close()
	// Interrupted: stop the cluster and remove the scratch directory anyway.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-stop
		env.Close()
		os.Exit(130)
	}()

	rec := &recorder{}
	// The app's pool settings (database.Open), plus the recorder.
	cfg, err := database.PoolConfig(env.DatabaseURL, database.Options{})
	if err != nil {
		return err
	}
	cfg.ConnConfig.Tracer = rec
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := database.Migrate(ctx, pool, "up", func(string) {}); err != nil {
		return err
	}
	fmt.Printf("machine: %s\n", harness.Machine())

	var seeded int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&seeded); err != nil {
		return err
	}
	if seeded == 0 {
		start := time.Now()
		if err := seed(ctx, pool, users, total); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		fmt.Printf("seeded in %s\n", time.Since(start).Round(time.Second))
	}
	if err := printCounts(ctx, pool); err != nil {
		return err
	}

	// A second pool with PostgreSQL's default plan_cache_mode (auto: a
	// generic plan after five executions when it looks no dearer), timed
	// in turn with the app's, so both see the same load.
	autoCfg := cfg.Copy()
	delete(autoCfg.ConnConfig.RuntimeParams, "plan_cache_mode")
	autoCfg.ConnConfig.Tracer = nil
	autoPool, err := pgxpool.NewWithConfig(ctx, autoCfg)
	if err != nil {
		return err
	}
	defer autoPool.Close()

	f, err := newFixtures(ctx, pool, env.Dir)
	if err != nil {
		return err
	}
	fAuto, err := f.on(autoPool)
	if err != nil {
		return err
	}
	results := []result{}
	for i, o := range f.ops() {
		r, err := measure(ctx, pool, rec, o, fAuto.ops()[i], n)
		if err != nil {
			return fmt.Errorf("%s: %w", o.name, err)
		}
		results = append(results, r)
	}
	fmt.Printf("\n== summary (%d runs each; p50 / p95 of the whole service call; the same with plan_cache_mode=auto)\n", n)
	bad := 0
	for _, r := range results {
		fmt.Printf("  %-44s %8.3f ms %8.3f ms | %8.3f ms %8.3f ms  %d stmt  %s\n", r.name, harness.Millis(r.p50), harness.Millis(r.p95),
			harness.Millis(r.autoP50), harness.Millis(r.autoP95), r.stmts, strings.Join(r.indexes, ", "))
		for _, s := range r.seqScans {
			fmt.Printf("  %-44s SEQ SCAN on %s\n", "", s)
			bad++
		}
	}
	if bad > 0 {
		fmt.Printf("\n%d sequential scan(s) in the plans above\n", bad)
	}

	if bin == "" {
		if bin, err = env.Build(); err != nil {
			return err
		}
	}
	srv, err := env.Serve(bin, map[string]string{"DEFAULT_QUOTA": "1TiB"})
	if err != nil {
		return err
	}
	return pageCost(ctx, pool, f, srv.URL, n)
}

// --- seeding ---------------------------------------------------------------

// seed fills the database with users whose file counts follow Zipf's law (the
// r-th biggest account has 1/r of the biggest's files: a few big accounts,
// many small), folders nested up to five levels, 1 in 31 files in the trash,
// share links (some with a password, an expiry, revoked), API tokens,
// sessions (a fifth expired), quota rows and upload history. Secondary
// indexes are dropped during the load and rebuilt from their own definitions
// afterwards (bulk builds are several times faster than row-by-row upkeep),
// and foreign-key triggers are skipped (the data is consistent by
// construction), so the schema ends up exactly as the migrations made it.
func seed(ctx context.Context, pool *pgxpool.Pool, users, total int) error {
	hash, err := password.Hash(seedPassword, password.Default)
	if err != nil {
		return err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	c := conn.Conn()
	if _, err := c.Exec(ctx, `SET maintenance_work_mem = '512MB'`); err != nil {
		return err
	}
	if _, err := c.Exec(ctx, `SET session_replication_role = replica`); err != nil {
		fmt.Println("  (not a superuser: foreign-key checks stay on, seeding is slower)")
	}
	tables := []string{"users", "folders", "files", "uploads", "quotas", "share_links", "share_link_files", "grants", "api_tokens", "sessions"}
	rows, err := c.Query(ctx, `
		SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
		FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
		WHERE t.relname = ANY ($1) AND t.relnamespace = 'public'::regnamespace
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = i.indexrelid)`, tables)
	if err != nil {
		return err
	}
	type index struct{ name, def string }
	indexes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (index, error) {
		var i index
		return i, r.Scan(&i.name, &i.def)
	})
	if err != nil {
		return err
	}
	for _, i := range indexes {
		if _, err := c.Exec(ctx, `DROP INDEX `+i.name); err != nil {
			return err
		}
	}
	steps := []struct {
		label string
		sql   string
		args  []any
	}{
		{"users", `
			CREATE TEMP TABLE su AS
			SELECT r, gen_random_uuid() AS id, n AS nfiles, 3 + n / 150 AS nfolders
			FROM (SELECT r, greatest(1, round($2::numeric / (r * h)))::int AS n
			      FROM generate_series(1, $1::int) r, (SELECT sum(1.0 / k) AS h FROM generate_series(1, $1::int) k) hh) s`,
			[]any{users, total}},
		{"", `
			INSERT INTO users (id, email, display_name, password_hash, created_at, updated_at)
			SELECT id, 'user' || lpad(r::text, 4, '0') || '@example.com', 'User ' || r, $1,
			       now() - r * interval '1 hour', now() - r * interval '1 hour'
			FROM su`, []any{hash}},
		// A tree per user: folders 1-3 at the top, folder k > 3 inside k/4,
		// so the biggest account's ~900 folders are five levels deep.
		// Folder 1 is "Camera Uploads", the big one.
		{"folders", `
			CREATE TEMP TABLE sf AS
			SELECT su.r, su.id AS owner_id, k, gen_random_uuid() AS id, CASE WHEN k > 3 THEN k / 4 END AS parent_k
			FROM su, generate_series(1, su.nfolders) k`, nil},
		{"", `CREATE INDEX ON sf (r, k)`, nil},
		{"", `
			INSERT INTO folders (id, owner_id, parent_id, name, created_at, updated_at)
			SELECT f.id, f.owner_id, p.id,
			       CASE f.k WHEN 1 THEN 'Camera Uploads' WHEN 2 THEN 'Documents' WHEN 3 THEN 'Projects' ELSE 'Folder ' || f.k END,
			       now() - f.k * interval '1 day', now() - f.k * interval '1 day'
			FROM sf f LEFT JOIN sf p ON p.r = f.r AND p.k = f.parent_k`, nil},
		// Files: 3 in 10 in Camera Uploads, 1 in 10 in the root, the rest
		// spread over the folders; names unique per user (j in each).
		{"files", `
			INSERT INTO files (id, owner_id, folder_id, name, size, content_type, object_key, created_at, updated_at, trashed_at, trash_id)
			SELECT s.id, s.owner_id, f.id, s.name, s.size, 'application/octet-stream', s.key, s.at, s.at,
			       CASE WHEN s.j % 31 = 0 THEN now() - (s.j % 29) * interval '1 day' END,
			       CASE WHEN s.j % 31 = 0 THEN s.id END
			FROM (SELECT gen_random_uuid() AS id, su.id AS owner_id, su.r, j,
			             CASE WHEN j % 10 < 3 THEN 1 WHEN j % 10 = 3 THEN 0 ELSE 1 + (j * 7) % su.nfolders END AS k,
			             CASE j % 10 WHEN 0 THEN 'IMG_' || lpad(j::text, 7, '0') || '.jpg'
			                         WHEN 1 THEN 'VID_' || lpad(j::text, 7, '0') || '.mp4'
			                         WHEN 2 THEN 'IMG_' || lpad(j::text, 7, '0') || '.heic'
			                         WHEN 3 THEN 'notes ' || j || '.txt'
			                         WHEN 4 THEN 'report-' || lpad(j::text, 6, '0') || '.pdf'
			                         WHEN 5 THEN 'vacation ' || j || '.jpg'
			                         WHEN 6 THEN 'Scan ' || j || '.pdf'
			                         WHEN 7 THEN 'invoice-' || j || '.pdf'
			                         WHEN 8 THEN 'data_' || j || '.csv'
			                         ELSE 'photo ' || j || '.png' END AS name,
			             (j::bigint * 2654435761) % 4000000 + 1 AS size,
			             'u/' || su.id || '/' || j AS key,
			             now() - (su.nfiles - j) * interval '37 seconds' AS at
			      FROM su, generate_series(1, su.nfiles) j) s
			LEFT JOIN sf f ON f.r = s.r AND f.k = s.k`, nil},
		{"quotas", `
			INSERT INTO quotas (user_id, used_bytes)
			SELECT su.id, coalesce(t.used, 0)
			FROM su LEFT JOIN (SELECT owner_id, sum(size) AS used FROM files GROUP BY owner_id) t ON t.owner_id = su.id`, nil},
		// Upload history: one done upload per ten files, and a few pending
		// ones (with their reservation).
		{"uploads", `
			INSERT INTO uploads (owner_id, uploader_id, folder_id, name, size, content_type, object_key, mode, state, file_id, created_at, expires_at, finished_at)
			SELECT owner_id, owner_id, folder_id, name, size, content_type, 'up/' || object_key, 'single', 'done', id, created_at, created_at + interval '1 day', created_at
			FROM files WHERE (hashtext(object_key) & 15) < 2`, nil},
		{"", `
			WITH p AS (
				INSERT INTO uploads (owner_id, uploader_id, name, size, content_type, object_key, mode, created_at, expires_at)
				SELECT su.id, su.id, 'pending ' || g || '.bin', 1000000, 'application/octet-stream', 'pending/' || su.id || '/' || g,
				       'single', now(), now() + interval '1 day'
				FROM su, generate_series(1, 2) g WHERE su.r % 3 = 0
				RETURNING owner_id, size)
			UPDATE quotas q SET reserved_bytes = t.s FROM (SELECT owner_id, sum(size) AS s FROM p GROUP BY owner_id) t
			WHERE q.user_id = t.owner_id`, nil},
		// Share links: 1 + files/100 per user; 1 in 5 shares a folder, the
		// rest 1 to 3 files; some with a password, an expiry, a download
		// limit, revoked. Tokens are 24 bytes in base64url, as the app makes.
		{"share links", `
			CREATE TEMP TABLE sl AS
			SELECT su.r, su.id AS owner_id, su.nfiles, su.nfolders, g, gen_random_uuid() AS id,
			       translate(encode(substring(sha256(('share-' || su.r || '-' || g)::bytea) FROM 1 FOR 24), 'base64'), '+/', '-_') AS token
			FROM su, generate_series(1, 1 + su.nfiles / 100) g`, nil},
		{"", `
			INSERT INTO share_links (id, owner_id, token_hash, token, kind, folder_id, title, password_hash, expires_at,
			                         max_downloads, downloads, views, revoked_at, created_at, updated_at)
			SELECT l.id, l.owner_id, sha256(convert_to(l.token, 'UTF8')), l.token,
			       CASE WHEN l.g % 5 = 0 THEN 'folder' ELSE 'files' END,
			       CASE WHEN l.g % 5 = 0 THEN f.id END,
			       'Link ' || l.g, CASE WHEN l.g % 10 = 7 THEN $1 END,
			       CASE WHEN l.g % 4 = 0 THEN now() + interval '7 days' WHEN l.g % 13 = 0 THEN now() - interval '1 day' END,
			       CASE WHEN l.g % 6 = 0 THEN 100 END, l.g % 50, l.g % 200,
			       CASE WHEN l.g % 17 = 0 THEN now() - interval '2 days' END,
			       now() - l.g * interval '1 hour', now() - l.g * interval '1 hour'
			FROM sl l LEFT JOIN sf f ON f.r = l.r AND f.k = 2 + l.g % (l.nfolders - 1)`, []any{hash}},
		{"", `
			INSERT INTO share_link_files (link_id, file_id, position)
			SELECT l.id, f.id, p
			FROM sl l, generate_series(0, l.g % 3) p, files f
			WHERE l.g % 5 <> 0 AND f.object_key = 'u/' || l.owner_id || '/' || ((l.g * 37 + p) % l.nfiles + 1)
			ON CONFLICT DO NOTHING`, nil},
		// Grants: every user shares Documents with another user (as
		// editor or viewer), so grantees list folders below it.
		{"grants", `
			INSERT INTO grants (owner_id, grantee_id, folder_id, role, created_at, updated_at)
			SELECT su.id, g.id, f.id, CASE WHEN su.r % 2 = 0 THEN 'editor' ELSE 'viewer' END, now(), now()
			FROM su JOIN su g ON g.r = (su.r * 7) % $1::int + 1 AND g.r <> su.r JOIN sf f ON f.r = su.r AND f.k = 2`, []any{users}},
		{"api tokens", `
			INSERT INTO api_tokens (user_id, name, prefix, token_hash, scopes, expires_at, created_at)
			SELECT su.id, 'script ' || g, 'wu_seed', sha256(convert_to('wu_seed_' || su.r || '_' || g, 'UTF8')), $1,
			       CASE WHEN g % 3 = 0 THEN now() + interval '90 days' END, now() - g * interval '1 day'
			FROM su, generate_series(1, 1 + su.r % 3 + su.nfiles / 5000) g`, []any{[]string{auth.ScopeFilesRead, auth.ScopeFilesWrite}}},
		// Sessions: 50 per user on average, opaque blobs of ~300 bytes as
		// scs's gob encoding makes; a fifth already expired (the cleanup
		// runs every 10 minutes).
		{"sessions", `
			INSERT INTO sessions (token, data, expiry)
			SELECT rtrim(translate(encode(sha256(('sess-' || g)::bytea), 'base64'), '+/', '-_'), '='),
			       sha512(('a' || g)::bytea) || sha512(('b' || g)::bytea) || sha512(('c' || g)::bytea) || sha512(('d' || g)::bytea) || sha512(('e' || g)::bytea),
			       now() + (g % 100 - 20) * interval '1 hour'
			FROM generate_series(1, 50 * $1::int) g`, []any{users}},
	}
	t := time.Now()
	for _, s := range steps {
		if s.label != "" {
			fmt.Printf("  %-12s", s.label)
		}
		if _, err := c.Exec(ctx, s.sql, s.args...); err != nil {
			return fmt.Errorf("%s: %w", strings.TrimSpace(s.sql)[:40], err)
		}
		if s.label != "" {
			fmt.Printf(" %s\n", time.Since(t).Round(100*time.Millisecond))
			t = time.Now()
		}
	}
	fmt.Printf("  %-12s", "indexes")
	for _, i := range indexes {
		if _, err := c.Exec(ctx, i.def); err != nil {
			return fmt.Errorf("%s: %w", i.name, err)
		}
	}
	fmt.Printf(" %s (%d rebuilt)\n", time.Since(t).Round(100*time.Millisecond), len(indexes))
	t = time.Now()
	fmt.Printf("  %-12s", "vacuum")
	if _, err := c.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		return err
	}
	fmt.Printf(" %s\n", time.Since(t).Round(100*time.Millisecond))
	return nil
}

func printCounts(ctx context.Context, pool *pgxpool.Pool) error {
	var s string
	err := pool.QueryRow(ctx, `
		SELECT format('users %s, files %s (%s trashed; biggest account %s, median %s), folders %s, share links %s, api tokens %s, sessions %s, uploads %s',
		  (SELECT count(*) FROM users), (SELECT count(*) FROM files), (SELECT count(*) FROM files WHERE trashed_at IS NOT NULL),
		  (SELECT max(n) FROM (SELECT count(*) n FROM files GROUP BY owner_id) t),
		  (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY n) FROM (SELECT count(*) n FROM files GROUP BY owner_id) t),
		  (SELECT count(*) FROM folders), (SELECT count(*) FROM share_links), (SELECT count(*) FROM api_tokens),
		  (SELECT count(*) FROM sessions), (SELECT count(*) FROM uploads))`).Scan(&s)
	fmt.Println(s)
	return err
}

// --- the hot operations ----------------------------------------------------

// fixtures are the services and the parameters the runs vary over.
type fixtures struct {
	pool     *pgxpool.Pool
	store    *disk.Store
	auth     *auth.Service
	files    *files.Service
	shares   *shares.Service
	sessions *pgxstore.PostgresStore

	users       []string // ids, biggest account first
	big         []string // the biggest accounts (first 20)
	camera      map[string]string
	sessTokens  []string
	apiSecrets  []string
	fileLinks   []string
	folderLinks []string
	deep        []deepPage
	granted     [][2]string // a grantee and a folder below the folder shared with them
}

type deepPage struct {
	owner  string
	in     files.ListInput
	pageNo int
}

func newFixtures(ctx context.Context, pool *pgxpool.Pool, dir string) (*fixtures, error) {
	store, err := disk.New(disk.Config{Dir: filepath.Join(dir, "blobs"), BaseURL: "http://127.0.0.1:1", Secret: make([]byte, 32)})
	if err != nil {
		return nil, err
	}
	limiter := ratelimit.New(pool)
	authSvc, err := auth.NewService(pool, limiter, password.NewHasher(password.Default, password.DefaultSlots()))
	if err != nil {
		return nil, err
	}
	fs := files.New(pool, store, files.Config{DefaultQuota: defaultQuota, MaxFileSize: 1 << 40})
	f := &fixtures{
		pool:     pool,
		store:    store,
		auth:     authSvc,
		files:    fs,
		shares:   shares.New(pool, store, fs, limiter, shares.Config{BaseURL: "http://127.0.0.1:1"}),
		sessions: pgxstore.NewWithCleanupInterval(pool, 0),
		camera:   map[string]string{},
	}
	strs := func(sql string, args ...any) []string {
		if err != nil {
			return nil
		}
		var rows pgx.Rows
		if rows, err = pool.Query(ctx, sql, args...); err != nil {
			return nil
		}
		var out []string
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return out
	}
	sizes := `(SELECT owner_id, count(*) AS n FROM files GROUP BY owner_id)`
	f.users = strs(`SELECT u.id::text FROM users u LEFT JOIN ` + sizes + ` c ON c.owner_id = u.id ORDER BY coalesce(c.n, 0) DESC, u.id`)
	f.sessTokens = strs(`SELECT token FROM sessions WHERE expiry > now() + interval '1 hour' ORDER BY md5(token) LIMIT 500`)
	f.apiSecrets = strs(`
		SELECT 'wu_seed_' || substring(email FROM 5 FOR 4)::int || '_1' FROM users
		WHERE email LIKE 'user%' ORDER BY md5(email) LIMIT 500`)
	live := `revoked_at IS NULL AND password_hash IS NULL AND (expires_at IS NULL OR expires_at > now()) AND (max_downloads IS NULL OR downloads < max_downloads)`
	f.fileLinks = strs(`SELECT token FROM share_links l WHERE kind = 'files' AND ` + live + `
		AND EXISTS (SELECT 1 FROM share_link_files lf JOIN files f ON f.id = lf.file_id WHERE lf.link_id = l.id AND f.trashed_at IS NULL)
		ORDER BY md5(token) LIMIT 500`)
	f.folderLinks = strs(`SELECT token FROM share_links WHERE kind = 'folder' AND folder_id IS NOT NULL AND ` + live + ` ORDER BY md5(token) LIMIT 500`)
	for _, g := range strs(`
		SELECT g.grantee_id || ' ' || f.id FROM grants g JOIN folders f ON f.parent_id = g.folder_id AND f.owner_id = g.owner_id
		JOIN ` + sizes + ` c ON c.owner_id = g.owner_id
		WHERE f.name = 'Folder 8' ORDER BY c.n DESC LIMIT 20`) {
		a, b, _ := strings.Cut(g, " ")
		f.granted = append(f.granted, [2]string{a, b})
	}
	if err != nil {
		return nil, err
	}
	f.big = f.users[:min(20, len(f.users))]
	for _, u := range f.big {
		var id string
		if err := pool.QueryRow(ctx, `SELECT id FROM folders WHERE owner_id = $1 AND name = 'Camera Uploads'`, u).Scan(&id); err != nil {
			return nil, err
		}
		f.camera[u] = id
	}
	// Deep pages: the cursor of the last page of Camera Uploads in the five
	// biggest accounts, for each order, found by walking the pages.
	start := time.Now()
	for _, u := range f.big[:min(5, len(f.big))] {
		for _, o := range orders {
			in := files.ListInput{FolderID: f.camera[u], Sort: o.sort, Desc: o.desc}
			pageNo := 1
			for {
				p, err := fs.List(ctx, u, in)
				if err != nil {
					return nil, err
				}
				if p.Next == "" {
					break
				}
				in.Cursor = p.Next
				pageNo++
			}
			f.deep = append(f.deep, deepPage{owner: u, in: in, pageNo: pageNo})
		}
	}
	fmt.Printf("deep-page cursors: pages %d..%d of Camera Uploads in the 5 biggest accounts, walked in %s\n",
		f.deep[len(f.deep)-1].pageNo, f.deep[0].pageNo, time.Since(start).Round(time.Millisecond))
	// Tokens are touched at most once a minute: touch them all now so the
	// timings below are the steady state (a read), not the write.
	for _, s := range f.apiSecrets {
		if _, _, err := authSvc.AuthenticateToken(ctx, s); err != nil {
			return nil, fmt.Errorf("token %s: %w", s, err)
		}
	}
	return f, nil
}

// on returns the fixtures with services on another pool.
func (f *fixtures) on(pool *pgxpool.Pool) (*fixtures, error) {
	g := *f
	limiter := ratelimit.New(pool)
	var err error
	if g.auth, err = auth.NewService(pool, limiter, password.NewHasher(password.Default, password.DefaultSlots())); err != nil {
		return nil, err
	}
	g.pool = pool
	g.files = files.New(pool, f.store, files.Config{DefaultQuota: defaultQuota, MaxFileSize: 1 << 40})
	g.shares = shares.New(pool, f.store, g.files, limiter, shares.Config{BaseURL: "http://127.0.0.1:1"})
	g.sessions = pgxstore.NewWithCleanupInterval(pool, 0)
	return &g, nil
}

var orders = []struct {
	sort files.Sort
	desc bool
}{{files.SortName, false}, {files.SortSize, true}, {files.SortDate, true}}

// op is one hot operation: run(i) calls the app's code with the i-th
// parameters; capture lists the i whose statements are explained.
type op struct {
	name    string
	capture []int
	run     func(ctx context.Context, i int) error
	// undo reverts what the captured run wrote that would make its
	// statements fail when explained (a unique key).
	undo func(ctx context.Context) error
}

func pick[T any](s []T, i int) T { return s[i%len(s)] }

func (f *fixtures) ops() []op {
	uploads := 0
	var last files.UploadURLs
	return []op{
		{"session load (scs pgxstore Find)", []int{0}, func(_ context.Context, i int) error {
			_, found, err := f.sessions.Find(pick(f.sessTokens, i))
			if err == nil && !found {
				err = errors.New("session not found")
			}
			return err
		}, nil},
		{"loadUser (auth.FindUserByID)", []int{0}, func(ctx context.Context, i int) error {
			_, err := f.auth.FindUserByID(ctx, pick(f.users, i*7))
			return err
		}, nil},
		{"API token (auth.AuthenticateToken)", []int{0}, func(ctx context.Context, i int) error {
			_, _, err := f.auth.AuthenticateToken(ctx, pick(f.apiSecrets, i))
			return err
		}, nil},
		{"list root, page 1 (20 biggest, 3 orders)", []int{0, 1, 2}, func(ctx context.Context, i int) error {
			o := pick(orders, i)
			_, err := f.files.List(ctx, pick(f.big, i/3), files.ListInput{Sort: o.sort, Desc: o.desc})
			return err
		}, nil},
		{"list Camera Uploads, page 1", []int{0, 1, 2}, func(ctx context.Context, i int) error {
			o, u := pick(orders, i), pick(f.big, i/3)
			_, err := f.files.List(ctx, u, files.ListInput{FolderID: f.camera[u], Sort: o.sort, Desc: o.desc})
			return err
		}, nil},
		{"list Camera Uploads, last page", []int{0, 1, 2}, func(ctx context.Context, i int) error {
			d := pick(f.deep, i)
			_, err := f.files.List(ctx, d.owner, d.in)
			return err
		}, nil},
		{"list a folder shared with me (grantee)", []int{0}, func(ctx context.Context, i int) error {
			g := pick(f.granted, i)
			_, err := f.files.List(ctx, g[0], files.ListInput{FolderID: g[1]})
			return err
		}, nil},
		{"search 2 chars (\"ic\", \"ca\", \"_0\")", []int{0}, func(ctx context.Context, i int) error {
			_, err := f.files.Search(ctx, pick(f.big, i/3), files.SearchInput{Query: pick([]string{"ic", "ca", "_0"}, i)})
			return err
		}, nil},
		{"search selective (\"report-0042\", ...)", []int{0}, func(ctx context.Context, i int) error {
			_, err := f.files.Search(ctx, pick(f.big, i/3), files.SearchInput{Query: pick([]string{"report-0042", "invoice-137", "Scan 99"}, i)})
			return err
		}, nil},
		{"search common (\"vacation\", ...)", []int{0}, func(ctx context.Context, i int) error {
			_, err := f.files.Search(ctx, pick(f.users, i), files.SearchInput{Query: pick([]string{"vacation", "IMG_", "report"}, i)})
			return err
		}, nil},
		{"share link open, files (shares.Open)", []int{0}, func(ctx context.Context, i int) error {
			_, err := f.shares.Open(ctx, pick(f.fileLinks, i), shares.Visitor{ClientIP: "10.0.0.1"})
			return err
		}, nil},
		{"share link open, folder (shares.Open)", []int{0}, func(ctx context.Context, i int) error {
			_, err := f.shares.Open(ctx, pick(f.folderLinks, i), shares.Visitor{ClientIP: "10.0.0.1"})
			return err
		}, nil},
		{"quota (files.Usage, the storage meter)", []int{0}, func(ctx context.Context, i int) error {
			_, err := f.files.Usage(ctx, pick(f.users, i*7))
			return err
		}, nil},
		{"initiate upload (name check, quota reserve)", []int{0, 1}, func(ctx context.Context, i int) error {
			uploads++
			u := pick(f.users, i*7)
			in := files.InitiateInput{Name: fmt.Sprintf("bench %d-%d.bin", time.Now().UnixNano(), uploads), Size: 1000}
			if i%2 == 0 {
				in.FolderID = f.camera[pick(f.big, i)]
				u = pick(f.big, i)
			}
			var err error
			last, err = f.files.InitiateUpload(ctx, u, in)
			return err
		}, func(ctx context.Context) error {
			_, err := f.pool.Exec(ctx, `
				WITH d AS (DELETE FROM uploads WHERE id = $1 RETURNING owner_id, size)
				UPDATE quotas q SET reserved_bytes = reserved_bytes - d.size FROM d WHERE q.user_id = d.owner_id`, last.Upload.ID)
			return err
		}},
	}
}

// --- recording and explaining ----------------------------------------------

type stmt struct {
	sql  string
	args []any
}

// recorder is a pgx tracer that keeps the statements sent while on.
type recorder struct {
	mu    sync.Mutex
	on    bool
	stmts []stmt
}

func (r *recorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.on {
		r.stmts = append(r.stmts, stmt{d.SQL, d.Args})
	}
	return ctx
}

func (r *recorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *recorder) capture(fn func() error) ([]stmt, error) {
	r.mu.Lock()
	r.on, r.stmts = true, nil
	r.mu.Unlock()
	err := fn()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on = false
	return r.stmts, err
}

type result struct {
	name             string
	p50, p95         time.Duration
	autoP50, autoP95 time.Duration
	stmts            int
	indexes          []string
	seqScans         []string
}

var (
	usingRe   = regexp.MustCompile(`(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\S+)`)
	seqRe     = regexp.MustCompile(`Seq Scan on (\S+)`)
	numbersRe = regexp.MustCompile(`\(cost=[^)]*\)|\(actual[^)]*\)|\(never executed\)|rows=\d+|loops=\d+`)
)

func measure(ctx context.Context, pool *pgxpool.Pool, rec *recorder, o, auto op, n int) (result, error) {
	r := result{name: o.name}
	fmt.Printf("\n== %s\n", o.name)
	seen := map[string]bool{}
	for _, i := range o.capture {
		stmts, err := rec.capture(func() error { return o.run(ctx, i) })
		if err != nil {
			return r, err
		}
		if o.undo != nil {
			if err := o.undo(ctx); err != nil {
				return r, err
			}
		}
		for _, s := range stmts {
			if seen[s.sql] || skipStatement(s.sql) {
				continue
			}
			seen[s.sql] = true
			r.stmts++
			custom, err := explain(ctx, pool, s, "force_custom_plan")
			if err != nil {
				return r, fmt.Errorf("explain %s: %w", s.sql, err)
			}
			generic, err := explain(ctx, pool, s, "force_generic_plan")
			if err != nil {
				return r, fmt.Errorf("explain %s: %w", s.sql, err)
			}
			fmt.Printf("\n%s\n-- args: %s\n%s", strings.TrimSpace(dedent(s.sql)), showArgs(s.args), strings.Join(custom, "\n"))
			if shape(custom) == shape(generic) {
				fmt.Printf("\n-- generic plan: same shape\n")
			} else {
				fmt.Printf("\n-- generic plan:\n%s\n", strings.Join(generic, "\n"))
			}
			for _, l := range append(custom, generic...) {
				for _, m := range usingRe.FindAllStringSubmatch(l, -1) {
					if !slices.Contains(r.indexes, m[1]) {
						r.indexes = append(r.indexes, m[1])
					}
				}
				for _, m := range seqRe.FindAllStringSubmatch(l, -1) {
					if !slices.Contains(r.seqScans, m[1]) {
						r.seqScans = append(r.seqScans, m[1])
					}
				}
			}
		}
	}
	// Warm up (and let pgx prepare its statements on every connection),
	// then time, the app's pool and the auto pool in turn.
	for i := range 20 {
		if err := o.run(ctx, i); err != nil {
			return r, err
		}
		if err := auto.run(ctx, i); err != nil {
			return r, err
		}
	}
	var lat, autoLat harness.Latencies
	for i := range n {
		t := time.Now()
		if err := o.run(ctx, i); err != nil {
			return r, err
		}
		lat.Add(time.Since(t))
		t = time.Now()
		if err := auto.run(ctx, i); err != nil {
			return r, err
		}
		autoLat.Add(time.Since(t))
	}
	r.p50, r.p95 = lat.Quantile(0.5), lat.Quantile(0.95)
	r.autoP50, r.autoP95 = autoLat.Quantile(0.5), autoLat.Quantile(0.95)
	fmt.Printf("\n-- %d runs: p50 %.3f ms, p95 %.3f ms (plan_cache_mode=auto: p50 %.3f ms, p95 %.3f ms)\n", n,
		harness.Millis(r.p50), harness.Millis(r.p95), harness.Millis(r.autoP50), harness.Millis(r.autoP95))
	return r, nil
}

func skipStatement(sql string) bool {
	s := strings.ToLower(strings.TrimSpace(sql))
	for _, p := range []string{"begin", "commit", "rollback", "savepoint", "release", "set "} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// explain prepares s under a name (a protocol-level prepared statement, as
// pgx makes) and runs EXPLAIN (ANALYZE, BUFFERS) EXECUTE with its arguments
// as literals, under plan_cache_mode = mode, in a transaction that is rolled
// back (the hot writes are explained too).
func explain(ctx context.Context, pool *pgxpool.Pool, s stmt, mode string) ([]string, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	c := conn.Conn()
	const name = "bench_plans_explain"
	sd, err := c.Prepare(ctx, name, s.sql)
	if err != nil {
		return nil, err
	}
	defer func() { _ = c.Deallocate(ctx, name) }()
	lits := make([]string, len(s.args))
	for i, a := range s.args {
		if lits[i], err = literal(c.TypeMap(), sd.ParamOIDs[i], a); err != nil {
			return nil, err
		}
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "SET LOCAL plan_cache_mode = "+mode); err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, fmt.Sprintf("EXPLAIN (ANALYZE, BUFFERS) EXECUTE %s(%s)", name, strings.Join(lits, ", ")), pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// literal renders an argument as pgx would send it, as an SQL literal.
func literal(m *pgtype.Map, oid uint32, v any) (string, error) {
	b, err := m.Encode(oid, pgtype.TextFormatCode, v, nil)
	if err != nil {
		return "", err
	}
	if b == nil {
		return "NULL", nil
	}
	return "'" + strings.ReplaceAll(string(b), "'", "''") + "'", nil
}

// shape is a plan without its numbers, to compare custom and generic plans.
func shape(plan []string) string {
	var b strings.Builder
	for _, l := range plan {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "Buffers:") || strings.HasPrefix(t, "Planning") || strings.HasPrefix(t, "Execution") ||
			strings.HasPrefix(t, "I/O Timings") || strings.HasPrefix(t, "Heap Fetches") || strings.HasPrefix(t, "Rows Removed") ||
			strings.HasPrefix(t, "Heap Blocks") || strings.HasPrefix(t, "Sort Method") || strings.HasPrefix(t, "Memory Usage") {
			continue
		}
		b.WriteString(numbersRe.ReplaceAllString(l, ""))
		b.WriteByte('\n')
	}
	return b.String()
}

func dedent(sql string) string {
	lines := strings.Split(sql, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimLeft(l, "\t")
	}
	return strings.Join(lines, "\n")
}

func showArgs(args []any) string {
	out := make([]string, len(args))
	for i, a := range args {
		s := fmt.Sprint(a)
		switch v := a.(type) {
		case []byte:
			s = fmt.Sprintf("<%d bytes>", len(v))
		case *string:
			s = "<nil>"
			if v != nil {
				s = *v
			}
		}
		if len(s) > 60 {
			s = s[:57] + "..."
		}
		out[i] = fmt.Sprintf("$%d=%s", i+1, s)
	}
	return strings.Join(out, " ")
}

// --- caching: what a page spends on the session and the user ----------------

// pageCost logs in as a typical (median-sized) account and as the biggest,
// times authenticated requests through the real binary, and compares them
// with the two lookups that an in-process cache could save: the session row
// (pgxstore Find) and the user row (FindUserByID).
func pageCost(ctx context.Context, pool *pgxpool.Pool, f *fixtures, base string, n int) error {
	fmt.Printf("\n== caching: authenticated requests through the binary vs the session and user lookups (%d runs; p50 / p95)\n", n)
	type account struct {
		label, id string
	}
	accounts := []account{{"median account", f.users[len(f.users)/2]}, {"biggest account", f.users[0]}}
	for _, a := range accounts {
		var email string
		var files int
		if err := pool.QueryRow(ctx, `SELECT email, (SELECT count(*) FROM files WHERE owner_id = $1) FROM users WHERE id = $1`, a.id).Scan(&email, &files); err != nil {
			return err
		}
		jar, _ := cookiejar.New(nil)
		hc := &http.Client{Jar: jar, Transport: &http.Transport{DisableCompression: true},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		c := &harness.Client{Base: base, HC: hc, IP: "10.1.0.1"}
		form := url.Values{"email": {email}, "password": {seedPassword}}
		req, _ := http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := c.Do(req)
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther {
			return fmt.Errorf("login %s: %d", email, res.StatusCode)
		}
		u, _ := url.Parse(base)
		var token string
		for _, ck := range jar.Cookies(u) {
			if ck.Name == "weupload_session" {
				token = ck.Value
			}
		}
		fmt.Printf("  %s (%s, %d files):\n", a.label, email, files)
		get := func(label, path string, hdr map[string]string) error {
			var lat harness.Latencies
			var size int64
			for i := range n + 20 {
				req, _ := http.NewRequest(http.MethodGet, base+path, nil)
				for k, v := range hdr {
					req.Header.Set(k, v)
				}
				t := time.Now()
				res, err := c.Do(req)
				if err != nil {
					return err
				}
				size, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					return fmt.Errorf("GET %s: %d", path, res.StatusCode)
				}
				if i >= 20 {
					lat.Add(time.Since(t))
				}
			}
			fmt.Printf("    %-46s %8.3f ms %8.3f ms  (%d bytes)\n", label, harness.Millis(lat.Quantile(0.5)), harness.Millis(lat.Quantile(0.95)), size)
			return nil
		}
		if err := get("GET /api/v1/me (session + user, tiny JSON)", "/api/v1/me", nil); err != nil {
			return err
		}
		if err := get("GET /files (full page, root listing)", "/files", nil); err != nil {
			return err
		}
		if err := get("GET /files (htmx: the listing only)", "/files", map[string]string{"HX-Request": "true", "HX-Target": "listing"}); err != nil {
			return err
		}
		lookup := func(label string, fn func() error) error {
			var lat harness.Latencies
			for i := range n + 20 {
				t := time.Now()
				if err := fn(); err != nil {
					return err
				}
				if i >= 20 {
					lat.Add(time.Since(t))
				}
			}
			fmt.Printf("    %-46s %8.3f ms %8.3f ms\n", label, harness.Millis(lat.Quantile(0.5)), harness.Millis(lat.Quantile(0.95)))
			return nil
		}
		if err := lookup("session row (pgxstore Find), this session", func() error {
			_, ok, err := f.sessions.Find(token)
			if err == nil && !ok {
				err = errors.New("session not found")
			}
			return err
		}); err != nil {
			return err
		}
		if err := lookup("user row (auth.FindUserByID)", func() error {
			_, err := f.auth.FindUserByID(ctx, a.id)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}
