package main

import (
	"archive/zip"
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weupload/weupload/internal/auth"
	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/scan/clamdtest"
	"github.com/weupload/weupload/internal/shares"
	"github.com/weupload/weupload/internal/testenv"
)

// scanFile runs the scan job's work for one file, as the job would.
func (ta *testApp) scanFile(t testing.TB, id string) {
	t.Helper()
	if err := ta.scan.ScanFile(context.Background(), id); err != nil {
		t.Fatalf("scan %s: %v", id, err)
	}
}

// zipNames lists the file entries of a zip response.
func zipNames(t testing.TB, r response) []string {
	t.Helper()
	zr, err := zip.NewReader(strings.NewReader(r.body), int64(len(r.body)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, "/") {
			names = append(names, f.Name)
		}
	}
	slices.Sort(names)
	return names
}

// TestScanRequiredDownloads runs every route that serves bytes or URLs to
// bytes with SCAN_MODE=required (the default with CLAMD_ADDR) against a
// real clamd: an EICAR file becomes infected and no route serves it, to
// anyone; a clean file is served; a file still pending is held back on
// its own, in a folder link and in the link's zip, and served once clean.
// Refusals are 409 (HTML page, htmx toast or problem+json) and count no
// link download.
func TestScanRequiredDownloads(t *testing.T) {
	clamd := clamdtest.Start(t)
	ta := newFilesTestApp(t, map[string]string{"CLAMD_ADDR": clamd.Addr})
	ann, annUser := ta.shareUser(t, "ann@example.com")
	bob, _ := ta.shareUser(t, "bob@example.com")
	ctx := t.Context()
	box, err := ta.files.CreateFolder(ctx, annUser.ID, files.CreateFolderInput{Name: "Box"})
	if err != nil {
		t.Fatal(err)
	}
	eicar := ta.uploadTo(t, annUser.ID, box.ID, "eicar.com", []byte(clamdtest.EICAR))
	clean := ta.uploadTo(t, annUser.ID, box.ID, "clean.txt", []byte("clean bytes"))
	pending := ta.uploadTo(t, annUser.ID, box.ID, "pending.txt", []byte("not scanned yet"))
	for _, f := range []files.File{eicar, clean, pending} {
		if f.ScanState != files.ScanPending {
			t.Fatalf("%s starts %q, want pending", f.Name, f.ScanState)
		}
	}
	if _, err := ta.files.Share(ctx, annUser.ID, files.ShareInput{FolderID: box.ID, Email: "bob@example.com", Role: files.RoleViewer}); err != nil {
		t.Fatal(err)
	}
	folderLink := ta.link(t, annUser.ID, shares.CreateInput{FolderID: box.ID})
	fileLink := ta.link(t, annUser.ID, shares.CreateInput{FileIDs: []string{eicar.ID}})

	// Before any scan: the owner's row says so and polls.
	page := ann.get("/folders/" + box.ID)
	wantStatus(t, page, 200)
	wantBody(t, page, "Being checked for viruses", `hx-get="/files/`+pending.ID+`/scan"`)
	wantStatus(t, ann.get("/files/"+pending.ID+"/scan"), http.StatusNoContent)

	ta.scanFile(t, eicar.ID)
	ta.scanFile(t, clean.ID)
	if r := ann.get("/files/" + eicar.ID + "/scan"); r.status != 200 || r.header.Get("HX-Trigger") != "files-changed" {
		t.Fatalf("poll of a scanned file: %d %q", r.status, r.header.Get("HX-Trigger"))
	}

	t.Run("owner and grantee downloads", func(t *testing.T) {
		for _, c := range []*client{ann, bob} {
			r := c.get("/files/" + eicar.ID + "/download")
			wantStatus(t, r, http.StatusConflict)
			wantBody(t, r, "a virus was found")
			wantStatus(t, c.get("/files/"+pending.ID+"/download"), http.StatusConflict)
			wantStatus(t, c.get("/files/"+clean.ID+"/download"), http.StatusSeeOther)
		}
		// htmx gets the same refusal as a toast.
		ann.header.Set("HX-Request", "true")
		wantStatus(t, ann.get("/files/"+pending.ID+"/download"), http.StatusConflict)
		ann.header.Del("HX-Request")
	})

	t.Run("API", func(t *testing.T) {
		r := ann.apiCall("GET", "/api/v1/files/"+eicar.ID, "", "")
		wantStatus(t, r, 200)
		got := decode[struct {
			ScanState     string `json:"scan_state"`
			ScanSignature string `json:"scan_signature"`
		}](t, r)
		if got.ScanState != "infected" || got.ScanSignature != clamdtest.EICARSignature {
			t.Fatalf("owner's API file: %+v", got)
		}
		// The grantee sees the state, not the signature.
		r = bob.apiCall("GET", "/api/v1/files/"+eicar.ID, "", "")
		wantStatus(t, r, 200)
		if strings.Contains(r.body, "scan_signature") || !strings.Contains(r.body, `"scan_state":"infected"`) {
			t.Fatalf("grantee's API file: %s", r.body)
		}
		wantProblem(t, ann.apiCall("GET", "/api/v1/files/"+eicar.ID+"/download", "", ""), http.StatusConflict, "a virus was found")
		wantProblem(t, bob.apiCall("GET", "/api/v1/files/"+pending.ID+"/download", "", ""), http.StatusConflict, "being checked for viruses")
		wantStatus(t, ann.apiCall("GET", "/api/v1/files/"+clean.ID+"/download", "", ""), 200)
		r = ann.apiCall("GET", "/api/v1/files?folder_id="+box.ID, "", "")
		wantBody(t, r, `"scan_state":"pending"`, `"scan_state":"clean"`)
	})

	t.Run("links", func(t *testing.T) {
		v := ta.client(t)
		page := v.get("/s/" + folderLink.Token)
		wantStatus(t, page, 200)
		wantBody(t, page, "Being checked for viruses", "Not available", "Some files are being checked")
		if strings.Contains(page.body, clamdtest.EICARSignature) {
			t.Fatal("the link's visitor sees the signature")
		}
		wantStatus(t, v.get("/s/"+folderLink.Token+"/files/"+eicar.ID), http.StatusConflict)
		wantStatus(t, v.get("/s/"+folderLink.Token+"/files/"+pending.ID), http.StatusConflict)
		wantStatus(t, v.get("/s/"+fileLink.Token+"/files/"+eicar.ID), http.StatusConflict)
		if one := v.get("/s/" + fileLink.Token); !strings.Contains(one.body, "Not available") || strings.Contains(one.body, "data-share-download") {
			t.Fatalf("the infected file's link page offers a download:\n%.3000s", one.body)
		}
		wantStatus(t, v.get("/s/"+fileLink.Token+"/zip"), 200)
		if names := zipNames(t, v.get("/s/"+fileLink.Token+"/zip")); len(names) != 0 {
			t.Fatalf("zip of the infected file holds %v", names)
		}
		// A pending file holds the whole zip back.
		r := v.get("/s/" + folderLink.Token + "/zip")
		wantStatus(t, r, http.StatusConflict)
		wantBody(t, r, "still being checked for viruses")
		wantStatus(t, v.get("/s/"+folderLink.Token+"/files/"+clean.ID), http.StatusSeeOther)

		ta.scanFile(t, pending.ID)
		wantStatus(t, v.get("/s/"+folderLink.Token+"/files/"+pending.ID), http.StatusSeeOther)
		r = v.get("/s/" + folderLink.Token + "/zip")
		wantStatus(t, r, 200)
		if names := zipNames(t, r); !slices.Equal(names, []string{"clean.txt", "pending.txt"}) {
			t.Fatalf("zip holds %v, want the clean files only", names)
		}
		l, err := ta.shares.Find(ctx, annUser.ID, folderLink.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Two file URLs and one zip: the refusals counted nothing.
		if l.Downloads != 3 {
			t.Fatalf("folder link downloads = %d, want 3", l.Downloads)
		}
	})

	t.Run("owner's page", func(t *testing.T) {
		page := ann.get("/folders/" + box.ID)
		wantBody(t, page, "Blocked: virus found ("+clamdtest.EICARSignature+")")
		if strings.Contains(page.body, "Being checked for viruses") {
			t.Fatal("the page still says a file is being checked")
		}
		if strings.Contains(page.body, `href="/files/`+eicar.ID+`/download"`) {
			t.Fatal("the infected file offers a download")
		}
		bobPage := bob.get("/folders/" + box.ID)
		wantBody(t, bobPage, "Blocked: virus found")
		if strings.Contains(bobPage.body, clamdtest.EICARSignature) {
			t.Fatal("the grantee sees the signature")
		}
	})

	t.Run("admins' list", func(t *testing.T) {
		if _, err := ta.auth.CreateUser(ctx, auth.RegisterInput{Email: "root@example.com", Password: "correct horse battery"}, true); err != nil {
			t.Fatal(err)
		}
		admin := ta.client(t)
		wantStatus(t, admin.login("root@example.com", "correct horse battery"), http.StatusSeeOther)
		r := admin.get("/admin/scans")
		wantStatus(t, r, 200)
		wantBody(t, r, "eicar.com", "ann@example.com", clamdtest.EICARSignature)
		if strings.Contains(r.body, "clean.txt") {
			t.Fatal("a clean file is listed")
		}
		wantStatus(t, ann.get("/admin/scans"), http.StatusNotFound)
	})
}

// TestScanClamdDownHTTP: with clamd stopped a new file stays pending and
// every route refuses it (owner, a link's zip, a person it is shared
// with), never served as clean; when clamd returns the same scan makes it
// clean and it downloads.
func TestScanClamdDownHTTP(t *testing.T) {
	clamd := clamdtest.Start(t)
	ta := newFilesTestApp(t, map[string]string{"CLAMD_ADDR": clamd.Addr})
	ann, annUser := ta.shareUser(t, "ann@example.com")
	f := ta.uploadTo(t, annUser.ID, "", "a.txt", []byte("hello"))
	clamd.Stop()
	if err := ta.scan.ScanFile(t.Context(), f.ID); err == nil {
		t.Fatal("scan with clamd stopped succeeded")
	}
	wantStatus(t, ann.get("/files/"+f.ID+"/download"), http.StatusConflict)
	wantBody(t, ann.get("/files"), "Being checked for viruses")
	l := ta.link(t, annUser.ID, shares.CreateInput{FileIDs: []string{f.ID}})
	wantStatus(t, ta.client(t).get("/s/"+l.Token+"/zip"), http.StatusConflict)
	// Shared with a person: their list says so and offers no download.
	bob, _ := ta.shareUser(t, "bob@example.com")
	if _, err := ta.files.Share(t.Context(), annUser.ID, files.ShareInput{FileID: f.ID, Email: "bob@example.com", Role: files.RoleViewer}); err != nil {
		t.Fatal(err)
	}
	download := `href="/files/` + f.ID + `/download"`
	page := bob.get("/shared-with-me")
	wantBody(t, page, "Being checked for viruses")
	if strings.Contains(page.body, download) {
		t.Fatal("a pending file shared with bob offers a download")
	}
	wantStatus(t, bob.get("/files/"+f.ID+"/download"), http.StatusConflict)

	clamd.Restart()
	ta.scanFile(t, f.ID)
	wantStatus(t, ann.get("/files/"+f.ID+"/download"), http.StatusSeeOther)
	wantStatus(t, ta.client(t).get("/s/"+l.Token+"/zip"), 200)
	wantBody(t, bob.get("/shared-with-me"), download)
	wantStatus(t, bob.get("/files/"+f.ID+"/download"), http.StatusSeeOther)
}

// TestScanAsync: SCAN_MODE=async scans (the file starts pending) but
// serves whatever the state, infected included.
func TestScanAsync(t *testing.T) {
	clamd := clamdtest.Start(t)
	ta := newFilesTestApp(t, map[string]string{"CLAMD_ADDR": clamd.Addr, "SCAN_MODE": "async"})
	ann, annUser := ta.shareUser(t, "ann@example.com")
	f := ta.uploadTo(t, annUser.ID, "", "eicar.com", []byte(clamdtest.EICAR))
	if f.ScanState != files.ScanPending {
		t.Fatalf("state %q, want pending", f.ScanState)
	}
	wantStatus(t, ann.get("/files/"+f.ID+"/download"), http.StatusSeeOther)
	ta.scanFile(t, f.ID)
	wantStatus(t, ann.get("/files/"+f.ID+"/download"), http.StatusSeeOther)
	wantBody(t, ann.get("/files"), "Blocked: virus found")
}

// TestScanOff: without CLAMD_ADDR nothing is scanned, files are
// "unscanned" and served, and no row polls.
func TestScanOff(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	ann, annUser := ta.shareUser(t, "ann@example.com")
	f := ta.uploadTo(t, annUser.ID, "", "a.txt", []byte("x"))
	if f.ScanState != files.ScanUnscanned || ta.scan != nil {
		t.Fatalf("state %q, scanner %v", f.ScanState, ta.scan)
	}
	wantStatus(t, ann.get("/files/"+f.ID+"/download"), http.StatusSeeOther)
	if page := ann.get("/files"); strings.Contains(page.body, "viruses") {
		t.Fatal("the page mentions a virus check with scanning off")
	}
}

// TestScanJob: with jobs running, completing an upload queues its scan in
// the same transaction and the River worker records the verdict, with no
// direct call to ScanFile: EICAR becomes infected, a clean file clean.
func TestScanJob(t *testing.T) {
	clamd := clamdtest.Start(t)
	ta := newFilesTestApp(t, map[string]string{"CLAMD_ADDR": clamd.Addr})
	stop, err := ta.app.startJobs(t.Context(), true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	_, annUser := ta.shareUser(t, "ann@example.com")
	eicar := ta.uploadTo(t, annUser.ID, "", "eicar.com", []byte(clamdtest.EICAR))
	clean := ta.uploadTo(t, annUser.ID, "", "clean.txt", []byte("clean bytes"))
	var queued int
	if err := ta.pool.QueryRow(t.Context(), "SELECT count(*) FROM river_job WHERE kind = 'scan_file'").Scan(&queued); err != nil {
		t.Fatal(err)
	}
	if queued != 2 {
		t.Fatalf("%d scan jobs queued for 2 completed uploads", queued)
	}
	state := func(id string) string {
		var s string
		if err := ta.pool.QueryRow(t.Context(), "SELECT scan_state FROM files WHERE id = $1", id).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	testenv.Eventually(t, 30*time.Second, "scan jobs done", func() bool {
		return state(eicar.ID) != "pending" && state(clean.ID) != "pending"
	})
	if got := state(eicar.ID); got != "infected" {
		t.Errorf("EICAR: %s, want infected", got)
	}
	if got := state(clean.ID); got != "clean" {
		t.Errorf("clean file: %s, want clean", got)
	}
}
