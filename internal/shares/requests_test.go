package shares_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/blob"
	"github.com/weupload/weupload/internal/blob/blobtest"
	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/shares"
	"github.com/weupload/weupload/internal/svctest"
)

func (e *env) request(tb testing.TB, owner string, in shares.CreateRequestInput) shares.Request {
	tb.Helper()
	r, err := e.shares.CreateRequest(context.Background(), owner, in)
	if err != nil {
		tb.Fatalf("create request: %v", err)
	}
	return r
}

// send initiates an upload through the request and PUTs data; it returns
// the upload id.
func (e *env) send(tb testing.TB, token string, v shares.Visitor, name string, data []byte) string {
	tb.Helper()
	urls, err := e.shares.InitiateRequestUpload(context.Background(), token, v, files.InitiateInput{Name: name, Size: int64(len(data)), ContentType: "text/plain"})
	if err != nil {
		tb.Fatalf("initiate %s: %v", name, err)
	}
	if res := blobtest.Do(tb, blob.Request{Method: http.MethodPut, URL: urls.URL, Header: urls.Header}, data); res.Status != http.StatusOK {
		tb.Fatalf("PUT %s: %d", name, res.Status)
	}
	return urls.Upload.ID
}

func (e *env) complete(tb testing.TB, token string, v shares.Visitor, uploadID string) files.File {
	tb.Helper()
	f, err := e.shares.CompleteRequestUpload(context.Background(), token, v, uploadID, files.CompleteInput{})
	if err != nil {
		tb.Fatalf("complete %s: %v", uploadID, err)
	}
	return f
}

func tokenOf(r shares.Request) string { return r.URL[strings.LastIndex(r.URL, "/")+1:] }

func TestRequestCreateAndScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk")
	ctx := context.Background()
	ann, bob := e.User(t, "Ann"), e.User(t, "Bob")
	inbox := e.folder(t, ann, "", "Inbox")
	bobs := e.folder(t, bob, "", "Bob's")

	_, err := e.shares.CreateRequest(ctx, ann, shares.CreateRequestInput{FolderID: bobs.ID})
	svctest.WantCode(t, err, apperr.NotFound)
	_, err = e.shares.CreateRequest(ctx, ann, shares.CreateRequestInput{FolderID: inbox.ID, MaxFiles: ptr(0), Message: strings.Repeat("m", 2001)})
	if e := apperr.As(err); e == nil || e.Fields["max_files"] == "" || !strings.Contains(e.Fields["message"], "message") {
		t.Fatalf("invalid request: %v", err)
	}
	r := e.request(t, ann, shares.CreateRequestInput{FolderID: inbox.ID, Title: "Photos", Message: "Send me the photos", MaxFiles: ptr(3), MaxBytes: ptr[int64](1 << 20)})
	if r.State != shares.RequestOpen || r.FolderName != "Inbox" || !r.FolderLive || !strings.HasPrefix(r.URL, "https://share.example/r/") || r.MaxFiles != 3 {
		t.Fatalf("request %+v", r)
	}
	root := e.request(t, ann, shares.CreateRequestInput{})
	if root.FolderID != "" || !root.FolderLive {
		t.Fatalf("root request %+v", root)
	}
	if _, err := e.shares.FindRequest(ctx, bob, r.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("bob finds ann's request: %v", err)
	}
	if _, err := e.shares.CloseRequest(ctx, bob, r.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("bob closes ann's request: %v", err)
	}
	if rs, _ := e.shares.ListRequests(ctx, ann, true, inbox.ID); len(rs) != 1 || rs[0].ID != r.ID {
		t.Fatalf("requests into Inbox: %+v", rs)
	}
	if rs, _ := e.shares.ListRequests(ctx, ann, true, ""); len(rs) != 1 || rs[0].ID != root.ID {
		t.Fatalf("requests into the root: %+v", rs)
	}
	if rs, _ := e.shares.ListRequests(ctx, bob, false, ""); len(rs) != 0 {
		t.Fatalf("bob lists %d requests", len(rs))
	}
}

