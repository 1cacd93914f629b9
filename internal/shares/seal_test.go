package shares_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/weupload/weupload/internal/ratelimit"
	"github.com/weupload/weupload/internal/shares"
)

// withKey is another service on e's database and store, as a restarted
// instance would be, sealing with key (and opening with previous too).
func (e *env) withKey(key, previous []byte, log *bytes.Buffer) *shares.Service {
	cfg := shares.Config{BaseURL: "https://share.example", Argon2: cheapArgon2, LinkKey: key, LinkKeyPrevious: previous}
	if log != nil {
		cfg.Log = slog.New(slog.NewTextHandler(log, nil))
	}
	s := shares.New(e.Pool, e.Store, e.files, ratelimit.New(e.Pool), cfg)
	s.Now = e.Clock.Now
	return s
}

func newKey() []byte {
	k := make([]byte, shares.LinkKeySize)
	_, _ = rand.Read(k)
	return k
}

// rowsContaining counts the rows of both tables whose whole text holds s.
func (e *env) rowsContaining(t *testing.T, s string) int {
	t.Helper()
	var n int
	err := e.Pool.QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM share_links t WHERE strpos(t::text, $1) > 0) +
		(SELECT count(*) FROM upload_requests t WHERE strpos(t::text, $1) > 0)`, s).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTokensNotStoredReadable checks that the database holds no link's or
// upload link's token, while the owner still gets its URL and visitors
// still use it.
func TestTokensNotStoredReadable(t *testing.T) {
	e := newEnv(t, "disk")
	ctx := context.Background()
	key := newKey()
	s := e.withKey(key, nil, nil)
	ann := e.User(t, "Ann")
	f := e.upload(t, ann, "", "a.txt", []byte("a"))
	l, err := s.Create(ctx, ann, shares.CreateInput{FileIDs: []string{f.ID}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.CreateRequest(ctx, ann, shares.CreateRequestInput{Title: "Inbox"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{l.Token, r.Token} {
		if len(tok) != 32 {
			t.Fatalf("token %q", tok)
		}
		if n := e.rowsContaining(t, tok); n != 0 {
			t.Fatalf("%d rows hold the token %q as text", n, tok)
		}
	}
	if l.URL != "https://share.example/s/"+l.Token || r.URL != "https://share.example/r/"+r.Token {
		t.Fatalf("URLs %q %q", l.URL, r.URL)
	}

	// Another instance with the same key: the owner's reads give the URL,
	// and the tokens find their items.
	again := e.withKey(key, nil, nil)
	ls, err := again.List(ctx, ann)
	if err != nil || len(ls) != 1 || ls[0].URL != l.URL {
		t.Fatalf("list %+v, %v", ls, err)
	}
	rs, err := again.ListRequests(ctx, ann, false, "")
	if err != nil || len(rs) != 1 || rs[0].URL != r.URL {
		t.Fatalf("requests %+v, %v", rs, err)
	}
	if _, err := again.Open(ctx, l.Token, anyone); err != nil {
		t.Fatal(err)
	}
	if _, err := again.OpenRequest(ctx, r.Token, anyone); err != nil {
		t.Fatal(err)
	}
}

// TestSealedTokenBoundToRow checks that a sealed token copied onto another
// row does not open: the owner sees that link as unavailable (no URL, no
// error), the failure is logged, and the link itself still works.
func TestSealedTokenBoundToRow(t *testing.T) {
	e := newEnv(t, "disk")
	ctx := context.Background()
	var log bytes.Buffer
	s := e.withKey(newKey(), nil, &log)
	ann := e.User(t, "Ann")
	f := e.upload(t, ann, "", "a.txt", []byte("a"))
	a, err := s.Create(ctx, ann, shares.CreateInput{FileIDs: []string{f.ID}, Title: "A"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Create(ctx, ann, shares.CreateInput{FileIDs: []string{f.ID}, Title: "B"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Pool.Exec(ctx, `UPDATE share_links SET token_sealed = (SELECT token_sealed FROM share_links WHERE id = $1) WHERE id = $2`,
		a.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	got, err := s.Find(ctx, ann, b.ID)
	if err != nil {
		t.Fatalf("find: %v", err)
	}
	if got.URL != "" || got.Token != "" {
		t.Fatalf("a moved sealed token opened: %q", got.URL)
	}
	if !strings.Contains(log.String(), "cannot open a stored token") || !strings.Contains(log.String(), b.ID) {
		t.Fatalf("not logged: %s", log.String())
	}
	if strings.Contains(log.String(), a.Token) {
		t.Fatal("the log holds a token")
	}
	if ls, err := s.List(ctx, ann); err != nil || len(ls) != 2 {
		t.Fatalf("list: %d, %v", len(ls), err)
	}
	if got, _ := s.Find(ctx, ann, a.ID); got.URL != a.URL {
		t.Fatalf("the source row: %q", got.URL)
	}
	if _, err := s.Open(ctx, b.Token, anyone); err != nil {
		t.Fatalf("the link stopped working for visitors: %v", err)
	}

	// The same across tables: a request's sealed token on a link's row.
	r, err := s.CreateRequest(ctx, ann, shares.CreateRequestInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Pool.Exec(ctx, `UPDATE upload_requests SET token_sealed = (SELECT token_sealed FROM share_links WHERE id = $1) WHERE id = $2`,
		a.ID, r.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := s.FindRequest(ctx, ann, r.ID); err != nil || got.URL != "" {
		t.Fatalf("request: %q, %v", got.URL, err)
	}
}

// TestLinkKeyRotation checks that the previous key still opens what it
// sealed, and that without it those links are unavailable to the owner.
func TestLinkKeyRotation(t *testing.T) {
	e := newEnv(t, "disk")
	ctx := context.Background()
	oldKey, newK := newKey(), newKey()
	ann := e.User(t, "Ann")
	r, err := e.withKey(oldKey, nil, nil).CreateRequest(ctx, ann, shares.CreateRequestInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.withKey(newK, oldKey, nil).FindRequest(ctx, ann, r.ID); err != nil || got.URL != r.URL {
		t.Fatalf("with the previous key: %q, %v", got.URL, err)
	}
	var log bytes.Buffer
	if got, err := e.withKey(newK, nil, &log).FindRequest(ctx, ann, r.ID); err != nil || got.URL != "" {
		t.Fatalf("without the previous key: %q, %v", got.URL, err)
	}
}

// TestSealPlainTokens checks the start-up sealing of rows written before
// tokens were sealed: the plain text goes, the owner still gets the URL,
// the token still works, and a second run (or a concurrent one) changes
// nothing more.
func TestSealPlainTokens(t *testing.T) {
	e := newEnv(t, "disk")
	ctx := context.Background()
	key := newKey()
	ann := e.User(t, "Ann")
	f := e.upload(t, ann, "", "a.txt", []byte("a"))

	// Rows as the old code wrote them: the token in plain text. More than
	// one batch of links, so the batches and two concurrent runs are tried.
	const nLinks = 1200
	var linkTok, linkID, reqTok string
	for range nLinks {
		linkTok = randomToken()
		h := sha256.Sum256([]byte(linkTok))
		if err := e.Pool.QueryRow(ctx, `INSERT INTO share_links (owner_id, token_hash, token, kind, created_at, updated_at) VALUES ($1, $2, $3, 'files', now(), now()) RETURNING id`,
			ann, h[:], linkTok).Scan(&linkID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Pool.Exec(ctx, `INSERT INTO share_link_files (link_id, file_id, position)
		SELECT id, $2, 1 FROM share_links WHERE token = $1`, linkTok, f.ID); err != nil {
		t.Fatal(err)
	}
	reqTok = randomToken()
	h := sha256.Sum256([]byte(reqTok))
	var reqID string
	if err := e.Pool.QueryRow(ctx, `INSERT INTO upload_requests (owner_id, token_hash, token, created_at, updated_at) VALUES ($1, $2, $3, now(), now()) RETURNING id`,
		ann, h[:], reqTok).Scan(&reqID); err != nil {
		t.Fatal(err)
	}

	// Before sealing, the owner's reads already work from the plain token.
	s := e.withKey(key, nil, nil)
	if got, err := s.FindRequest(ctx, ann, reqID); err != nil || got.URL != "https://share.example/r/"+reqTok {
		t.Fatalf("before: %q, %v", got.URL, err)
	}

	// Two instances starting at once.
	var wg sync.WaitGroup
	counts := make([]int, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() { counts[i], errs[i] = e.withKey(key, nil, nil).SealPlainTokens(ctx) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if counts[0]+counts[1] != nLinks+1 {
		t.Fatalf("sealed %v, want %d in all", counts, nLinks+1)
	}
	var plain, unsealed int
	if err := e.Pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM share_links WHERE token IS NOT NULL) + (SELECT count(*) FROM upload_requests WHERE token IS NOT NULL),
		(SELECT count(*) FROM share_links WHERE token_sealed IS NULL) + (SELECT count(*) FROM upload_requests WHERE token_sealed IS NULL)`).Scan(&plain, &unsealed); err != nil {
		t.Fatal(err)
	}
	if plain != 0 || unsealed != 0 {
		t.Fatalf("%d plain tokens and %d unsealed rows left", plain, unsealed)
	}
	for _, tok := range []string{linkTok, reqTok} {
		if n := e.rowsContaining(t, tok); n != 0 {
			t.Fatalf("%d rows still hold %q", n, tok)
		}
	}
	if n, err := s.SealPlainTokens(ctx); err != nil || n != 0 {
		t.Fatalf("second run sealed %d, %v", n, err)
	}

	if got, err := s.FindRequest(ctx, ann, reqID); err != nil || got.URL != "https://share.example/r/"+reqTok {
		t.Fatalf("after: %q, %v", got.URL, err)
	}
	if got, err := s.Find(ctx, ann, linkID); err != nil || got.URL != "https://share.example/s/"+linkTok {
		t.Fatalf("the old link: %q, %v", got.URL, err)
	}
	ls, err := s.List(ctx, ann)
	if err != nil || len(ls) == 0 {
		t.Fatalf("list: %d, %v", len(ls), err)
	}
	for _, l := range ls {
		if l.URL == "" {
			t.Fatalf("link %s has no URL", l.ID)
		}
	}
	if sh, err := s.Open(ctx, linkTok, anyone); err != nil || len(sh.Files) != 1 {
		t.Fatalf("open the old link: %+v, %v", sh, err)
	}
	if _, err := s.OpenRequest(ctx, reqTok, anyone); err != nil {
		t.Fatalf("open the old request: %v", err)
	}
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
