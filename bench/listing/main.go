// Command listing measures folder listing and search on a large account:
// 100,000 files in one folder and 1,000,000 in the account. It compares the
// first page with page 1000 (keyset pagination: the cursor holds the last
// sort key and id, so a deep page should cost what the first does) and with
// searches by name (pg_trgm), both through the real binary's JSON API and
// through files.Service alone (the SQL without HTTP and session costs).
//
//	go run ./bench/listing [-files 1000000] [-folder 100000] [-n 200]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weupload/weupload/bench/internal/harness"
	"github.com/weupload/weupload/internal/files"
)

func main() {
	total := flag.Int("files", 1_000_000, "files in the account")
	inFolder := flag.Int("folder", 100_000, "files in the big folder (of the total)")
	n := flag.Int("n", 200, "requests per measurement")
	flag.Parse()
	if err := run(*total, *inFolder, *n); err != nil {
		fmt.Fprintln(os.Stderr, "bench/listing:", err)
		os.Exit(1)
	}
}

const pageSize = 100

func run(total, inFolder, n int) error {
	env, bin, err := harness.Start()
	if err != nil {
		return err
	}
	defer env.Close()
	srv, err := env.Serve(bin, nil)
	if err != nil {
		return err
	}
	c, err := harness.Register(srv.URL, "lister@example.com", 1)
	if err != nil {
		return err
	}
	var big struct{ ID string }
	if _, err := c.JSON("POST", "/api/v1/folders", map[string]string{"name": "Big"}, &big); err != nil {
		return err
	}
	fmt.Printf("machine: %s\nfiles: %d in the account, %d in one folder; pages of %d; %d requests per row\n\n",
		harness.Machine(), total, inFolder, pageSize, n)

	start := time.Now()
	if err := populate(env, big.ID, total, inFolder); err != nil {
		return err
	}
	fmt.Printf("populated in %s\n\n", time.Since(start).Round(time.Second))

	pool, err := pgxpool.New(context.Background(), env.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	svc := files.New(pool, nil, files.Config{})
	owner, err := env.Psql(`SELECT id FROM users WHERE email = 'lister@example.com'`)
	if err != nil {
		return err
	}
	ctx := context.Background()
	orders := []struct {
		label string
		sort  files.Sort
		desc  bool
	}{{"sort=name", files.SortName, false}, {"sort=size&order=desc", files.SortSize, true}, {"sort=date&order=desc", files.SortDate, true}}

	// The cursor of the last page (page 1000 of 100,000) for each order,
	// found by walking the pages.
	last := inFolder / pageSize
	deep := map[string]string{}
	for _, o := range orders {
		in := files.ListInput{FolderID: big.ID, Sort: o.sort, Desc: o.desc, Limit: pageSize}
		for page := 1; page < last; page++ {
			p, err := svc.List(ctx, owner, in)
			if err != nil {
				return err
			}
			in.Cursor = p.Next
		}
		deep[o.label] = in.Cursor
	}

	// The API allows 600 requests a minute per caller and 1200 per client
	// IP: spread the requests over tokens and addresses, as many scripts
	// would.
	var tokens []string
	for i := range 10 {
		var t struct{ Token string }
		if _, err := c.JSON("POST", "/api/v1/tokens", map[string]any{"name": fmt.Sprint("bench", i), "scopes": []string{"files:read"}}, &t); err != nil {
			return err
		}
		tokens = append(tokens, t.Token)
	}
	calls := 0
	fmt.Println("through the API (GET with an API token; p50 / p95):")
	api := func(label, path string) error {
		var lat harness.Latencies
		for range n {
			calls++
			req, _ := http.NewRequest("GET", srv.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+tokens[calls%len(tokens)])
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.9.0.%d", calls%len(tokens)))
			t := time.Now()
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				return fmt.Errorf("GET %s: %d", path, res.StatusCode)
			}
			lat.Add(time.Since(t))
		}
		fmt.Printf("  %-42s %7.2f ms  %7.2f ms\n", label, harness.Millis(lat.Quantile(0.5)), harness.Millis(lat.Quantile(0.95)))
		return nil
	}
	for _, o := range orders {
		base := fmt.Sprintf("/api/v1/folders/%s/items?limit=%d&%s", big.ID, pageSize, o.label)
		if err := api(o.label+", page 1", base); err != nil {
			return err
		}
		if err := api(fmt.Sprintf("%s, page %d", o.label, last), base+"&cursor="+url.QueryEscape(deep[o.label])); err != nil {
			return err
		}
	}
	for _, q := range searches {
		if err := api("search "+q.label, fmt.Sprintf("/api/v1/search?limit=%d&q=%s", pageSize, url.QueryEscape(q.q))); err != nil {
			return err
		}
	}

	// The same through the service alone.
	fmt.Println("\nfiles.Service alone (SQL only; p50 / p95):")
	measure := func(label string, fn func() (files.Page, error)) error {
		var lat harness.Latencies
		var p files.Page
		for range n {
			t := time.Now()
			var err error
			if p, err = fn(); err != nil {
				return err
			}
			lat.Add(time.Since(t))
		}
		fmt.Printf("  %-42s %7.2f ms  %7.2f ms   (%d entries)\n", label, harness.Millis(lat.Quantile(0.5)), harness.Millis(lat.Quantile(0.95)), len(p.Files)+len(p.Folders))
		return nil
	}
	for _, o := range orders {
		in := files.ListInput{FolderID: big.ID, Sort: o.sort, Desc: o.desc, Limit: pageSize}
		if err := measure(o.label+", page 1", func() (files.Page, error) { return svc.List(ctx, owner, in) }); err != nil {
			return err
		}
		in.Cursor = deep[o.label]
		if err := measure(fmt.Sprintf("%s, page %d", o.label, last), func() (files.Page, error) { return svc.List(ctx, owner, in) }); err != nil {
			return err
		}
	}
	for _, q := range searches {
		in := files.SearchInput{Query: q.q, Limit: pageSize}
		if err := measure("search "+q.label, func() (files.Page, error) { return svc.Search(ctx, owner, in) }); err != nil {
			return err
		}
	}
	return nil
}

