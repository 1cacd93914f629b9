package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/weupload/weupload/internal/blob/s3"
	"github.com/weupload/weupload/internal/blob/s3test"
	"github.com/weupload/weupload/internal/database/dbtest"
)

// newFilesTestApp is newTestApp with BASE_URL set to the test server's own
// address, so the disk store's signed /blob/ URLs point at the server.
// configure runs on the app before it serves (clocks, limits).
func newFilesTestApp(t testing.TB, env map[string]string, configure ...func(*app)) *testApp {
	t.Helper()
	return newFilesTestAppOn(t, dbtest.New(t), nil, env, configure...)
}

// loggedIn returns a client logged in as a new user.
func (ta *testApp) loggedIn(t testing.TB, email string) *client {
	t.Helper()
	ta.createUser(t, email, "correct horse battery")
	c := ta.client(t)
	wantStatus(t, c.login(email, "correct horse battery"), http.StatusSeeOther)
	return c
}

// decode unmarshals a JSON response body.
func decode[T any](t testing.TB, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, r.body)
	}
	return v
}

// keys returns the sorted keys of a JSON object.
func keys(t testing.TB, body string) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, body)
	}
	return slices.Sorted(maps.Keys(m))
}

type apiPart struct {
	Number  int32             `json:"number"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
}

type apiUploadURLs struct {
	ID       string            `json:"id"`
	Mode     string            `json:"mode"`
	PartSize int64             `json:"part_size"`
	URL      string            `json:"url"`
	Headers  map[string]string `json:"headers"`
	Parts    []apiPart         `json:"parts"`
}

type apiFile struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	Size     int64   `json:"size"`
	FolderID *string `json:"folder_id"`
	SHA256   *string `json:"sha256"`
}

// put sends body to a presigned URL with exactly the given headers, as the
// browser does, and returns the status and ETag.
func put(t testing.TB, url string, headers map[string]string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, res.Header.Get("ETag")
}

func randomData(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// uploadViaAPI runs the whole protocol for a small file and returns it.
func uploadViaAPI(t testing.TB, c *client, name string, data []byte) apiFile {
	t.Helper()
	r := c.apiCall("POST", "/api/v1/uploads", "", fmt.Sprintf(`{"name":%q,"size":%d,"content_type":"text/plain"}`, name, len(data)))
	wantStatus(t, r, http.StatusCreated)
	u := decode[apiUploadURLs](t, r)
	if st, _ := put(t, u.URL, u.Headers, data); st != http.StatusOK {
		t.Fatalf("PUT: %d", st)
	}
	r = c.apiCall("POST", "/api/v1/uploads/"+u.ID+"/complete", "", "")
	wantStatus(t, r, http.StatusOK)
	return decode[apiFile](t, r)
}

// downloadViaPage follows GET /files/{id}/download to the bytes.
func downloadViaPage(t testing.TB, c *client, id string) (*http.Response, []byte) {
	t.Helper()
	r := c.get("/files/" + id + "/download")
	wantStatus(t, r, http.StatusSeeOther)
	res, err := http.Get(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func TestAPISingleUpload(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	c := ta.loggedIn(t, "ann@example.com")
	data := []byte("hello, <b>world</b>")

	r := c.apiCall("POST", "/api/v1/uploads", "", fmt.Sprintf(`{"name":"hello.html","size":%d,"content_type":"text/html"}`, len(data)))
	wantStatus(t, r, http.StatusCreated)
	if got := keys(t, r.body); !slices.Equal(got, []string{"expires_at", "headers", "id", "mode", "url"}) {
		t.Errorf("single response keys %v", got)
	}
	u := decode[apiUploadURLs](t, r)
	if u.Mode != "single" || !strings.HasPrefix(u.URL, ta.srv.URL+"/blob/u/") || u.Headers["If-None-Match"] != "*" || u.Headers["Content-Type"] != "text/html" {
		t.Fatalf("upload %+v", u)
	}
	if st, _ := put(t, u.URL, u.Headers, data); st != http.StatusOK {
		t.Fatalf("PUT: %d", st)
	}
	r = c.apiCall("POST", "/api/v1/uploads/"+u.ID+"/complete", "", `{"parts":[]}`)
	wantStatus(t, r, http.StatusOK)
	f := decode[apiFile](t, r)
	if f.Name != "hello.html" || f.Size != int64(len(data)) || f.FolderID != nil {
		t.Fatalf("file %+v", f)
	}
	// Again: the same file.
	r = c.apiCall("POST", "/api/v1/uploads/"+u.ID+"/complete", "", "")
	if again := decode[apiFile](t, r); again.ID != f.ID {
		t.Errorf("second complete gave %s, want %s", again.ID, f.ID)
	}
	r = c.get("/api/v1/uploads/" + u.ID)
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, `"state":"done"`, `"file_id":"`+f.ID+`"`)

	res, body := downloadViaPage(t, c, f.ID)
	if res.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("download: %d %q", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("HTML served as %q", ct)
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") {
		t.Errorf("Content-Disposition %q", cd)
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("download without nosniff")
	}
	r = c.get("/api/v1/files/" + f.ID + "/download")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, `"url":"`, `"expires_at":"`)

	// Listing, search, usage.
	r = c.get("/api/v1/folders/root/items")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, `"name":"hello.html"`, `"next":null`)
	r = c.get("/api/v1/search?q=HELLO")
	wantBody(t, r, `"id":"`+f.ID+`"`)
	r = c.get("/api/v1/usage")
	wantBody(t, r, fmt.Sprintf(`"used":%d`, len(data)), `"reserved":0`)

	// Another user sees none of it, as 404s.
	bob := ta.loggedIn(t, "bob@example.com")
	wantProblem(t, bob.get("/api/v1/files/"+f.ID), http.StatusNotFound, "not found")
	wantProblem(t, bob.get("/api/v1/uploads/"+u.ID), http.StatusNotFound, "not found")
	wantProblem(t, bob.apiCall("POST", "/api/v1/uploads/"+u.ID+"/complete", "", ""), http.StatusNotFound, "not found")
	wantStatus(t, bob.get("/files/"+f.ID+"/download"), http.StatusNotFound)
	// Anonymous: 401 for the API, the login page for the download link.
	anon := ta.client(t)
	wantProblem(t, anon.apiCall("POST", "/api/v1/uploads", "", `{"name":"a","size":1}`), http.StatusUnauthorized, "Log in")
	wantStatus(t, anon.get("/files/"+f.ID+"/download"), http.StatusSeeOther)
}

func TestAPIMultipartUpload(t *testing.T) {
	ta := newFilesTestApp(t, map[string]string{"UPLOAD_MULTIPART_THRESHOLD": "5MiB", "UPLOAD_PART_SIZE": "5MiB"})
	c := ta.loggedIn(t, "ann@example.com")
	const part = 5 << 20
	data := randomData(2*part + 1000)

	r := c.apiCall("POST", "/api/v1/uploads", "", fmt.Sprintf(`{"name":"big.bin","size":%d}`, len(data)))
	wantStatus(t, r, http.StatusCreated)
	if got := keys(t, r.body); !slices.Equal(got, []string{"expires_at", "id", "mode", "part_size", "parts"}) {
		t.Errorf("multipart response keys %v", got)
	}
	u := decode[apiUploadURLs](t, r)
	if u.Mode != "multipart" || u.PartSize != part || len(u.Parts) != 3 {
		t.Fatalf("upload %+v", u)
	}
	var raw struct {
		Parts []map[string]json.RawMessage `json:"parts"`
	}
	_ = json.Unmarshal([]byte(r.body), &raw)
	if got := slices.Sorted(maps.Keys(raw.Parts[0])); !slices.Equal(got, []string{"headers", "number", "url"}) {
		t.Errorf("part keys %v", got)
	}
	// Parts are 5 MiB: the /blob/ route is outside the 1 MiB body limit.
	etags := map[int32]string{}
	for _, p := range u.Parts[:2] {
		st, etag := put(t, p.URL, p.Headers, data[int64(p.Number-1)*part:int64(p.Number)*part])
		if st != http.StatusOK || etag == "" {
			t.Fatalf("PUT part %d: %d %q", p.Number, st, etag)
		}
		etags[p.Number] = etag
	}
	// Resume: the state lists the stored parts, and part 3 gets a new URL.
	r = c.get("/api/v1/uploads/" + u.ID)
	wantStatus(t, r, http.StatusOK)
	state := decode[struct {
		State string `json:"state"`
		Parts []struct {
			Number int32  `json:"number"`
			ETag   string `json:"etag"`
		} `json:"parts"`
	}](t, r)
	if state.State != "pending" || len(state.Parts) != 2 || state.Parts[1].ETag != etags[2] {
		t.Fatalf("state %+v", state)
	}
	r = c.apiCall("POST", "/api/v1/uploads/"+u.ID+"/parts", "", `{"numbers":[3]}`)
	wantStatus(t, r, http.StatusOK)
	more := decode[apiUploadURLs](t, r)
	st, etag := put(t, more.Parts[0].URL, more.Parts[0].Headers, data[2*part:])
	if st != http.StatusOK {
		t.Fatalf("PUT part 3: %d", st)
	}
	body := fmt.Sprintf(`{"parts":[{"number":1,"etag":%q},{"number":2,"etag":%q},{"number":3,"etag":%q}]}`, etags[1], etags[2], etag)
	r = c.apiCall("POST", "/api/v1/uploads/"+u.ID+"/complete", "", body)
	wantStatus(t, r, http.StatusOK)
	f := decode[apiFile](t, r)
	if _, got := downloadViaPage(t, c, f.ID); !bytes.Equal(got, data) {
		t.Error("downloaded bytes differ")
	}
}

func TestAPIUploadBadInput(t *testing.T) {
	ta := newFilesTestApp(t, map[string]string{"MAX_FILE_SIZE": "1MiB", "DEFAULT_QUOTA": "2MiB"})
	c := ta.loggedIn(t, "ann@example.com")
	bob := ta.loggedIn(t, "bob@example.com")
	r := bob.apiCall("POST", "/api/v1/folders", "", `{"name":"Bob's"}`)
	wantStatus(t, r, http.StatusCreated)
	bobsFolder := decode[struct{ ID string }](t, r).ID

	tests := []struct {
		name   string
		body   string
		status int
		detail string
	}{
		{"malformed JSON", `{"name":`, 400, "not valid JSON"},
		{"unknown field", `{"name":"a","size":1,"owner_id":"x"}`, 400, "Unknown field"},
		{"size as string", `{"name":"a","size":"10"}`, 400, `"size" must be a whole number`},
		{"non-integer size", `{"name":"a","size":1.5}`, 400, `"size" must be a whole number`},
		{"size beyond int64", `{"name":"a","size":1e30}`, 400, `"size" must be a whole number`},
		{"two objects", `{"name":"a","size":1}{}`, 400, "exactly one"},
		{"empty body", ``, 400, "JSON"},
		{"negative size", `{"name":"a","size":-1}`, 422, "correct"},
		{"over the max size", `{"name":"a","size":1048577}`, 422, "correct"},
		{"empty name", `{"name":"","size":1}`, 422, "correct"},
		{"256-byte name", fmt.Sprintf(`{"name":%q,"size":1}`, strings.Repeat("x", 256)), 422, "correct"},
		{"name with slash", `{"name":"a/b","size":1}`, 422, "correct"},
		{"name with NUL", `{"name":"a\u0000b","size":1}`, 422, "correct"},
		{"dot-dot", `{"name":"..","size":1}`, 422, "correct"},
		{"unknown folder", `{"name":"a","size":1,"folder_id":"00000000-0000-4000-8000-000000000000"}`, 404, "not found"},
		{"another user's folder", fmt.Sprintf(`{"name":"a","size":1,"folder_id":%q}`, bobsFolder), 404, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantProblem(t, c.apiCall("POST", "/api/v1/uploads", "", tt.body), tt.status, tt.detail)
		})
	}
	t.Run("field errors are named", func(t *testing.T) {
		r := c.apiCall("POST", "/api/v1/uploads", "", `{"name":"a/b","size":-1}`)
		wantBody(t, r, `"field":"name"`, `"field":"size"`)
	})
	t.Run("wrong content type", func(t *testing.T) {
		req, _ := http.NewRequest("POST", c.base+"/api/v1/uploads", strings.NewReader(`{"name":"a","size":1}`))
		req.Header.Set("Content-Type", "text/plain")
		wantProblem(t, c.do(req), 400, "application/json")
	})
	t.Run("body over 1 MiB", func(t *testing.T) {
		big := `{"name":"` + strings.Repeat("x", 1<<20) + `","size":1}`
		wantProblem(t, c.apiCall("POST", "/api/v1/uploads", "", big), 400, "too large")
	})
	t.Run("quota", func(t *testing.T) {
		for i := range 2 {
			wantStatus(t, c.apiCall("POST", "/api/v1/uploads", "", fmt.Sprintf(`{"name":"q%d","size":1048576}`, i)), 201)
		}
		wantProblem(t, c.apiCall("POST", "/api/v1/uploads", "", `{"name":"q3","size":1}`), 409, "Not enough space")
	})
	t.Run("complete before bytes", func(t *testing.T) {
		r := c.apiCall("POST", "/api/v1/uploads", "", `{"name":"early","size":0}`)
		wantStatus(t, r, 201)
		id := decode[apiUploadURLs](t, r).ID
		wantProblem(t, c.apiCall("POST", "/api/v1/uploads/"+id+"/complete", "", ""), 409, "No bytes")
		wantProblem(t, c.apiCall("POST", "/api/v1/uploads/"+id+"/complete", "", `{"parts":[{"number":1,"etag":"x"}]}`), 400, "single-part")
		wantStatus(t, c.apiCall("DELETE", "/api/v1/uploads/"+id, "", ""), 204)
		wantProblem(t, c.apiCall("POST", "/api/v1/uploads/"+id+"/complete", "", ""), 410, "cancelled")
	})
	t.Run("malformed id", func(t *testing.T) {
		wantProblem(t, c.get("/api/v1/uploads/..%2f..%2fetc"), 404, "not found")
	})
}

func TestAPIFoldersAndTrash(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	c := ta.loggedIn(t, "ann@example.com")
	r := c.apiCall("POST", "/api/v1/folders", "", `{"name":"Docs"}`)
	wantStatus(t, r, http.StatusCreated)
	docs := decode[struct{ ID string }](t, r).ID
	wantProblem(t, c.apiCall("POST", "/api/v1/folders", "", `{"name":"Docs"}`), 409, "already exists")
	r = c.apiCall("POST", "/api/v1/folders", "", `{"name":"Docs","on_conflict":"rename"}`)
	wantBody(t, r, `"name":"Docs (1)"`)
	r = c.apiCall("POST", "/api/v1/folders", "", fmt.Sprintf(`{"name":"Sub","parent_id":%q}`, docs))
	sub := decode[struct{ ID string }](t, r).ID
	r = c.get("/api/v1/folders/" + sub)
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, `"path":[{"id":"`+docs)

	for i := range 5 {
		uploadViaAPI(t, c, fmt.Sprintf("f%d.txt", i), []byte("x"))
	}
	// Pages of 3 through the cursor: 2 folders + 5 files at the root.
	var names []string
	next := ""
	for {
		path := "/api/v1/folders/root/items?limit=3&sort=name&order=desc"
		if next != "" {
			path += "&cursor=" + next
		}
		r = c.get(path)
		wantStatus(t, r, http.StatusOK)
		p := decode[struct {
			Folders []struct{ Name string } `json:"folders"`
			Files   []struct{ Name string } `json:"files"`
			Next    *string                 `json:"next"`
		}](t, r)
		for _, f := range p.Folders {
			names = append(names, f.Name)
		}
		for _, f := range p.Files {
			names = append(names, f.Name)
		}
		if p.Next == nil {
			break
		}
		next = *p.Next
	}
	if want := []string{"Docs (1)", "Docs", "f4.txt", "f3.txt", "f2.txt", "f1.txt", "f0.txt"}; !slices.Equal(names, want) {
		t.Errorf("listed %v, want %v", names, want)
	}
	wantProblem(t, c.get("/api/v1/folders/root/items?sort=colour"), 422, "correct")
	wantProblem(t, c.get("/api/v1/folders/root/items?cursor=bogus"), 422, "correct")

	f := uploadViaAPI(t, c, "move-me.txt", []byte("m"))
	r = c.apiCall("POST", "/api/v1/files/"+f.ID+"/move", "", fmt.Sprintf(`{"folder_id":%q}`, sub))
	wantStatus(t, r, http.StatusOK)
	r = c.apiCall("POST", "/api/v1/files/"+f.ID+"/rename", "", `{"name":"moved.txt"}`)
	wantBody(t, r, `"name":"moved.txt"`, `"folder_id":"`+sub)
	wantProblem(t, c.apiCall("POST", "/api/v1/folders/"+docs+"/move", "", fmt.Sprintf(`{"folder_id":%q}`, sub)), 422, "correct")

	// Trash the folder: its file goes with it; restore brings both back.
	wantStatus(t, c.apiCall("DELETE", "/api/v1/folders/"+docs, "", ""), http.StatusNoContent)
	wantStatus(t, c.get("/api/v1/files/"+f.ID), http.StatusNotFound)
	r = c.get("/api/v1/trash")
	wantBody(t, r, `"id":"`+docs)
	wantStatus(t, c.apiCall("POST", "/api/v1/trash/restore", "", fmt.Sprintf(`{"folders":[%q]}`, docs)), http.StatusNoContent)
	wantStatus(t, c.get("/api/v1/files/"+f.ID), http.StatusOK)

	// Bulk trash, then empty the trash: the quota is freed.
	wantStatus(t, c.apiCall("POST", "/api/v1/items/trash", "", fmt.Sprintf(`{"folders":[%q],"files":[]}`, docs)), http.StatusNoContent)
	r = c.apiCall("DELETE", "/api/v1/trash", "", "")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, `"deleted":1`)
	wantBody(t, c.get("/api/v1/usage"), `"used":5`)
	wantProblem(t, c.apiCall("POST", "/api/v1/items/move", "", `{"files":[],"folders":[],"folder_id":null}`), 422, "Select")
}

// newS3TestApp is newFilesTestApp on the S3 store (versitygw); env adds to
// the store's settings.
func newS3TestApp(t *testing.T, env map[string]string) (*testApp, s3.Config) {
	t.Helper()
	cfg := s3test.New(t)
	// The app's S3 client takes credentials from the SDK's default chain.
	t.Setenv("AWS_ACCESS_KEY_ID", cfg.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", cfg.SecretKey)
	e := map[string]string{
		"STORAGE_BACKEND": "s3", "S3_BUCKET": cfg.Bucket, "S3_ENDPOINT": cfg.Endpoint,
		"S3_REGION": cfg.Region, "S3_PATH_STYLE": "true",
	}
	maps.Copy(e, env)
	return newFilesTestApp(t, e), cfg
}

func TestAPIWithS3Store(t *testing.T) {
	ta, cfg := newS3TestApp(t, nil)
	c := ta.loggedIn(t, "ann@example.com")
	data := []byte("bytes that never pass through the app")
	f := uploadViaAPI(t, c, "s3.txt", data)
	res, got := downloadViaPage(t, c, f.ID)
	if res.StatusCode != http.StatusOK || !bytes.Equal(got, data) {
		t.Fatalf("download: %d %q", res.StatusCode, got)
	}
	if !strings.HasPrefix(res.Request.URL.String(), cfg.Endpoint) {
		t.Errorf("download came from %s, not the store", res.Request.URL)
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.Contains(cd, "filename*=UTF-8''s3.txt") {
		t.Errorf("Content-Disposition %q", cd)
	}
	wantStatus(t, c.get("/blob/u/x"), http.StatusNotFound) // no /blob/ route with S3
	wantBody(t, c.get("/readyz"), `"status":"ready"`)
}

func TestReadyzChecksStorage(t *testing.T) {
	dir := t.TempDir()
	ta := newFilesTestApp(t, map[string]string{"STORAGE_DIR": dir})
	c := ta.client(t)
	wantStatus(t, c.get("/readyz"), http.StatusOK)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	ta.ready.ttl = 0
	r := c.get("/readyz")
	wantStatus(t, r, http.StatusServiceUnavailable)
	wantBody(t, r, `"storage"`)
}

func TestStorageInitCommand(t *testing.T) {
	cfg := s3test.New(t)
	t.Setenv("AWS_ACCESS_KEY_ID", cfg.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", cfg.SecretKey)
	bucket := cfg.Bucket + "-init"
	env := map[string]string{
		"DATABASE_URL": "postgres://x@127.0.0.1:1/x", "STORAGE_BACKEND": "s3", "S3_BUCKET": bucket,
		"S3_ENDPOINT": cfg.Endpoint, "S3_REGION": cfg.Region, "S3_PATH_STYLE": "true", "BASE_URL": "http://localhost:8080",
	}
	client := s3test.Client(cfg)
	t.Cleanup(func() {
		_, _ = client.DeleteBucket(context.Background(), &awss3.DeleteBucketInput{Bucket: aws.String(bucket)})
	})
	for range 2 { // idempotent
		var out bytes.Buffer
		if err := run(context.Background(), []string{"storage", "init"}, func(k string) string { return env[k] }, nil, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "bucket "+bucket+" ready (CORS for http://localhost:8080)") {
			t.Errorf("output %q", out.String())
		}
	}
	cors, err := client.GetBucketCors(context.Background(), &awss3.GetBucketCorsInput{Bucket: aws.String(bucket)})
	if err != nil || len(cors.CORSRules) != 1 || cors.CORSRules[0].AllowedOrigins[0] != "http://localhost:8080" {
		t.Fatalf("CORS: %+v %v", cors, err)
	}
}
