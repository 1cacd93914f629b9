// Command api measures the upload protocol's two JSON calls through the real
// binary: initiate (POST /api/v1/uploads: validate, reserve quota, insert the
// pending row, presign) and complete (POST /api/v1/uploads/{id}/complete:
// HEAD the object, then the transaction that makes the file), each with 50
// concurrent clients (each its own user, session and client IP), and then
// the same SQL statements run by pgbench with 50 clients against the same
// PostgreSQL, as the floor the app is compared with.
//
//	go run ./bench/api [-clients 50] [-duration 10s] [-log-sql]
//
// -log-sql prints the statements one initiate and one complete run (from
// PostgreSQL's log), to check that bench/api/*.sql are still the same.
package main

import (
	"bytes"
	"cmp"
	"context"
	_ "embed"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/weupload/weupload/bench/internal/harness"
)

//go:embed initiate.sql
var initiateSQL string

//go:embed complete.sql
var completeSQL string

func main() {
	clients := flag.Int("clients", 50, "concurrent clients")
	duration := flag.Duration("duration", 10*time.Second, "length of each measured phase")
	logSQL := flag.Bool("log-sql", false, "print the SQL of one initiate and one complete, then exit")
	flag.Parse()
	if err := run(*clients, *duration, *logSQL); err != nil {
		fmt.Fprintln(os.Stderr, "bench/api:", err)
		os.Exit(1)
	}
}

