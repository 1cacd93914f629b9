package main

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/weupload/weupload/internal/auth"
	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/shares"
)

// shareUser makes an account, logs a client in as it, and returns both.
func (ta *testApp) shareUser(t testing.TB, email string) (*client, auth.User) {
	t.Helper()
	u := ta.createUser(t, email, "correct horse battery")
	c := ta.client(t)
	wantStatus(t, c.login(email, "correct horse battery"), http.StatusSeeOther)
	return c, u
}

// uploadTo stores data as name in the user's folder through the files
// service and the store's presigned PUT.
func (ta *testApp) uploadTo(t testing.TB, userID, folderID, name string, data []byte) files.File {
	t.Helper()
	urls, err := ta.files.InitiateUpload(t.Context(), userID, files.InitiateInput{Name: name, Size: int64(len(data)), ContentType: "text/plain", FolderID: folderID})
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := put(t, urls.URL, urls.Header, data); st != http.StatusOK {
		t.Fatalf("PUT %s: %d", name, st)
	}
	f, err := ta.files.CompleteUpload(t.Context(), userID, urls.Upload.ID, files.CompleteInput{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (ta *testApp) link(t testing.TB, userID string, in shares.CreateInput) shares.Link {
	t.Helper()
	l, err := ta.shares.Create(t.Context(), userID, in)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// unlocked returns a fresh visitor (no account) that typed the password.
func (ta *testApp) unlocked(t testing.TB, token, password string) *client {
	t.Helper()
	c := ta.client(t)
	r := c.post("/s/"+token, url.Values{"password": {password}})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != "/s/"+token {
		t.Fatalf("after unlock to %q", loc)
	}
	return c
}

// fetchURL GETs an absolute URL (a presigned download) and returns the body.
func fetchURL(t testing.TB, u string) (int, http.Header, []byte) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b
}

var requestIDs = regexp.MustCompile(`[a-z2-7]{16}`)

// TestShareRoutesMatrix runs every recipient route for every kind of caller
// against a password-protected link: anonymous, its owner, another user
// (logged in), a visitor who typed the password, and one who typed it for
// another link. Only the unlock opens anything; ids of other files and
// other users' files are 404 even with it.
func TestShareRoutesMatrix(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	ann, annUser := ta.shareUser(t, "ann@example.com")
	bob, bobUser := ta.shareUser(t, "bob@example.com")
	data := []byte("the shared bytes")
	a := ta.uploadTo(t, annUser.ID, "", "a.txt", data)
	notShared := ta.uploadTo(t, annUser.ID, "", "private.txt", []byte("private"))
	bobs := ta.uploadTo(t, bobUser.ID, "", "bob.txt", []byte("bob"))
	l := ta.link(t, annUser.ID, shares.CreateInput{FileIDs: []string{a.ID}, Password: "open sesame", Title: "For you"})
	other := ta.link(t, annUser.ID, shares.CreateInput{FileIDs: []string{a.ID}, Password: "other secret"})
	s := "/s/" + l.Token

	callers := map[string]*client{
		"anonymous":           ta.client(t),
		"owner":               ann,
		"other user":          bob,
		"unlocked":            ta.unlocked(t, l.Token, "open sesame"),
		"unlocked other link": ta.unlocked(t, other.Token, "other secret"),
	}
	type want struct {
		status   int
		location string // prefix
		body     string
	}
	locked := map[string]want{
		s:                            {200, "", "This link is protected"},
		s + "/files/" + a.ID:         {303, s, ""},
		s + "/zip":                   {303, s, ""},
		s + "/files/" + notShared.ID: {303, s, ""},
	}
	open := map[string]want{
		s:                            {200, "", "For you"},
		s + "/files/" + a.ID:         {303, ta.srv.URL + "/blob/", ""},
		s + "/zip":                   {200, "", ""},
		s + "/files/" + notShared.ID: {404, "", "no longer shared"},
		s + "/files/" + bobs.ID:      {404, "", "no longer shared"},
		s + "/files/not-an-id":       {404, "", "no longer shared"},
	}
	for name, c := range callers {
		expect := locked
		if name == "unlocked" {
			expect = open
		}
		for path, w := range expect {
			t.Run(name+" "+strings.Replace(path, l.Token, "T", 1), func(t *testing.T) {
				r := c.get(path)
				wantStatus(t, r, w.status)
				if !strings.HasPrefix(r.header.Get("Location"), w.location) {
					t.Fatalf("Location %q, want %q...", r.header.Get("Location"), w.location)
				}
				wantBody(t, r, w.body)
				if w.status == 200 && path == s && name != "unlocked" && strings.Contains(r.body, "a.txt") {
					t.Fatal("the password page shows the file name")
				}
			})
		}
	}
	// The unlocked visitor downloads the right bytes.
	r := callers["unlocked"].get(s + "/files/" + a.ID)
	if st, h, b := fetchURL(t, r.header.Get("Location")); st != 200 || !bytes.Equal(b, data) || !strings.HasPrefix(h.Get("Content-Disposition"), "attachment") {
		t.Fatalf("download: %d %q %q", st, h.Get("Content-Disposition"), b)
	}
	// Unknown and revoked tokens answer the same 404 page on every route.
	unknown := ta.client(t).get("/s/" + strings.Repeat("x", len(l.Token)))
	wantStatus(t, unknown, 404)
	if _, err := ta.shares.Revoke(t.Context(), annUser.ID, l.ID); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{s, s + "/files/" + a.ID, s + "/zip"} {
		for name, c := range callers {
			r := c.get(path)
			wantStatus(t, r, 404)
			if name == "anonymous" && path == s && requestIDs.ReplaceAllString(r.body, "") != requestIDs.ReplaceAllString(unknown.body, "") {
				t.Fatalf("revoked and unknown pages differ:\n%s\n---\n%s", r.body, unknown.body)
			}
		}
	}
	wantStatus(t, ta.client(t).post(s, url.Values{"password": {"open sesame"}}), 404)
	for _, path := range []string{"/s/", "/s/x", "/s/x/zip", "/s/" + l.Token + "/files/"} {
		if r := ta.client(t).get(path); r.status != 404 {
			t.Errorf("%s: %d", path, r.status)
		}
	}
}

func TestSharePasswordForm(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	_, ann := ta.shareUser(t, "ann@example.com")
	f := ta.uploadTo(t, ann.ID, "", "a.txt", []byte("a"))
	l := ta.link(t, ann.ID, shares.CreateInput{FileIDs: []string{f.ID}, Password: "open sesame"})
	c := ta.client(t)
	r := c.post("/s/"+l.Token, url.Values{"password": {"wrong one"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, "That password is not right", `aria-invalid="true"`)
	if strings.Contains(r.body, "wrong one") {
		t.Fatal("the password is echoed back")
	}
	if c.cookie("weupload_session") != "" {
		t.Error("a wrong password made a session")
	}
	for range 9 {
		wantStatus(t, c.post("/s/"+l.Token, url.Values{"password": {"wrong one"}}), http.StatusUnprocessableEntity)
	}
	r = c.post("/s/"+l.Token, url.Values{"password": {"open sesame"}})
	wantStatus(t, r, http.StatusTooManyRequests)
	wantBody(t, r, "Too many attempts, try again in")
	if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After %q", ra)
	}
	// Another visitor's IP is the same here (loopback), so the link's own
	// limit is what a distributed guesser meets; the right password after
	// the window works.
	if _, err := ta.pool.Exec(t.Context(), `DELETE FROM throttles`); err != nil {
		t.Fatal(err)
	}
	c = ta.unlocked(t, l.Token, "open sesame")
	wantBody(t, c.get("/s/"+l.Token), "a.txt")
}

// TestShareGonePages: expired and used-up links get a 410 page that says
// which; the clock is the service's, moved to either side of the expiry.
func TestShareGonePages(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	_, ann := ta.shareUser(t, "ann@example.com")
	f := ta.uploadTo(t, ann.ID, "", "a.txt", []byte("a"))
	now := time.Now()
	ta.shares.Now = func() time.Time { return now }
	exp := now.Add(time.Hour)
	expiring := ta.link(t, ann.ID, shares.CreateInput{FileIDs: []string{f.ID}, ExpiresAt: &exp})
	once := ta.link(t, ann.ID, shares.CreateInput{FileIDs: []string{f.ID}, MaxDownloads: ptrTo(1)})
	c := ta.client(t)

	now = exp.Add(-time.Second)
	wantStatus(t, c.get("/s/"+expiring.Token), 200)
	now = exp.Add(time.Second)
	for _, path := range []string{"", "/zip", "/files/" + f.ID} {
		r := c.get("/s/" + expiring.Token + path)
		wantStatus(t, r, http.StatusGone)
		wantBody(t, r, "This link has expired")
	}

	r := c.get("/s/" + once.Token)
	wantStatus(t, r, 200)
	wantBody(t, r, "1 download left")
	wantStatus(t, c.get("/s/"+once.Token+"/files/"+f.ID), http.StatusSeeOther)
	for _, path := range []string{"", "/zip", "/files/" + f.ID} {
		r := c.get("/s/" + once.Token + path)
		wantStatus(t, r, http.StatusGone)
		wantBody(t, r, "reached its download limit")
	}
}

// TestShareHeaders: every share answer, errors and redirects included,
// carries no-referrer, no-store and noindex, and the pages load nothing
// from another origin.
func TestShareHeaders(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	_, ann := ta.shareUser(t, "ann@example.com")
	f := ta.uploadTo(t, ann.ID, "", "a.txt", []byte("a"))
	g := ta.uploadTo(t, ann.ID, "", "b.txt", []byte("b"))
	open := ta.link(t, ann.ID, shares.CreateInput{FileIDs: []string{f.ID, g.ID}, Note: "Hi <script>alert(1)</script>"})
	locked := ta.link(t, ann.ID, shares.CreateInput{FileIDs: []string{f.ID}, Password: "open sesame"})
	c := ta.client(t)
	for _, path := range []string{
		"/s/" + open.Token, "/s/" + open.Token + "/files/" + f.ID, "/s/" + open.Token + "/zip",
		"/s/" + locked.Token, "/s/" + locked.Token + "/zip", "/s/nope",
	} {
		r := c.get(path)
		h := r.header
		if h.Get("Referrer-Policy") != "no-referrer" || h.Get("Cache-Control") != "no-store" ||
			!strings.Contains(h.Get("X-Robots-Tag"), "noindex") || h.Get("Content-Security-Policy") == "" ||
			h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s (%d): headers %v", path, r.status, h)
		}
		if r.status < 300 || r.status >= 400 {
			for _, m := range regexp.MustCompile(`(?:src|href|action)="([^"]*)"`).FindAllStringSubmatch(r.body, -1) {
				if (!strings.HasPrefix(m[1], "/") && !strings.HasPrefix(m[1], "#")) || strings.HasPrefix(m[1], "//") {
					t.Errorf("%s loads %q", path, m[1])
				}
			}
		}
	}
	r := c.get("/s/" + open.Token)
	if strings.Contains(r.body, "<script>alert") || !strings.Contains(r.body, "&lt;script&gt;") {
		t.Error("the note is not escaped")
	}
	wr := c.post("/s/"+locked.Token, url.Values{"password": {"nope"}})
	if wr.header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("wrong-password answer headers %v", wr.header)
	}
}

// TestShareDownloadLimitHTTP: 50 parallel clicks on a one-download link give
// exactly one URL; the metrics count it once.
func TestShareDownloadLimitHTTP(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	_, ann := ta.shareUser(t, "ann@example.com")
	data := []byte("once")
	f := ta.uploadTo(t, ann.ID, "", "a.txt", data)
	l := ta.link(t, ann.ID, shares.CreateInput{FileIDs: []string{f.ID}, MaxDownloads: ptrTo(1)})
	before := shareEvents(t, ta, "download")
	var wg sync.WaitGroup
	statuses := make(chan response, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- ta.client(t).get("/s/" + l.Token + "/files/" + f.ID)
		}()
	}
	wg.Wait()
	close(statuses)
	var got []string
	for r := range statuses {
		switch r.status {
		case http.StatusSeeOther:
			got = append(got, r.header.Get("Location"))
		case http.StatusGone:
		default:
			t.Fatalf("status %d", r.status)
		}
	}
	if len(got) != 1 {
		t.Fatalf("%d downloads, want 1", len(got))
	}
	if st, _, b := fetchURL(t, got[0]); st != 200 || !bytes.Equal(b, data) {
		t.Fatalf("the download: %d %q", st, b)
	}
	if d := shareEvents(t, ta, "download") - before; d != 1 {
		t.Fatalf("download metric grew by %v", d)
	}
}

// TestShareFolderZip: "Download all" of a folder link streams a zip of the
// live subtree with the uploaded bytes, and a trashed file is gone from the
// page, its route and the zip at once.
func TestShareFolderZip(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	_, annUser := ta.shareUser(t, "ann@example.com")
	root, err := ta.files.CreateFolder(t.Context(), annUser.ID, files.CreateFolderInput{Name: "Holiday"})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := ta.files.CreateFolder(t.Context(), annUser.ID, files.CreateFolderInput{Name: "day 1", ParentID: root.ID})
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), 3<<20)
	ta.uploadTo(t, annUser.ID, root.ID, "one.txt", []byte("one"))
	ta.uploadTo(t, annUser.ID, sub.ID, "two.bin", big)
	gone := ta.uploadTo(t, annUser.ID, sub.ID, "gone.txt", []byte("gone"))
	l := ta.link(t, annUser.ID, shares.CreateInput{FolderID: root.ID})
	c := ta.client(t)
	wantBody(t, c.get("/s/"+l.Token), "gone.txt", "Download all", "Holiday")

	if err := ta.files.TrashFile(t.Context(), annUser.ID, gone.ID); err != nil {
		t.Fatal(err)
	}
	page := c.get("/s/" + l.Token)
	if strings.Contains(page.body, "gone.txt") {
		t.Fatal("the trashed file is still listed")
	}
	wantStatus(t, c.get("/s/"+l.Token+"/files/"+gone.ID), 404)

	r := c.get("/s/" + l.Token + "/zip")
	wantStatus(t, r, 200)
	if ct, cd := r.header.Get("Content-Type"), r.header.Get("Content-Disposition"); ct != "application/zip" || !strings.Contains(cd, `filename="Holiday.zip"`) {
		t.Fatalf("zip headers %q %q", ct, cd)
	}
	zr, err := zip.NewReader(strings.NewReader(r.body), int64(len(r.body)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	if len(got) != 3 || !bytes.Equal(got["one.txt"], []byte("one")) || !bytes.Equal(got["day 1/two.bin"], big) || got["day 1/"] == nil {
		t.Fatalf("zip entries %d: one=%q two=%d", len(got), got["one.txt"], len(got["day 1/two.bin"]))
	}
}

// shareEvents reads the share-link events counter.
func shareEvents(t testing.TB, ta *testApp, event string) float64 {
	t.Helper()
	var m dto.Metric
	if err := ta.metrics.shareEvents.WithLabelValues(event).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func ptrTo[T any](v T) *T { return &v }