// TestRequestUploads: an uploader sends files into the owner's folder,
// charged to the owner; a taken name is renamed; the request counts what
// arrived; the uploader can only complete uploads made through this
// request.
func TestRequestUploads(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk")
	ctx := context.Background()
	ann := e.User(t, "Ann")
	inbox := e.folder(t, ann, "", "Inbox")
	e.upload(t, ann, inbox.ID, "photo.jpg", []byte("the owner's own photo"))
	r := e.request(t, ann, shares.CreateRequestInput{FolderID: inbox.ID, Title: "Photos"})
	other := e.request(t, ann, shares.CreateRequestInput{FolderID: inbox.ID})
	token := tokenOf(r)

	in, err := e.shares.OpenRequest(ctx, token, anyone)
	if err != nil || in.OwnerName != "Ann" || in.Title != "Photos" || in.FilesLeft != -1 || in.BytesLeft != -1 || in.MaxFileSize <= 0 {
		t.Fatalf("open: %+v %v", in, err)
	}
	before, _ := e.files.Usage(ctx, ann)
	data := []byte("an uploaded photo")
	f := e.complete(t, token, anyone, e.send(t, token, anyone, "photo.jpg", data))
	if f.Name != "photo (1).jpg" && f.Name != "photo (2).jpg" || f.FolderID != inbox.ID || f.OwnerID != ann {
		t.Fatalf("file %+v", f)
	}
	after, _ := e.files.Usage(ctx, ann)
	if after.Used-before.Used != int64(len(data)) || after.Reserved != 0 {
		t.Fatalf("owner's usage %+v -> %+v", before, after)
	}
	if got, _ := e.shares.FindRequest(ctx, ann, r.ID); got.Files != 1 || got.Bytes != int64(len(data)) || got.LastUploadAt == nil || got.Views != 1 {
		t.Fatalf("request after one file %+v", got)
	}
	// Uploads of the owner, or of another request, are not the uploader's.
	own, err := e.files.InitiateUpload(ctx, ann, files.InitiateInput{Name: "mine.txt", Size: 1})
	if err != nil {
		t.Fatal(err)
	}
	viaOther := e.send(t, tokenOf(other), anyone, "x.txt", []byte("x"))
	for _, id := range []string{own.Upload.ID, viaOther, "nope"} {
		_, err := e.shares.CompleteRequestUpload(ctx, token, anyone, id, files.CompleteInput{})
		svctest.WantCode(t, err, apperr.NotFound)
		svctest.WantCode(t, e.shares.AbortRequestUpload(ctx, token, anyone, id), apperr.NotFound)
		_, err = e.shares.RequestUploadURLs(ctx, token, anyone, id, nil)
		svctest.WantCode(t, err, apperr.NotFound)
	}
	// Abort through the request works on its own upload.
	id := e.send(t, token, anyone, "cancelled.txt", []byte("c"))
	if err := e.shares.AbortRequestUpload(ctx, token, anyone, id); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.shares.FindRequest(ctx, ann, r.ID); got.Files != 1 {
		t.Fatalf("files after an abort: %d", got.Files)
	}
}