type upload struct {
	ID      string            `json:"id"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
}

const fileSize = 1000

// poolSize is the app's DB_MAX_CONNS (its default).
const poolSize = 20

func run(nClients int, d time.Duration, logSQL bool) error {
	env, bin, err := harness.Start()
	if err != nil {
		return err
	}
	defer env.Close()
	srv, err := env.Serve(bin, map[string]string{"DB_MAX_CONNS": fmt.Sprint(poolSize)})
	if err != nil {
		return err
	}
	clients := make([]*harness.Client, nClients)
	for i := range clients {
		if clients[i], err = harness.Register(srv.URL, fmt.Sprintf("bench%03d@example.com", i), i); err != nil {
			return err
		}
	}
	if logSQL {
		return printSQL(env, clients[0])
	}
	fmt.Printf("machine: %s\nclients: %d, phases of %s, files of %d bytes, disk store\n\n", harness.Machine(), nClients, d, fileSize)

	// Every initiated upload stays pending, per client, for the complete phase.
	pending := make([][]upload, nClients)
	var mu sync.Mutex
	initiate := func(w, i int) error {
		var u upload
		_, err := clients[w].JSON("POST", "/api/v1/uploads", map[string]any{
			"name": fmt.Sprintf("w%02d-%06d.bin", w, i), "size": fileSize, "content_type": "application/octet-stream",
		}, &u)
		if err == nil {
			mu.Lock()
			pending[w] = append(pending[w], u)
			mu.Unlock()
		}
		return err
	}
	counters := make([]int, nClients)
	// phase runs op in every client for dur and reports requests per
	// second; op returns false when the client has nothing left to do.
	phase := func(label string, dur time.Duration, op func(w int) (bool, error)) (float64, error) {
		var lat harness.Latencies
		var firstErr error
		elapsed := harness.RunFor(context.Background(), nClients, dur, func(w int) bool {
			start := time.Now()
			more, err := op(w)
			if err != nil {
				mu.Lock()
				firstErr = cmp.Or(firstErr, err)
				mu.Unlock()
				return false
			}
			if more {
				lat.Add(time.Since(start))
			}
			return more
		})
		if firstErr != nil {
			return 0, firstErr
		}
		rate := float64(lat.Count()) / elapsed.Seconds()
		if label != "" {
			fmt.Printf("%-17s %7.0f req/s   p50 %6.1f ms   p99 %6.1f ms   (%d requests)\n",
				label, rate, harness.Millis(lat.Quantile(0.5)), harness.Millis(lat.Quantile(0.99)), lat.Count())
		}
		return rate, nil
	}
	initiateOne := func(w int) (bool, error) { counters[w]++; return true, initiate(w, counters[w]) }
	// Warm-up (connections, prepared statements, caches), then measure.
	if _, err := phase("", 2*time.Second, initiateOne); err != nil {
		return err
	}
	initRate, err := phase("initiate+presign", d, initiateOne)
	if err != nil {
		return err
	}

	// Untimed: put the bytes of every pending upload.
	if err := putAll(pending); err != nil {
		return err
	}
	next := make([]int, nClients)
	compRate, err := phase("complete", d, func(w int) (bool, error) {
		if next[w] >= len(pending[w]) {
			return false, nil
		}
		u := pending[w][next[w]]
		next[w]++
		_, err := clients[w].JSON("POST", "/api/v1/uploads/"+u.ID+"/complete", nil, nil)
		return true, err
	})
	if err != nil {
		return err
	}

	// The floor: the same statements, straight from pgbench.
	if err := preparePgbench(env, clients); err != nil {
		return err
	}
	// pgbench with as many clients as the app has, and with as many as the
	// app's pool has connections (DB_MAX_CONNS): the better is the floor.
	fmt.Println()
	best := map[string]float64{}
	for _, c := range []int{nClients, poolSize} {
		for _, s := range []struct{ name, sql string }{{"initiate", initiateSQL}, {"complete", completeSQL}} {
			tps, err := pgbench(env, s.name+".sql", s.sql, c, d)
			if err != nil {
				return err
			}
			fmt.Printf("pgbench %-9s %7.0f tps   (%d clients)\n", s.name, tps, c)
			best[s.name] = max(best[s.name], tps)
		}
	}
	fmt.Printf("\napp / best pgbench: initiate %.0f %%, complete %.0f %% (goal >= 70 %%)\n",
		100*initRate/best["initiate"], 100*compRate/best["complete"])
	return nil
}

// putAll uploads the bytes of every pending upload, 8 at a time.
func putAll(pending [][]upload) error {
	body := bytes.Repeat([]byte("x"), fileSize)
	work := make(chan upload)
	errc := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for u := range work {
				req, _ := http.NewRequest(http.MethodPut, u.URL, bytes.NewReader(body))
				for k, v := range u.Headers {
					req.Header.Set(k, v)
				}
				res, err := http.DefaultClient.Do(req)
				if err == nil {
					res.Body.Close()
					if res.StatusCode != http.StatusOK {
						err = fmt.Errorf("PUT: %d", res.StatusCode)
					}
				}
				if err != nil {
					select {
					case errc <- err:
					default:
					}
				}
			}
		})
	}
	for _, us := range pending {
		for _, u := range us {
			work <- u
		}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// preparePgbench gives pgbench client n the user, session token and
// client IP of HTTP client n, and enough pending uploads to complete.
func preparePgbench(env *harness.Env, clients []*harness.Client) error {
	var rows []string
	for i, c := range clients {
		u, _ := url.Parse(c.Base)
		token := ""
		for _, ck := range c.HC.Jar.Cookies(u) {
			if ck.Name == "weupload_session" {
				token = ck.Value
			}
		}
		rows = append(rows, fmt.Sprintf("(%d, (SELECT id FROM users WHERE email = 'bench%03d@example.com'), '%s', '%s')", i, i, token, c.IP))
	}
	_, err := env.Psql(`CREATE TABLE bench_clients (n int PRIMARY KEY, user_id uuid NOT NULL, session_token text NOT NULL, ip text NOT NULL);
		INSERT INTO bench_clients VALUES ` + strings.Join(rows, ",") + `;
		ALTER TABLE bench_clients ADD COLUMN session_data bytea;
		UPDATE bench_clients b SET session_data = s.data FROM sessions s WHERE s.token = b.session_token;
		-- Pending uploads for the complete script, as initiate leaves them.
		WITH q AS (UPDATE quotas SET reserved_bytes = reserved_bytes + 20000 * 1000 FROM bench_clients b WHERE quotas.user_id = b.user_id)
		INSERT INTO uploads (owner_id, uploader_id, name, size, content_type, object_key, mode, created_at, expires_at)
		SELECT b.user_id, b.user_id, 'pgb-pending-' || g, 1000, 'application/octet-stream', 'u/' || b.user_id || '/pgb-' || g, 'single', now(), now() + interval '1 day'
		FROM bench_clients b, generate_series(1, 20000) g;`)
	if err != nil {
		return err
	}
	_, err = env.Psql(`VACUUM ANALYZE`)
	return err
}

var tpsRE = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// pgbench runs script with n clients for d (prepared statements, as pgx
// uses them) and returns its transactions per second.
func pgbench(env *harness.Env, name, script string, n int, d time.Duration) (float64, error) {
	path := filepath.Join(env.Dir, name)
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		return 0, err
	}
	// Warm-up, then the measured run.
	for i, secs := range []int{2, int(d.Seconds())} {
		out, err := exec.Command("pgbench", "-n", "-M", "prepared", "-D", "loaded=0", "-c", fmt.Sprint(n), "-j", "2",
			"-T", fmt.Sprint(secs), "-f", path, env.DatabaseURL).CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("pgbench %s: %v: %s", name, err, out)
		}
		if i == 1 {
			m := tpsRE.FindSubmatch(out)
			if m == nil {
				return 0, fmt.Errorf("pgbench %s: no tps in: %s", name, out)
			}
			var tps float64
			fmt.Sscan(string(m[1]), &tps)
			return tps, nil
		}
	}
	return 0, nil
}

// printSQL logs every statement while one client initiates, uploads and
// completes one file, and prints them.
func printSQL(env *harness.Env, c *harness.Client) error {
	for _, sql := range []string{`ALTER SYSTEM SET log_statement = 'all'`, `SELECT pg_reload_conf()`} {
		if _, err := env.Psql(sql); err != nil {
			return err
		}
	}
	time.Sleep(500 * time.Millisecond)
	var u upload
	if _, err := c.JSON("POST", "/api/v1/uploads", map[string]any{"name": "sql.bin", "size": fileSize}, &u); err != nil {
		return err
	}
	if err := putAll([][]upload{{u}}); err != nil {
		return err
	}
	if _, err := c.JSON("POST", "/api/v1/uploads/"+u.ID+"/complete", nil, nil); err != nil {
		return err
	}
	for _, sql := range []string{`ALTER SYSTEM RESET log_statement`, `SELECT pg_reload_conf()`} {
		if _, err := env.Psql(sql); err != nil {
			return err
		}
	}
	b, err := os.ReadFile(filepath.Join(env.Dir, "pg", "server.log"))
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	return nil
}
