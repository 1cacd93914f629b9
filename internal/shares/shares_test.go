package shares_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/shares"
	"github.com/weupload/weupload/internal/svctest"
)

func TestCreateValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk")
	ctx := context.Background()
	ann, bob := e.User(t, "Ann"), e.User(t, "Bob")
	f := e.upload(t, ann, "", "a.txt", []byte("a"))
	trashed := e.upload(t, ann, "", "t.txt", []byte("t"))
	if err := e.files.TrashFile(ctx, ann, trashed.ID); err != nil {
		t.Fatal(err)
	}
	dir := e.folder(t, ann, "", "docs")
	bobs := e.upload(t, bob, "", "b.txt", []byte("b"))

	invalid := []struct {
		name  string
		in    shares.CreateInput
		field string
	}{
		{"nothing", shares.CreateInput{}, "file_ids"},
		{"files and folder", shares.CreateInput{FileIDs: []string{f.ID}, FolderID: dir.ID}, "file_ids"},
		{"short password", shares.CreateInput{FileIDs: []string{f.ID}, Password: "1234567"}, "password"},
		{"past expiry", shares.CreateInput{FileIDs: []string{f.ID}, ExpiresAt: ptr(e.Clock.Now().Add(-time.Second))}, "expires_at"},
		{"expiry now", shares.CreateInput{FileIDs: []string{f.ID}, ExpiresAt: ptr(e.Clock.Now())}, "expires_at"},
		{"zero downloads", shares.CreateInput{FileIDs: []string{f.ID}, MaxDownloads: ptr(0)}, "max_downloads"},
		{"long title", shares.CreateInput{FileIDs: []string{f.ID}, Title: strings.Repeat("t", 201)}, "title"},
		{"control in title", shares.CreateInput{FileIDs: []string{f.ID}, Title: "a\x07b"}, "title"},
		{"rtl override in title", shares.CreateInput{FileIDs: []string{f.ID}, Title: "a\u202eb"}, "title"},
		{"long note", shares.CreateInput{FileIDs: []string{f.ID}, Note: strings.Repeat("n", 2001)}, "note"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.shares.Create(ctx, ann, tt.in)
			if e := apperr.As(err); e == nil || e.Code != apperr.Invalid || e.Fields[tt.field] == "" {
				t.Fatalf("want Invalid on %s, got %v", tt.field, err)
			}
		})
	}
	notFound := []struct {
		name string
		in   shares.CreateInput
	}{
		{"someone else's file", shares.CreateInput{FileIDs: []string{f.ID, bobs.ID}}},
		{"trashed file", shares.CreateInput{FileIDs: []string{trashed.ID}}},
		{"malformed file id", shares.CreateInput{FileIDs: []string{"../etc"}}},
		{"someone else's folder", shares.CreateInput{FolderID: e.folder(t, bob, "", "x").ID}},
		{"malformed folder id", shares.CreateInput{FolderID: "root"}},
	}
	for _, tt := range notFound {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.shares.Create(ctx, ann, tt.in)
			svctest.WantCode(t, err, apperr.NotFound)
		})
	}
	t.Run("ok with every option", func(t *testing.T) {
		exp := e.Clock.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
		// Upper-case and duplicate ids are the same file.
		l := e.create(t, ann, shares.CreateInput{FileIDs: []string{f.ID, strings.ToUpper(f.ID)}, Password: "open sesame", ExpiresAt: &exp,
			MaxDownloads: ptr(3), Title: "  Holiday  ", Note: "Line 1\r\nLine 2"})
		if l.Kind != shares.KindFiles || len(l.FileIDs) != 1 || l.Title != "Holiday" || l.Note != "Line 1\nLine 2" ||
			!l.HasPassword || !l.ExpiresAt.Equal(exp) || l.MaxDownloads != 3 || l.State != shares.StateActive ||
			l.Items.Name != "a.txt" || l.Items.Files != 1 || !l.Items.Available {
			t.Fatalf("link %+v", l)
		}
		if !strings.HasPrefix(l.URL, "https://share.example/s/") || len(l.Token) < 22 || strings.ContainsAny(l.Token, "+/=") {
			t.Fatalf("URL %q token %q", l.URL, l.Token)
		}
		var stored []byte
		if err := e.Pool.QueryRow(ctx, `SELECT token_hash FROM share_links WHERE id = $1`, l.ID).Scan(&stored); err != nil || len(stored) != 32 {
			t.Fatalf("token hash %x (%v)", stored, err)
		}
	})
}