// TestRequestLimitsAtInitiate: the file and byte limits count uploads
// completed and in flight; an aborted upload frees its place.
func TestRequestLimitsAtInitiate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk")
	ctx := context.Background()
	ann := e.User(t, "Ann")
	r := e.request(t, ann, shares.CreateRequestInput{MaxFiles: ptr(2), MaxBytes: ptr[int64](10)})
	token := tokenOf(r)
	initiate := func(name string, size int64) (files.UploadURLs, error) {
		return e.shares.InitiateRequestUpload(ctx, token, anyone, files.InitiateInput{Name: name, Size: size})
	}
	a, err := initiate("a", 6)
	if err != nil {
		t.Fatal(err)
	}
	_, err = initiate("b", 5)
	if e := apperr.As(err); e == nil || e.Code != apperr.Conflict || !strings.Contains(e.Message, "10 bytes") {
		t.Fatalf("over the byte limit: %v", err)
	}
	if _, err := initiate("b", 4); err != nil {
		t.Fatalf("up to the byte limit: %v", err)
	}
	_, err = initiate("c", 0)
	if e := apperr.As(err); e == nil || e.Code != apperr.Conflict || !strings.Contains(e.Message, "at most 2 files") {
		t.Fatalf("over the file limit: %v", err)
	}
	if err := e.shares.AbortRequestUpload(ctx, token, anyone, a.Upload.ID); err != nil {
		t.Fatal(err)
	}
	// The aborted upload frees its file place, but its 6 bytes may still
	// arrive through its URL until that expires: they stay counted.
	if _, err := initiate("c", 6); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("6 bytes after an abort: %v, want the byte limit", err)
	}
	if _, err := initiate("c", 0); err != nil {
		t.Fatalf("after an abort: %v", err)
	}
	if in, _ := e.shares.OpenRequest(ctx, token, anyone); in.FilesLeft != 0 || in.BytesLeft != 0 {
		t.Fatalf("left %d files, %d bytes", in.FilesLeft, in.BytesLeft)
	}
}

// TestRequestConcurrentInitiate: 20 uploaders at once against a one-file
// request: exactly one may send.
func TestRequestConcurrentInitiate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk")
	ann := e.User(t, "Ann")
	r := e.request(t, ann, shares.CreateRequestInput{MaxFiles: ptr(1)})
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.shares.InitiateRequestUpload(context.Background(), tokenOf(r), anyone, files.InitiateInput{Name: "f" + string(rune('a'+i)), Size: 1})
			if err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			} else if !apperr.Is(err, apperr.Conflict) {
				t.Errorf("initiate: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d uploads started, want 1", ok)
	}
}

// TestRequestLimitsAtComplete: completion checks the limits again (the
// owner may have lowered them meanwhile); a refused upload is aborted so
// the owner's quota is released.
func TestRequestLimitsAtComplete(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk")
	ctx := context.Background()
	ann := e.User(t, "Ann")
	r := e.request(t, ann, shares.CreateRequestInput{MaxFiles: ptr(2)})
	token := tokenOf(r)
	first := e.send(t, token, anyone, "1.txt", []byte("one"))
	second := e.send(t, token, anyone, "2.txt", []byte("two"))
	if _, err := e.Pool.Exec(ctx, `UPDATE upload_requests SET max_files = 1 WHERE id = $1`, r.ID); err != nil {
		t.Fatal(err)
	}
	e.complete(t, token, anyone, first)
	_, err := e.shares.CompleteRequestUpload(ctx, token, anyone, second, files.CompleteInput{})
	svctest.WantCode(t, err, apperr.Conflict)
	if u, _ := e.files.FindUpload(ctx, ann, second); u.State != files.StateAborted {
		t.Fatalf("refused upload is %s, want aborted", u.State)
	}
	// The refused upload's URL stays valid a while: its reservation stays
	// until the URL has expired and its object's deletion ran.
	if us, _ := e.files.Usage(ctx, ann); us.Reserved != 3 || us.Used != 3 {
		t.Fatalf("owner's usage %+v", us)
	}
	// Completing the first again (a retry) gives the same file.
	if again := e.complete(t, token, anyone, first); again.Name != "1.txt" {
		t.Fatalf("retry: %+v", again)
	}
}