// searches: a selective name, a common word, and a fragment shorter than a
// trigram.
var searches = []struct{ label, q string }{
	{`"report-004241" (1 match)`, "report-004241"},
	{`"vacation" (1 in 10 files)`, "vacation"},
	{`"ic" (too short for trigrams, 8 in 10)`, "ic"},
}

// populate inserts the files directly: inFolder into the big folder, the
// rest spread over 1000 other folders. Names mix a few patterns so searches
// have something to find.
func populate(env *harness.Env, bigID string, total, inFolder int) error {
	owner := `(SELECT id FROM users WHERE email = 'lister@example.com')`
	steps := []string{
		`INSERT INTO folders (owner_id, name, created_at, updated_at)
		 SELECT ` + owner + `, 'Folder ' || g, now(), now() FROM generate_series(1, 1000) g`,
		fmt.Sprintf(`INSERT INTO files (owner_id, folder_id, name, size, content_type, object_key, created_at, updated_at)
		 SELECT %[1]s, CASE WHEN g <= %[2]d THEN '%[3]s'::uuid
		                    ELSE (SELECT id FROM folders WHERE name = 'Folder ' || (g %% 1000 + 1) AND owner_id = %[1]s) END,
		        CASE g %% 10 WHEN 0 THEN 'vacation ' || lpad(g::text, 7, '0') || '.jpg'
		                     WHEN 1 THEN 'report-' || lpad(g::text, 6, '0') || '.pdf'
		                     ELSE 'IMG_' || lpad(g::text, 7, '0') || '.heic' END,
		        (g::bigint * 7919) %% 10000000, 'application/octet-stream', 'u/bench/' || g,
		        now() - (g || ' seconds')::interval, now()
		 FROM generate_series(1, %[4]d) g`, owner, inFolder, bigID, total),
	}
	for _, s := range steps {
		if _, err := env.Psql(s); err != nil {
			return err
		}
	}
	_, err := env.Psql(`VACUUM ANALYZE`)
	return err
}