func TestOwnerScoping(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk")
	ctx := context.Background()
	ann, bob := e.User(t, "Ann"), e.User(t, "Bob")
	f := e.upload(t, ann, "", "a.txt", []byte("a"))
	l := e.create(t, ann, shares.CreateInput{FileIDs: []string{f.ID}})

	if _, err := e.shares.Find(ctx, bob, l.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("bob finds ann's link: %v", err)
	}
	if _, err := e.shares.Update(ctx, bob, l.ID, shares.UpdateInput{Title: ptr("mine")}); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("bob updates ann's link: %v", err)
	}
	if _, err := e.shares.Revoke(ctx, bob, l.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("bob revokes ann's link: %v", err)
	}
	if ls, err := e.shares.List(ctx, bob); err != nil || len(ls) != 0 {
		t.Fatalf("bob lists %d links (%v)", len(ls), err)
	}
	if ls, err := e.shares.ListFor(ctx, bob, []string{f.ID}, ""); err != nil || len(ls) != 0 {
		t.Fatalf("bob lists %d links of ann's file (%v)", len(ls), err)
	}
	if ls, err := e.shares.ListFor(ctx, ann, []string{f.ID}, ""); err != nil || len(ls) != 1 {
		t.Fatalf("ann lists %d links of her file (%v)", len(ls), err)
	}
	if got, err := e.shares.Find(ctx, ann, l.ID); err != nil || got.Title != "" || got.State != shares.StateActive {
		t.Fatalf("ann's link after bob's attempts: %+v %v", got, err)
	}
	for _, id := range []string{"", "nope", strings.Repeat("0", 36)} {
		if _, err := e.shares.Find(ctx, ann, id); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("find %q: %v", id, err)
		}
	}
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk")
	ctx := context.Background()
	ann := e.User(t, "Ann")
	f := e.upload(t, ann, "", "a.txt", []byte("a"))
	l := e.create(t, ann, shares.CreateInput{FileIDs: []string{f.ID}, MaxDownloads: ptr(1), Title: "T"})

	exp := e.Clock.Now().Add(48 * time.Hour)
	got, err := e.shares.Update(ctx, ann, l.ID, shares.UpdateInput{Note: ptr("hello"), Password: shares.Some("new password"),
		ExpiresAt: shares.Some(exp), MaxDownloads: shares.Null[int]()})
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "T" || got.Note != "hello" || !got.HasPassword || got.ExpiresAt == nil || got.MaxDownloads != 0 {
		t.Fatalf("after update %+v", got)
	}
	got, err = e.shares.Update(ctx, ann, l.ID, shares.UpdateInput{Password: shares.Some(""), ExpiresAt: shares.Null[time.Time]()})
	if err != nil || got.HasPassword || got.ExpiresAt != nil || got.Note != "hello" {
		t.Fatalf("after clearing %+v %v", got, err)
	}
	_, err = e.shares.Update(ctx, ann, l.ID, shares.UpdateInput{MaxDownloads: shares.Some(-1)})
	svctest.WantCode(t, err, apperr.Invalid)
	if _, err := e.shares.Revoke(ctx, ann, l.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.shares.Update(ctx, ann, l.ID, shares.UpdateInput{Title: ptr("again")})
	svctest.WantCode(t, err, apperr.Conflict)
	// Revoking twice is fine and keeps the state.
	if got, err := e.shares.Revoke(ctx, ann, l.ID); err != nil || got.State != shares.StateRevoked {
		t.Fatalf("second revoke: %+v %v", got, err)
	}
}