// TestRequestConcurrentComplete: uploads started within the limits, which
// the owner then lowered, complete concurrently; exactly as many as the
// new limit allows make files, the others are refused and aborted.
func TestRequestConcurrentComplete(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		limit string
	}{
		{"files", `max_files = 3`},
		{"bytes", `max_bytes = 30`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "disk")
			ctx := context.Background()
			ann := e.User(t, "Ann")
			r := e.request(t, ann, shares.CreateRequestInput{})
			token := tokenOf(r)
			var ids []string
			for i := range 10 {
				ids = append(ids, e.send(t, token, anyone, strconv.Itoa(i)+".txt", []byte("ten bytes!")))
			}
			if _, err := e.Pool.Exec(ctx, `UPDATE upload_requests SET `+tc.limit+` WHERE id = $1`, r.ID); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			var wg sync.WaitGroup
			var mu sync.Mutex
			ok := 0
			for _, id := range ids {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := e.shares.CompleteRequestUpload(ctx, token, anyone, id, files.CompleteInput{})
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						ok++
					case !apperr.Is(err, apperr.Conflict):
						t.Errorf("complete: %v", err)
					}
				}()
			}
			wg.Wait()
			if ok != 3 {
				t.Fatalf("%d completes succeeded, want 3", ok)
			}
			// The refused seven are aborted; their URLs stay valid a while,
			// so their reservations stay until those expire.
			if us, _ := e.files.Usage(ctx, ann); us.Used != 30 || us.Reserved != 70 {
				t.Fatalf("owner's usage %+v, want 30 used, 70 reserved", us)
			}
			// Retries of the completed ones still get their files once the
			// limits are lower still; the refused ones stay refused.
			if _, err := e.Pool.Exec(ctx, `UPDATE upload_requests SET max_files = 1, max_bytes = 10 WHERE id = $1`, r.ID); err != nil {
				t.Fatal(err)
			}
			again := 0
			for _, id := range ids {
				if _, err := e.shares.CompleteRequestUpload(ctx, token, anyone, id, files.CompleteInput{}); err == nil {
					again++
				}
			}
			if again != 3 {
				t.Fatalf("%d retries got a file, want 3", again)
			}
		})
	}
}

// TestRequestExpiry: an expired request refuses new uploads and the
// completion of those in flight, and keeps what arrived; one second before
// its expiry it still takes files.
func TestRequestExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk")
	ctx := context.Background()
	ann := e.User(t, "Ann")
	start := e.Clock.Now()
	exp := start.Add(time.Hour)
	r := e.request(t, ann, shares.CreateRequestInput{ExpiresAt: &exp})
	token := tokenOf(r)
	arrived := e.complete(t, token, anyone, e.send(t, token, anyone, "early.txt", []byte("early")))
	e.Clock.Advance(exp.Sub(start) - time.Second)
	late := e.send(t, token, anyone, "late.txt", []byte("late"))
	e.Clock.Advance(time.Second)
	_, err := e.shares.CompleteRequestUpload(ctx, token, anyone, late, files.CompleteInput{})
	svctest.WantCode(t, err, apperr.Gone)
	_, err = e.shares.InitiateRequestUpload(ctx, token, anyone, files.InitiateInput{Name: "x", Size: 1})
	svctest.WantCode(t, err, apperr.Gone)
	_, err = e.shares.OpenRequest(ctx, token, anyone)
	svctest.WantCode(t, err, apperr.Gone)
	if f, err := e.files.FindFile(ctx, ann, arrived.ID); err != nil || f.Name != "early.txt" {
		t.Fatalf("what arrived: %+v %v", f, err)
	}
	// Held until the refused upload's URL has expired (files.AbortUpload).
	if us, _ := e.files.Usage(ctx, ann); us.Reserved != 4 {
		t.Fatalf("reserved %d after the refused completion, want 4", us.Reserved)
	}
	if got, _ := e.shares.FindRequest(ctx, ann, r.ID); got.State != shares.RequestExpired || got.Files != 1 {
		t.Fatalf("request %+v", got)
	}
}

