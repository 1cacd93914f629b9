package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weupload/weupload/internal/database/dbtest"
	"github.com/weupload/weupload/internal/shares"
	"github.com/weupload/weupload/internal/testenv"
)

// TestLinkTokenUnavailable checks what the owner gets for a link and an
// upload link whose stored token does not open (here a sealed value copied
// from another row, as someone writing to the database might): the API,
// the Shared page and the dialog answer 200 with the link shown as
// unavailable, the failure is logged, and the link still works.
func TestLinkTokenUnavailable(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	ctx := t.Context()
	ann, annUser := ta.shareUser(t, "ann@example.com")
	f := ta.uploadTo(t, annUser.ID, "", "a.txt", []byte("a"))
	var ls [2]apiLink
	for i := range ls {
		r := ann.apiCall("POST", "/api/v1/links", "", fmt.Sprintf(`{"file_ids":[%q]}`, f.ID))
		wantStatus(t, r, http.StatusCreated)
		ls[i] = decode[apiLink](t, r)
	}
	req, err := ta.shares.CreateRequest(ctx, annUser.ID, shares.CreateRequestInput{Title: "Inbox"})
	if err != nil {
		t.Fatal(err)
	}
	moved := tokenFrom(ls[1].URL)
	for table, id := range map[string]string{"share_links": ls[1].ID, "upload_requests": req.ID} {
		if _, err := ta.pool.Exec(ctx, `UPDATE `+table+` SET token_sealed = (SELECT token_sealed FROM share_links WHERE id = $1) WHERE id = $2`,
			ls[0].ID, id); err != nil {
			t.Fatal(err)
		}
	}

	r := ann.apiCall("GET", "/api/v1/links/"+ls[1].ID, "", "")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, `"url":null`)
	r = ann.apiCall("GET", "/api/v1/links", "", "")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, ls[0].URL)
	r = ann.apiCall("GET", "/api/v1/requests/"+req.ID, "", "")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, `"url":null`)

	r = ann.get("/shared")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "This link cannot be shown", ls[0].URL)
	r = ann.get("/share/dialog?link=" + ls[1].ID)
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "This link cannot be shown")
	if strings.Contains(r.body, moved) {
		t.Fatal("the dialog shows a token it could not open")
	}
	if !strings.Contains(ta.logs.String(), "cannot open a stored token") {
		t.Fatal("the failure is not logged")
	}

	visitor := ta.client(t)
	wantStatus(t, visitor.get("/s/"+moved), http.StatusOK)
}

// TestServeSealsPlainTokens runs the real `serve` on a database holding a
// link and an upload request as the code before sealing wrote them (the
// token in plain text): at start it seals both and clears the plain text,
// and the owner still gets their URLs with the same key.
func TestServeSealsPlainTokens(t *testing.T) {
	dbURL := dbtest.NewURL(t)
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ctx := t.Context()
	var owner, linkID, reqID string
	if err := pool.QueryRow(ctx, `INSERT INTO users (email, display_name, password_hash) VALUES ('old@example.com', 'Old', 'x') RETURNING id`).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	linkTok, reqTok := "oldLinkToken0123456789abcdefghij", "oldRequestToken0123456789abcdefg"
	lh, rh := sha256.Sum256([]byte(linkTok)), sha256.Sum256([]byte(reqTok))
	if err := pool.QueryRow(ctx, `INSERT INTO share_links (owner_id, token_hash, token, kind, created_at, updated_at)
		VALUES ($1, $2, $3, 'files', now(), now()) RETURNING id`, owner, lh[:], linkTok).Scan(&linkID); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO upload_requests (owner_id, token_hash, token, created_at, updated_at)
		VALUES ($1, $2, $3, now(), now()) RETURNING id`, owner, rh[:], reqTok).Scan(&reqID); err != nil {
		t.Fatal(err)
	}

	port, _ := testenv.FreePort()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	env := map[string]string{
		"DATABASE_URL": dbURL, "LISTEN_ADDR": addr, "BASE_URL": "http://127.0.0.1",
		"LINK_KEY": testLinkKey, "STORAGE_DIR": t.TempDir(),
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	logs := &syncBuffer{}
	go func() {
		done <- run(sctx, []string{"serve"}, func(k string) string { return env[k] }, strings.NewReader(""), logs, io.Discard)
	}()
	waitFor(t, "http://"+addr+"/healthz")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), `"msg":"sealed plain link tokens","count":2`) {
		t.Fatalf("no sealing logged:\n%s", logs.String())
	}
	var plain, rows int
	if err := pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM share_links WHERE token IS NOT NULL OR token_sealed IS NULL) +
		(SELECT count(*) FROM upload_requests WHERE token IS NOT NULL OR token_sealed IS NULL),
		(SELECT count(*) FROM share_links t WHERE strpos(t::text, $1) > 0) +
		(SELECT count(*) FROM upload_requests t WHERE strpos(t::text, $2) > 0)`, linkTok, reqTok).Scan(&plain, &rows); err != nil {
		t.Fatal(err)
	}
	if plain != 0 || rows != 0 {
		t.Fatalf("%d rows unsealed, %d rows still hold a token", plain, rows)
	}

	ta := newTestAppWithPool(t, nil, pool)
	if l, err := ta.shares.Find(ctx, owner, linkID); err != nil || l.URL != "http://127.0.0.1/s/"+linkTok {
		t.Fatalf("link %q, %v", l.URL, err)
	}
	if r, err := ta.shares.FindRequest(ctx, owner, reqID); err != nil || r.URL != "http://127.0.0.1/r/"+reqTok {
		t.Fatalf("request %q, %v", r.URL, err)
	}
}