// TestExpiryBoundary checks the expiry to the second with the injected
// clock: one second before it the link works, at it and one second after it
// the link is gone (410).
func TestExpiryBoundary(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk")
	ctx := context.Background()
	ann := e.User(t, "Ann")
	f := e.upload(t, ann, "", "a.txt", []byte("a"))
	start := e.Clock.Now()
	exp := start.Add(time.Hour)
	l := e.create(t, ann, shares.CreateInput{FileIDs: []string{f.ID}, ExpiresAt: &exp})

	e.Clock.Advance(exp.Sub(start) - time.Second) // 1 s before
	if _, err := e.shares.Open(ctx, l.Token, anyone); err != nil {
		t.Fatalf("1 s before expiry: %v", err)
	}
	if _, err := e.shares.DownloadURL(ctx, l.Token, f.ID, anyone); err != nil {
		t.Fatalf("download 1 s before expiry: %v", err)
	}
	if got, _ := e.shares.Find(ctx, ann, l.ID); got.State != shares.StateActive {
		t.Fatalf("state 1 s before: %s", got.State)
	}
	e.Clock.Advance(time.Second) // at the expiry
	_, err := e.shares.Open(ctx, l.Token, anyone)
	svctest.WantCode(t, err, apperr.Gone)
	e.Clock.Advance(time.Second) // 1 s after
	_, err = e.shares.Open(ctx, l.Token, anyone)
	svctest.WantCode(t, err, apperr.Gone)
	if !strings.Contains(apperr.As(err).Message, "expired") {
		t.Fatalf("message %q", apperr.As(err).Message)
	}
	_, err = e.shares.DownloadURL(ctx, l.Token, f.ID, anyone)
	svctest.WantCode(t, err, apperr.Gone)
	_, err = e.shares.Archive(ctx, l.Token, anyone)
	svctest.WantCode(t, err, apperr.Gone)
	if got, _ := e.shares.Find(ctx, ann, l.ID); got.State != shares.StateExpired {
		t.Fatalf("state after: %s", got.State)
	}
	// Extending the expiry brings it back.
	if _, err := e.shares.Update(ctx, ann, l.ID, shares.UpdateInput{ExpiresAt: shares.Null[time.Time]()}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.shares.Open(ctx, l.Token, anyone); err != nil {
		t.Fatalf("after removing the expiry: %v", err)
	}
}

// TestDownloadLimitConcurrent: 50 parallel requests for the one download a
// link allows get exactly one URL; the rest are told it is used up.
func TestDownloadLimitConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk")
	ctx := context.Background()
	ann := e.User(t, "Ann")
	data := []byte("only once")
	f := e.upload(t, ann, "", "once.txt", data)
	l := e.create(t, ann, shares.CreateInput{FileIDs: []string{f.ID}, MaxDownloads: ptr(1)})

	const n = 50
	var wg sync.WaitGroup
	urls := make(chan string, n)
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var err error
			if i%5 == 0 {
				_, err = e.shares.Archive(ctx, l.Token, anyone)
				if err == nil {
					urls <- "zip"
				}
			} else {
				var d shares.Download
				d, err = e.shares.DownloadURL(ctx, l.Token, f.ID, anyone)
				if err == nil {
					urls <- d.URL
				}
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(urls)
	close(errs)
	if len(urls) != 1 {
		t.Fatalf("%d of %d requests got a download, want exactly 1", len(urls), n)
	}
	for err := range errs {
		if !apperr.Is(err, apperr.Gone) || !strings.Contains(err.Error(), "download limit") {
			t.Fatalf("refusal: %v", err)
		}
	}
	if u := <-urls; u != "zip" {
		if st, body := fetch(t, u); st != 200 || !bytes.Equal(body, data) {
			t.Fatalf("the one download: %d %q", st, body)
		}
	}
	got, _ := e.shares.Find(ctx, ann, l.ID)
	if got.Downloads != 1 || got.State != shares.StateExhausted {
		t.Fatalf("downloads %d state %s", got.Downloads, got.State)
	}
	_, err := e.shares.Open(ctx, l.Token, anyone)
	svctest.WantCode(t, err, apperr.Gone)
	// Raising the limit opens it again.
	if _, err := e.shares.Update(ctx, ann, l.ID, shares.UpdateInput{MaxDownloads: shares.Some(2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.shares.DownloadURL(ctx, l.Token, f.ID, anyone); err != nil {
		t.Fatalf("after raising the limit: %v", err)
	}
}

func TestPassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk")
	ctx := context.Background()
	ann := e.User(t, "Ann")
	f := e.upload(t, ann, "", "secret.txt", []byte("s"))
	l := e.create(t, ann, shares.CreateInput{FileIDs: []string{f.ID}, Password: "open sesame"})
	other := e.create(t, ann, shares.CreateInput{FileIDs: []string{f.ID}, Password: "open sesame"})

	// Every path that yields contents, bytes or URLs is locked.
	_, err := e.shares.Open(ctx, l.Token, anyone)
	if !shares.IsLocked(err) {
		t.Fatalf("open without unlock: %v", err)
	}
	_, err = e.shares.DownloadURL(ctx, l.Token, f.ID, anyone)
	if !shares.IsLocked(err) {
		t.Fatalf("download without unlock: %v", err)
	}
	_, err = e.shares.Archive(ctx, l.Token, anyone)
	if !shares.IsLocked(err) {
		t.Fatalf("zip without unlock: %v", err)
	}
	_, err = e.shares.Unlock(ctx, l.Token, "open sesamE", anyone)
	if e := apperr.As(err); e == nil || e.Code != apperr.Unauthorized || e.Fields["password"] == "" {
		t.Fatalf("wrong password: %v", err)
	}
	u, err := e.shares.Unlock(ctx, l.Token, "open sesame", anyone)
	if err != nil || u.ID != l.ID {
		t.Fatalf("right password: %+v %v", u, err)
	}
	v := holding(shares.ParseUnlock(l.ID, u.String()))
	if _, err := e.shares.Open(ctx, l.Token, v); err != nil {
		t.Fatalf("open with unlock: %v", err)
	}
	if _, err := e.shares.DownloadURL(ctx, l.Token, f.ID, v); err != nil {
		t.Fatalf("download with unlock: %v", err)
	}
	// The unlock is for that link only.
	if _, err := e.shares.Open(ctx, other.Token, v); !shares.IsLocked(err) {
		t.Fatalf("other link with this unlock: %v", err)
	}
	// A forged unlock for another link id with the same version opens nothing.
	forged := holding(shares.Unlock{ID: other.ID, Version: 0, ExpiresAt: e.Clock.Now().Add(time.Hour)})
	if _, err := e.shares.Open(ctx, l.Token, forged); !shares.IsLocked(err) {
		t.Fatalf("forged unlock: %v", err)
	}
	// It lasts UnlockTTL (an hour).
	e.Clock.Advance(59 * time.Minute)
	if _, err := e.shares.Open(ctx, l.Token, v); err != nil {
		t.Fatalf("unlock after 59 min: %v", err)
	}
	e.Clock.Advance(2 * time.Minute)
	if _, err := e.shares.Open(ctx, l.Token, v); !shares.IsLocked(err) {
		t.Fatalf("unlock after 61 min: %v", err)
	}
	// A password change ends earlier unlocks.
	u, _ = e.shares.Unlock(ctx, l.Token, "open sesame", anyone)
	v = holding(u)
	if _, err := e.shares.Update(ctx, ann, l.ID, shares.UpdateInput{Password: shares.Some("another secret")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.shares.Open(ctx, l.Token, v); !shares.IsLocked(err) {
		t.Fatalf("unlock after password change: %v", err)
	}
	// Removing the password opens the link to everyone.
	if _, err := e.shares.Update(ctx, ann, l.ID, shares.UpdateInput{Password: shares.Null[string]()}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.shares.Open(ctx, l.Token, anyone); err != nil {
		t.Fatalf("after removing the password: %v", err)
	}
	for _, s := range []string{"", "x", "1.", ".5", "a.b"} {
		if u := shares.ParseUnlock("id", s); u != (shares.Unlock{}) {
			t.Fatalf("ParseUnlock(%q) = %+v", s, u)
		}
	}
}

// TestPasswordThrottling: wrong passwords are limited per client IP and per
// link, and the refusal says when to try again. While throttled, even the
// right password is refused.
func TestPasswordThrottling(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk")
	ctx := context.Background()
	ann := e.User(t, "Ann")
	f := e.upload(t, ann, "", "secret.txt", []byte("s"))
	l := e.create(t, ann, shares.CreateInput{FileIDs: []string{f.ID}, Password: "open sesame"})
	ip := func(s string) shares.Visitor { return shares.Visitor{ClientIP: s} }

	for i := range 10 {
		if _, err := e.shares.Unlock(ctx, l.Token, "guess", ip("192.0.2.1")); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	_, err := e.shares.Unlock(ctx, l.Token, "open sesame", ip("192.0.2.1"))
	svctest.WantCode(t, err, apperr.TooMany)
	if e := apperr.As(err); !strings.Contains(e.Message, "try again in") || e.RetryAfter <= 0 || e.RetryAfter > 15*time.Minute {
		t.Fatalf("throttle message %q retry %s", e.Message, e.RetryAfter)
	}
	// Another IP may still try, until the link's own limit (20) is used up.
	for i := range 10 {
		if _, err := e.shares.Unlock(ctx, l.Token, "guess", ip("192.0.2.2")); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("attempt %d from a second IP: %v", i+1, err)
		}
	}
	_, err = e.shares.Unlock(ctx, l.Token, "open sesame", ip("198.51.100.7"))
	svctest.WantCode(t, err, apperr.TooMany)
}

func TestRevokeTakesEffectAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk")
	ctx := context.Background()
	ann := e.User(t, "Ann")
	f := e.upload(t, ann, "", "a.txt", []byte("a"))
	l := e.create(t, ann, shares.CreateInput{FileIDs: []string{f.ID}})
	if _, err := e.shares.Open(ctx, l.Token, anyone); err != nil {
		t.Fatal(err)
	}
	if _, err := e.shares.Revoke(ctx, ann, l.ID); err != nil {
		t.Fatal(err)
	}
	_, revoked := e.shares.Open(ctx, l.Token, anyone)
	_, unknown := e.shares.Open(ctx, strings.Repeat("A", len(l.Token)), anyone)
	_, junk := e.shares.Open(ctx, "../../etc/passwd", anyone)
	svctest.WantCode(t, revoked, apperr.NotFound)
	if revoked.Error() != unknown.Error() || junk.Error() != unknown.Error() {
		t.Fatalf("revoked and unknown must answer alike: %v / %v / %v", revoked, unknown, junk)
	}
	_, err := e.shares.DownloadURL(ctx, l.Token, f.ID, anyone)
	svctest.WantCode(t, err, apperr.NotFound)
	_, err = e.shares.Archive(ctx, l.Token, anyone)
	svctest.WantCode(t, err, apperr.NotFound)
	_, err = e.shares.Unlock(ctx, l.Token, "x", anyone)
	svctest.WantCode(t, err, apperr.NotFound)
}

func TestOwnerDeleted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk")
	ctx := context.Background()
	ann := e.User(t, "Ann")
	f := e.upload(t, ann, "", "a.txt", []byte("a"))
	l := e.create(t, ann, shares.CreateInput{FileIDs: []string{f.ID}})
	sh, err := e.shares.Open(ctx, l.Token, anyone)
	if err != nil || sh.OwnerName != "Ann" {
		t.Fatalf("open: %+v %v", sh, err)
	}
	// The file rows go first (as the account deletion would through the
	// files service), then the user.
	if _, err := e.Pool.Exec(ctx, `DELETE FROM files WHERE owner_id = $1`, ann); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Pool.Exec(ctx, `DELETE FROM users WHERE id = $1`, ann); err != nil {
		t.Fatal(err)
	}
	_, err = e.shares.Open(ctx, l.Token, anyone)
	svctest.WantCode(t, err, apperr.NotFound)
}

// TestTrashedAfterSharing: files trashed after sharing drop out of the link
// at once, and come back with a restore.
func TestTrashedAfterSharing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk")
	ctx := context.Background()
	ann := e.User(t, "Ann")
	a := e.upload(t, ann, "", "a.txt", []byte("a"))
	b := e.upload(t, ann, "", "b.txt", []byte("bb"))
	l := e.create(t, ann, shares.CreateInput{FileIDs: []string{b.ID, a.ID}})

	sh, err := e.shares.Open(ctx, l.Token, anyone)
	if err != nil || sh.FileCount != 2 || sh.TotalSize != 3 || sh.Files[0].Name != "b.txt" {
		t.Fatalf("open: %+v %v", sh, err)
	}
	if err := e.files.TrashFile(ctx, ann, b.ID); err != nil {
		t.Fatal(err)
	}
	sh, err = e.shares.Open(ctx, l.Token, anyone)
	if err != nil || sh.FileCount != 1 || sh.Files[0].ID != a.ID {
		t.Fatalf("after trashing b: %+v %v", sh, err)
	}
	_, err = e.shares.DownloadURL(ctx, l.Token, b.ID, anyone)
	svctest.WantCode(t, err, apperr.NotFound)
	if got, _ := e.shares.Find(ctx, ann, l.ID); got.Items.Files != 1 || got.Items.Name != "a.txt" {
		t.Fatalf("items %+v", got.Items)
	}
	if err := e.files.TrashFile(ctx, ann, a.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.shares.Open(ctx, l.Token, anyone)
	svctest.WantCode(t, err, apperr.NotFound)
	_, err = e.shares.Archive(ctx, l.Token, anyone)
	svctest.WantCode(t, err, apperr.NotFound)
	if got, _ := e.shares.Find(ctx, ann, l.ID); got.Items.Available {
		t.Fatalf("items %+v after trashing all", got.Items)
	}
	// Purged for good: the link stays in the owner's list, empty.
	if _, err := e.files.EmptyTrash(ctx, ann); err != nil {
		t.Fatal(err)
	}
	if got, err := e.shares.Find(ctx, ann, l.ID); err != nil || len(got.FileIDs) != 0 || got.Items.Available {
		t.Fatalf("after purge: %+v %v", got, err)
	}
}

// TestFolderLinkScope: a folder link gives the folder's live subtree, found
// by folder id, never a sibling with a similar name, another user's file or
// anything trashed.
func TestFolderLinkScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk")
	ctx := context.Background()
	ann, bob := e.User(t, "Ann"), e.User(t, "Bob")
	shared := e.folder(t, ann, "", "a")
	sibling := e.folder(t, ann, "", "ab")
	sub := e.folder(t, ann, shared.ID, "sub")
	deep := e.folder(t, ann, sub.ID, "deep")
	top := e.upload(t, ann, shared.ID, "top.txt", []byte("top"))
	inSub := e.upload(t, ann, sub.ID, "in-sub.txt", []byte("sub"))
	inDeep := e.upload(t, ann, deep.ID, "in-deep.txt", []byte("deep"))
	outside := e.upload(t, ann, sibling.ID, "outside.txt", []byte("no"))
	atRoot := e.upload(t, ann, "", "root.txt", []byte("no"))
	bobs := e.upload(t, bob, "", "bob.txt", []byte("no"))
	l := e.create(t, ann, shares.CreateInput{FolderID: shared.ID, Title: "Photos"})

	sh, err := e.shares.Open(ctx, l.Token, anyone)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range sh.Files {
		got = append(got, f.Dir+f.Name)
	}
	if strings.Join(got, ",") != "top.txt,sub/deep/in-deep.txt,sub/in-sub.txt" && strings.Join(got, ",") != "top.txt,sub/in-sub.txt,sub/deep/in-deep.txt" {
		t.Fatalf("files %v", got)
	}
	if sh.FolderName != "a" || sh.FileCount != 3 {
		t.Fatalf("folder %q count %d", sh.FolderName, sh.FileCount)
	}
	for _, f := range []files.File{top, inSub, inDeep} {
		if _, err := e.shares.DownloadURL(ctx, l.Token, f.ID, anyone); err != nil {
			t.Fatalf("download %s: %v", f.Name, err)
		}
	}
	for _, f := range []files.File{outside, atRoot, bobs} {
		_, err := e.shares.DownloadURL(ctx, l.Token, f.ID, anyone)
		svctest.WantCode(t, err, apperr.NotFound)
	}
	// Trash a subfolder: its subtree drops out.
	if err := e.files.TrashFolder(ctx, ann, sub.ID); err != nil {
		t.Fatal(err)
	}
	sh, _ = e.shares.Open(ctx, l.Token, anyone)
	if sh.FileCount != 1 {
		t.Fatalf("after trashing sub: %d files", sh.FileCount)
	}
	_, err = e.shares.DownloadURL(ctx, l.Token, inDeep.ID, anyone)
	svctest.WantCode(t, err, apperr.NotFound)
	// Moving a file out of the folder takes it out of the link.
	if _, err := e.files.MoveFile(ctx, ann, top.ID, files.MoveInput{FolderID: sibling.ID}); err != nil {
		t.Fatal(err)
	}
	_, err = e.shares.DownloadURL(ctx, l.Token, top.ID, anyone)
	svctest.WantCode(t, err, apperr.NotFound)
	// An empty live folder is still a link (nothing to download).
	if sh, err = e.shares.Open(ctx, l.Token, anyone); err != nil || sh.FileCount != 0 {
		t.Fatalf("empty folder: %+v %v", sh, err)
	}
	// Trash the shared folder itself: the link answers as unknown.
	if err := e.files.TrashFolder(ctx, ann, shared.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.shares.Open(ctx, l.Token, anyone)
	svctest.WantCode(t, err, apperr.NotFound)
	if got, _ := e.shares.Find(ctx, ann, l.ID); got.Items.Available || got.Items.Name != "a" {
		t.Fatalf("items %+v", got.Items)
	}
}

func TestViewsAndDownloadsCounted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk")
	ctx := context.Background()
	ann := e.User(t, "Ann")
	f := e.upload(t, ann, "", "a.txt", []byte("a"))
	l := e.create(t, ann, shares.CreateInput{FileIDs: []string{f.ID}, MaxDownloads: ptr(5)})
	if l.LastAccessAt != nil || l.Views != 0 {
		t.Fatalf("fresh link %+v", l)
	}
	for range 3 {
		if _, err := e.shares.Open(ctx, l.Token, anyone); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.shares.DownloadURL(ctx, l.Token, f.ID, anyone); err != nil {
		t.Fatal(err)
	}
	sh, _ := e.shares.Open(ctx, l.Token, anyone)
	if sh.DownloadsLeft != 4 {
		t.Fatalf("downloads left %d", sh.DownloadsLeft)
	}
	got, _ := e.shares.Find(ctx, ann, l.ID)
	if got.Views != 4 || got.Downloads != 1 || got.LastAccessAt == nil {
		t.Fatalf("views %d downloads %d last %v", got.Views, got.Downloads, got.LastAccessAt)
	}
}