// TestRequestClosedAndFolderGone: closing stops uploads at once; so does
// trashing the target folder.
func TestRequestClosedAndFolderGone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk")
	ctx := context.Background()
	ann := e.User(t, "Ann")
	inbox := e.folder(t, ann, "", "Inbox")
	r := e.request(t, ann, shares.CreateRequestInput{FolderID: inbox.ID})
	token := tokenOf(r)
	inFlight := e.send(t, token, anyone, "a.txt", []byte("a"))
	if _, err := e.shares.CloseRequest(ctx, ann, r.ID); err != nil {
		t.Fatal(err)
	}
	_, err := e.shares.CompleteRequestUpload(ctx, token, anyone, inFlight, files.CompleteInput{})
	svctest.WantCode(t, err, apperr.Gone)
	_, err = e.shares.InitiateRequestUpload(ctx, token, anyone, files.InitiateInput{Name: "b", Size: 1})
	svctest.WantCode(t, err, apperr.Gone)

	r2 := e.request(t, ann, shares.CreateRequestInput{FolderID: inbox.ID})
	if err := e.files.TrashFolder(ctx, ann, inbox.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.shares.InitiateRequestUpload(ctx, tokenOf(r2), anyone, files.InitiateInput{Name: "b", Size: 1})
	svctest.WantCode(t, err, apperr.Gone)
	if got, _ := e.shares.FindRequest(ctx, ann, r2.ID); got.FolderLive {
		t.Fatalf("request into a trashed folder: %+v", got)
	}
}

// TestRequestPasswordAndQuota: a password request is locked until unlocked;
// the owner's quota message is not shown to the uploader.
func TestRequestPasswordAndQuota(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk")
	ctx := context.Background()
	ann := e.User(t, "Ann")
	r := e.request(t, ann, shares.CreateRequestInput{Password: "drop it here"})
	token := tokenOf(r)
	_, err := e.shares.InitiateRequestUpload(ctx, token, anyone, files.InitiateInput{Name: "a", Size: 1})
	if !shares.IsRequestLocked(err) {
		t.Fatalf("locked: %v", err)
	}
	if _, err := e.shares.UnlockRequest(ctx, token, "wrong password", anyone); !apperr.Is(err, apperr.Unauthorized) {
		t.Fatalf("wrong password: %v", err)
	}
	u, err := e.shares.UnlockRequest(ctx, token, "drop it here", anyone)
	if err != nil {
		t.Fatal(err)
	}
	v := holding(u)
	_, err = e.shares.InitiateRequestUpload(ctx, token, v, files.InitiateInput{Name: "huge.bin", Size: 200 << 20})
	if e := apperr.As(err); e == nil || e.Code != apperr.Conflict || strings.Contains(e.Message, "MiB") || !strings.Contains(e.Message, "not enough space") {
		t.Fatalf("over the owner's quota: %v", err)
	}
	if rs, _ := e.shares.ListRequests(ctx, ann, false, ""); rs[0].Files != 0 {
		t.Fatalf("files %d", rs[0].Files)
	}
	if _, err := e.shares.InitiateRequestUpload(ctx, token, v, files.InitiateInput{Name: "small", Size: 1}); err != nil {
		t.Fatalf("after a refused one: %v", err)
	}
}

// TestRequestPendingCap: without limits, an uploader still cannot hold more
// than MaxPendingRequestUploads uploads in progress (each reserves quota).
func TestRequestPendingCap(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk")
	ctx := context.Background()
	ann := e.User(t, "Ann")
	token := tokenOf(e.request(t, ann, shares.CreateRequestInput{}))
	var last files.UploadURLs
	for i := range shares.MaxPendingRequestUploads {
		u, err := e.shares.InitiateRequestUpload(ctx, token, anyone, files.InitiateInput{Name: "f" + strconv.Itoa(i), Size: 1})
		if err != nil {
			t.Fatalf("upload %d: %v", i+1, err)
		}
		last = u
	}
	_, err := e.shares.InitiateRequestUpload(ctx, token, anyone, files.InitiateInput{Name: "one more", Size: 1})
	svctest.WantCode(t, err, apperr.Conflict)
	if err := e.shares.AbortRequestUpload(ctx, token, anyone, last.Upload.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.shares.InitiateRequestUpload(ctx, token, anyone, files.InitiateInput{Name: "one more", Size: 1}); err != nil {
		t.Fatalf("after one ended: %v", err)
	}
}

// TestRequestUpdate: the options change as given, with create's
// validation; limits apply to the next upload and again at complete; a
// later expiry reopens an expired request; a new password ends unlocks; a
// closed request, or someone else's, cannot change.
func TestRequestUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk")
	ctx := context.Background()
	ann, bob := e.User(t, "Ann"), e.User(t, "Bob")
	exp := e.Clock.Now().Add(time.Hour)
	r := e.request(t, ann, shares.CreateRequestInput{Title: "Photos", Message: "Please", MaxFiles: ptr(3), ExpiresAt: &exp, Password: "drop it here"})
	token := tokenOf(r)
	u, err := e.shares.UnlockRequest(ctx, token, "drop it here", anyone)
	if err != nil {
		t.Fatal(err)
	}
	v := holding(u)

	t.Run("invalid as at create", func(t *testing.T) {
		past := e.Clock.Now().Add(-time.Second)
		_, err := e.shares.UpdateRequest(ctx, ann, r.ID, shares.UpdateRequestInput{
			MaxFiles: shares.Some(0), MaxBytes: shares.Some[int64](0), ExpiresAt: shares.Some(past),
			Password: shares.Some("short"), Title: ptr(strings.Repeat("t", 201)), Message: ptr("a\u202eb"),
		})
		ae := apperr.As(err)
		if ae == nil || ae.Code != apperr.Invalid {
			t.Fatalf("update: %v", err)
		}
		for _, f := range []string{"max_files", "max_bytes", "expires_at", "password", "title", "message"} {
			if ae.Fields[f] == "" {
				t.Errorf("no message for %s: %v", f, ae.Fields)
			}
		}
		if got, _ := e.shares.FindRequest(ctx, ann, r.ID); got.Title != "Photos" || got.MaxFiles != 3 {
			t.Fatalf("a refused update changed %+v", got)
		}
	})
	t.Run("others", func(t *testing.T) {
		_, err := e.shares.UpdateRequest(ctx, bob, r.ID, shares.UpdateRequestInput{Title: ptr("mine")})
		svctest.WantCode(t, err, apperr.NotFound)
		_, err = e.shares.UpdateRequest(ctx, ann, "nope", shares.UpdateRequestInput{})
		svctest.WantCode(t, err, apperr.NotFound)
	})

	// Given fields change, absent ones stay, null clears.
	got, err := e.shares.UpdateRequest(ctx, ann, r.ID, shares.UpdateRequestInput{Title: ptr(" Holiday "), MaxBytes: shares.Some[int64](10), MaxFiles: shares.Null[int]()})
	if err != nil || got.Title != "Holiday" || got.Message != "Please" || got.MaxFiles != 0 || got.MaxBytes != 10 || !got.HasPassword || got.ExpiresAt == nil ||
		!got.UpdatedAt.After(r.UpdatedAt) {
		t.Fatalf("updated %+v %v", got, err)
	}
	if in, err := e.shares.OpenRequest(ctx, token, v); err != nil || in.Title != "Holiday" || in.BytesLeft != 10 || in.FilesLeft != -1 {
		t.Fatalf("the uploader sees %+v %v", in, err)
	}
	// A lower limit refuses the upload in flight when it completes.
	inFlight := e.send(t, token, v, "eight.txt", []byte("8 bytes!"))
	if _, err := e.shares.UpdateRequest(ctx, ann, r.ID, shares.UpdateRequestInput{MaxBytes: shares.Some[int64](4)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.shares.CompleteRequestUpload(ctx, token, v, inFlight, files.CompleteInput{})
	svctest.WantCode(t, err, apperr.Conflict)

	// Expired, then given a later expiry: it takes files again.
	e.Clock.Advance(2 * time.Hour)
	_, err = e.shares.OpenRequest(ctx, token, v)
	svctest.WantCode(t, err, apperr.Gone)
	later := e.Clock.Now().Add(time.Hour)
	if got, err := e.shares.UpdateRequest(ctx, ann, r.ID, shares.UpdateRequestInput{ExpiresAt: shares.Some(later), MaxBytes: shares.Null[int64]()}); err != nil || got.State != shares.RequestOpen {
		t.Fatalf("reopened %+v %v", got, err)
	}
	if u, err = e.shares.UnlockRequest(ctx, token, "drop it here", anyone); err != nil { // the unlock expired too
		t.Fatal(err)
	}
	v = holding(u)
	e.complete(t, token, v, e.send(t, token, v, "ok.txt", []byte("ok")))

	// A new password ends the unlock; none opens it for everyone.
	if _, err := e.shares.UpdateRequest(ctx, ann, r.ID, shares.UpdateRequestInput{Password: shares.Some("another password")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.shares.OpenRequest(ctx, token, v)
	if !shares.IsRequestLocked(err) {
		t.Fatalf("after a new password: %v", err)
	}
	if got, err := e.shares.UpdateRequest(ctx, ann, r.ID, shares.UpdateRequestInput{Password: shares.Null[string]()}); err != nil || got.HasPassword {
		t.Fatalf("password removed %+v %v", got, err)
	}
	if _, err := e.shares.OpenRequest(ctx, token, anyone); err != nil {
		t.Fatalf("without a password: %v", err)
	}

	if _, err := e.shares.CloseRequest(ctx, ann, r.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.shares.UpdateRequest(ctx, ann, r.ID, shares.UpdateRequestInput{Title: ptr("again")})
	svctest.WantCode(t, err, apperr.Conflict)
}

// TestRequestUploadState: the uploader reads the state of its own uploads
// (to resume them), even once the request closed; not others'.
func TestRequestUploadState(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk")
	ctx := context.Background()
	ann := e.User(t, "Ann")
	r := e.request(t, ann, shares.CreateRequestInput{})
	other := e.request(t, ann, shares.CreateRequestInput{})
	token := tokenOf(r)
	id := e.send(t, token, anyone, "a.txt", []byte("a"))
	st, err := e.shares.RequestUploadState(ctx, token, anyone, id)
	if err != nil || st.State != files.StatePending || st.Size != 1 {
		t.Fatalf("state %+v %v", st, err)
	}
	_, err = e.shares.RequestUploadState(ctx, tokenOf(other), anyone, id)
	svctest.WantCode(t, err, apperr.NotFound)
	if _, err := e.shares.CloseRequest(ctx, ann, r.ID); err != nil {
		t.Fatal(err)
	}
	if st, err := e.shares.RequestUploadState(ctx, token, anyone, id); err != nil || st.ID != id {
		t.Fatalf("after closing %+v %v", st, err)
	}
}

// TestRequestAbortKeepsBytesLimit: an aborted upload's URL can still store
// bytes until it expires, so its size counts against the link's max_bytes
// until its deletion has run; aborting and starting again, even many at
// once, never lets more than max_bytes be handed out.
func TestRequestAbortKeepsBytesLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk")
	ctx := context.Background()
	ann := e.User(t, "Ann")
	r := e.request(t, ann, shares.CreateRequestInput{MaxBytes: ptr(int64(10))})
	token := tokenOf(r)
	first := e.send(t, token, anyone, "a.txt", []byte("0123456"))
	if err := e.shares.AbortRequestUpload(ctx, token, anyone, first); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	started := 0
	for i := range 8 {
		wg.Go(func() {
			_, err := e.shares.InitiateRequestUpload(ctx, token, anyone, files.InitiateInput{Name: fmt.Sprintf("b%d.txt", i), Size: 7})
			switch {
			case err == nil:
				mu.Lock()
				started++
				mu.Unlock()
			case !apperr.Is(err, apperr.Conflict):
				t.Errorf("initiate: %v", err)
			}
		})
	}
	wg.Wait()
	if started != 0 {
		t.Fatalf("%d uploads of 7 bytes started while an aborted 7 bytes may still arrive (max 10)", started)
	}
	// Once the aborted upload's URL has expired and its deletion ran, the
	// bytes are free again.
	e.Clock.Advance(e.files.Config().UploadURLTTL + e.files.Config().ExpiryGrace + time.Minute)
	if _, err := e.files.DeleteObjects(ctx); err != nil {
		t.Fatal(err)
	}
	e.send(t, token, anyone, "c.txt", []byte("0123456"))
}
