package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"

	"github.com/weupload/weupload/internal/ratelimit"
)

// longText is 10 KB of text that does not compress (a value that is merely
// long but valid), so an index on it would overflow if one were built.
func longText() string {
	var b strings.Builder
	for i := 0; b.Len() < 10<<10; i++ {
		fmt.Fprintf(&b, "%x", uint32(i)*2654435761)
	}
	return b.String()
}

// badInput is one value the fuzz test sends: in a query string or form
// (escaped) and in JSON (a string literal, written as sent).
type badInput struct {
	name    string
	form    string // decoded; url.Values escapes it
	json    string // a JSON string literal, quotes included
	refused bool   // the value must be refused with 422 naming the field
}

func badInputs() []badInput {
	long := longText()
	return []badInput{
		{name: "NUL", form: "a\x00b", json: `"a\u0000b"`, refused: true},
		{name: "bell", form: "a\x07b", json: `"a\u0007b"`, refused: true},
		{name: "invalid UTF-8", form: "a\xffb", json: "\"a\xffb\"", refused: true},
		{name: "lone surrogate", form: "a\xed\xa0\x80b", json: `"a\ud800b"`, refused: true},
		{name: "lone low surrogate", form: "a\xed\xb0\x80b", json: `"a\udc00b"`, refused: true},
		{name: "10 KB", form: long, json: `"` + long + `"`},
	}
}

// pageFields are the fields each page route reads (query for GET, form for
// POST), from the handlers and the forms in views; a route missing here
// fails the test, so new routes get fuzzed too.
var pageFields = map[string][]string{
	"GET /login":                            {"next", "logged_out"},
	"POST /login":                           {"email", "password", "next"},
	"GET /register":                         {"x"},
	"POST /register":                        {"email", "display_name", "password"},
	"POST /logout":                          {"x"},
	"GET /api/docs":                         {"x"},
	"GET /":                                 {"x"},
	"GET /files":                            {"q", "sort", "dir", "cursor"},
	"GET /folders/{id}":                     {"q", "sort", "dir", "cursor"},
	"GET /files/{id}":                       {"x"},
	"GET /files/{id}/scan":                  {"x"},
	"GET /usage":                            {"x"},
	"GET /folders/new":                      {"parent"},
	"POST /folders":                         {"parent_id", "name"},
	"GET /items/rename":                     {"file", "folder", "kind", "id"},
	"POST /items/rename":                    {"kind", "id", "name"},
	"GET /items/move":                       {"file", "folder", "at"},
	"POST /items/move":                      {"file", "folder", "folder_id", "on_conflict"},
	"POST /items/trash":                     {"file", "folder"},
	"GET /trash":                            {"cursor"},
	"POST /trash/restore":                   {"file", "folder"},
	"GET /trash/empty":                      {"x"},
	"POST /trash/empty":                     {"x"},
	"GET /shared":                           {"x"},
	"GET /share/dialog":                     {"file", "folder", "link"},
	"POST /share/links":                     {"file", "folder", "title", "note", "password", "expires_at", "expires_utc", "max_downloads"},
	"POST /share/links/{id}":                {"title", "note", "password", "remove_password", "expires_at", "max_downloads"},
	"POST /share/links/{id}/revoke":         {"x"},
	"POST /share/requests":                  {"folder", "request_message", "request_password", "request_expires_at", "request_max_files", "request_max_mib"},
	"POST /share/requests/{id}/close":       {"x"},
	"POST /share/people":                    {"folder", "file", "email", "role"},
	"POST /share/people/{id}":               {"role"},
	"POST /share/people/{id}/remove":        {"x"},
	"GET /shared-with-me":                   {"x"},
	"POST /shared-with-me/{id}/leave":       {"x"},
	"GET /account":                          {"x"},
	"GET /admin/scans":                      {"x"},
	"POST /account/profile":                 {"display_name"},
	"POST /account/password":                {"current_password", "new_password"},
	"POST /account/tokens":                  {"name", "scopes", "expires_at"},
	"POST /account/tokens/{id}/revoke":      {"x"},
	"GET /s/{token}":                        {"x"},
	"POST /s/{token}":                       {"password"},
	"GET /s/{token}/files/{id}":             {"x"},
	"GET /s/{token}/zip":                    {"x"},
	"GET /r/{token}":                        {"x"},
	"POST /r/{token}":                       {"password"},
	"GET /r/{token}/uploads/{id}":           {"x"},
	"DELETE /r/{token}/uploads/{id}":        {"x"},
	"GET /files/{id}/download":              {"x"},
	"POST /r/{token}/uploads":               {"json:name", "json:content_type", "json:sha256", "json:folder_id"},
	"POST /r/{token}/uploads/{id}/parts":    {"json:x"},
	"POST /r/{token}/uploads/{id}/complete": {"json:x"},
}

// fieldDefaults are plausible values for the fields a request does not
// fuzz, so the fuzzed one gets as far as it can.
func fieldDefaults(ids map[string]string) map[string]string {
	return map[string]string{
		"email": "ann@example.com", "password": "not the password", "current_password": "not the password",
		"new_password": "another long password", "display_name": "Ann", "name": "n.txt", "title": "T", "note": "N",
		"role": "viewer", "kind": "file", "id": ids["file"], "file": ids["file"], "folder": ids["folder"],
		"folder_id": ids["folder"], "parent_id": ids["folder"], "parent": ids["folder"], "scopes": "files:read",
		"on_conflict": "rename", "request_message": "M", "q": "txt",
	}
}

// jsonDefaults are the JSON bodies' other members, so the fuzzed one gets
// as far as it can; $name$ takes the value from fieldDefaults.
var jsonDefaults = map[string]string{
	"name": `"n.txt"`, "size": "1", "scopes": `["files:read"]`, "email": `"bob@example.com"`, "role": `"viewer"`,
	"folder_id": "$folder$", "file_ids": "[]", "title": `"T"`,
}

// TestInputFuzz sends every text field of every route (the pages' from
// pageFields, the API's from web/openapi.yaml) NUL, other control
// characters, invalid UTF-8, lone surrogates and a 10 KB value: the bad
// text is refused with 422 naming the field, in the caller's format, and
// nothing answers 500 or logs an error.
func TestInputFuzz(t *testing.T) {
	ta := newFilesTestApp(t, nil, func(a *app) {
		a.apiRules = apiRules{Caller: ratelimit.Rule{Limit: 1 << 20, Window: time.Minute}, IP: ratelimit.Rule{Limit: 1 << 20, Window: time.Minute}}
	})
	c := ta.loggedIn(t, "ann@example.com")
	ta.createUser(t, "bob@example.com", "correct horse battery")
	ids := inputFixtures(t, c)
	defaults := fieldDefaults(ids)
	const someID = "0b7e6c3e-5a2f-4c1d-9a8e-3f2b1c0d9e8f"

	// fill puts ids and tokens into a route pattern.
	fill := func(pattern string) string {
		res := map[string]string{"files": "file", "folders": "folder", "links": "link", "requests": "request",
			"grants": "grant", "people": "grant", "shared-with-me": "grant", "tokens": "token", "uploads": "upload"}
		parts := strings.Split(pattern, "/")
		for i, p := range parts {
			switch {
			case p == "{token}" && parts[i-1] == "s":
				parts[i] = ids["link_token"]
			case p == "{token}":
				parts[i] = ids["request_token"]
			case p == "{id}" && parts[1] == "r":
				parts[i] = someID
			case p == "{id}" && parts[1] == "s":
				parts[i] = ids["file"]
			case p == "{id}":
				parts[i] = ids[res[parts[i-1]]]
				if parts[i-2] == "share" && parts[i-1] == "links" {
					parts[i] = ids["link"]
				}
				if parts[i] == "" {
					parts[i] = someID
				}
			}
		}
		return strings.Join(parts, "/")
	}

	var routes []string
	err := chi.Walk(ta.routes(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = strings.TrimSuffix(route, "/")
		if route == "" {
			route = "/"
		}
		if !strings.HasPrefix(route, "/static") && !strings.HasPrefix(route, "/blob") && route != "/healthz" && route != "/readyz" &&
			route != "/api/v1/openapi.json" && route != "/api/*" && // /api/*: the JSON 404 of unknown API paths
			!strings.HasPrefix(route, jobsUIPrefix) { // River's UI: checkInput runs before it, its API validates its own JSON (TestAdminJobsUI)
			routes = append(routes, method+" "+route)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Logging out ends the session the other routes need: last.
	slices.SortFunc(routes, func(a, b string) int {
		return strings.Compare(strings.ReplaceAll(a, "/logout", "~"), strings.ReplaceAll(b, "/logout", "~"))
	})

	spec := newSpecValidator(t)
	requests := 0
	// Ids and tokens in the path are not text fields, but they must not
	// break anything either (ids are checked before any query). First,
	// while the session is still signed in.
	for _, route := range routes {
		method, pattern, _ := strings.Cut(route, " ")
		if !strings.Contains(pattern, "{") {
			continue
		}
		for _, bad := range []string{"a%00b", "a%FFb", "a%ED%A0%80b", longText()} {
			path := strings.NewReplacer("{id}", bad, "{token}", bad).Replace(pattern)
			req, _ := http.NewRequest(method, c.base+path, nil)
			requests++
			if r := c.do(req); r.status >= 500 {
				t.Errorf("%s %s: status %d\n%.500s", method, path[:min(len(path), 80)], r.status, r.body)
			}
		}
	}
	for _, route := range routes {
		method, pattern, _ := strings.Cut(route, " ")
		path := fill(pattern)
		var fields, props []string
		var jsonBody bool
		if api, ok := strings.CutPrefix(pattern, "/api/v1"); ok {
			fields, props, jsonBody = apiFields(spec.doc, method, api)
		} else {
			f, ok := pageFields[route]
			if !ok {
				t.Errorf("%s is routed but not in pageFields: add the fields it reads", route)
				continue
			}
			for _, name := range f {
				if n, ok := strings.CutPrefix(name, "json:"); ok {
					fields, jsonBody = append(fields, n), true
				} else {
					fields = append(fields, name)
				}
			}
		}
		for _, field := range fields {
			for _, in := range badInputs() {
				req := fuzzRequest(c.base, method, path, field, in, jsonBody, defaults, props)
				r := c.do(req)
				requests++
				where := fmt.Sprintf("%s %s, %s = %s", method, pattern, field, in.name)
				switch {
				case r.status >= 500:
					t.Errorf("%s: status %d\n%.500s", where, r.status, r.body)
				case in.refused && r.status != http.StatusUnprocessableEntity:
					t.Errorf("%s: status %d, want 422\n%.500s", where, r.status, r.body)
				case in.refused && !strings.Contains(r.body, field):
					t.Errorf("%s: the answer does not name the field\n%.500s", where, r.body)
				case in.refused && strings.HasPrefix(path, "/api/v1/") && !strings.Contains(r.body, `"field":"`+field+`"`):
					t.Errorf("%s: the problem has no error for the field\n%.500s", where, r.body)
				}
			}
		}
	}
	if strings.Contains(ta.logs.String(), `"level":"ERROR"`) {
		t.Errorf("errors logged:\n%s", grepLines(ta.logs.String(), `"level":"ERROR"`))
	}
	t.Logf("%d routes, %d requests", len(routes), requests)
}

// apiFields are an operation's string query parameters and the string (or
// list of strings) properties of its JSON body, from the document.
func apiFields(doc *openapi3.T, method, path string) (fields, props []string, jsonBody bool) {
	item := doc.Paths.Value(path)
	if item == nil {
		return nil, nil, false
	}
	op := item.GetOperation(method)
	params := append(slices.Clone(item.Parameters), op.Parameters...)
	for _, p := range params {
		if p.Value.In == "query" {
			fields = append(fields, p.Value.Name)
		}
	}
	if op.RequestBody != nil {
		if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil {
			for name, s := range mt.Schema.Value.Properties {
				props = append(props, name)
				if isStringish(s.Value) {
					fields = append(fields, "json:"+name)
				}
			}
		}
	}
	slices.Sort(fields)
	for i, f := range fields {
		if n, ok := strings.CutPrefix(f, "json:"); ok {
			fields[i], jsonBody = n, true
		}
	}
	return fields, props, jsonBody
}

func isStringish(s *openapi3.Schema) bool {
	if s.Type.Includes("string") {
		return true
	}
	if s.Type.Includes("array") && s.Items != nil && s.Items.Value.Type.Includes("string") {
		return true
	}
	for _, alt := range append(s.OneOf, s.AnyOf...) {
		if isStringish(alt.Value) {
			return true
		}
	}
	return false
}

// fuzzRequest makes a request whose field holds the value: in the JSON
// body when there is one (query strings get the other fields), else in the
// query string (GET, DELETE) or the form.
func fuzzRequest(base, method, path, field string, in badInput, jsonBody bool, defaults map[string]string, props []string) *http.Request {
	var body string
	ct := ""
	switch {
	case jsonBody && (method == "POST" || method == "PATCH"):
		value := in.json
		if field == "file_ids" || field == "files" || field == "folders" || field == "scopes" {
			value = "[" + value + "]"
		}
		members := []string{`"` + field + `":` + value}
		for _, p := range props {
			if v, ok := jsonDefaults[p]; ok && p != field {
				if d, ok := defaults[strings.Trim(v, "$")]; ok {
					v = strconv.Quote(d)
				}
				members = append(members, `"`+p+`":`+v)
			}
		}
		body, ct = "{"+strings.Join(members, ",")+"}", "application/json"

	case method == "GET" || method == "DELETE" || strings.HasPrefix(path, "/api/"):
		path += "?" + url.Values{field: {in.form}}.Encode()
	default:
		form := url.Values{}
		for k, v := range defaults {
			form.Set(k, v)
		}
		form.Set(field, in.form)
		body, ct = form.Encode(), "application/x-www-form-urlencoded"
	}
	req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	return req
}

// inputFixtures makes one of everything the routes name by id (a folder
// and a file in it, a link, an upload request, a grant to bob, a token, a
// pending upload) and returns their ids and the link's and request's
// tokens.
func inputFixtures(t *testing.T, c *client) map[string]string {
	t.Helper()
	ids := map[string]string{}
	id := func(r response) string {
		t.Helper()
		if r.status >= 300 {
			t.Fatalf("fixture: %d %s", r.status, r.body)
		}
		return decode[struct{ ID string }](t, r).ID
	}
	ids["folder"] = id(c.apiCall("POST", "/api/v1/folders", "", `{"name":"Docs"}`))
	ids["file"] = uploadViaAPI(t, c, "a.txt", []byte("a")).ID
	r := c.apiCall("POST", "/api/v1/links", "", fmt.Sprintf(`{"file_ids":[%q]}`, ids["file"]))
	ids["link"] = id(r)
	ids["link_token"] = tokenOf(t, r)
	r = c.apiCall("POST", "/api/v1/requests", "", fmt.Sprintf(`{"folder_id":%q}`, ids["folder"]))
	ids["request"] = id(r)
	ids["request_token"] = tokenOf(t, r)
	ids["grant"] = id(c.apiCall("POST", "/api/v1/grants", "", fmt.Sprintf(`{"folder_id":%q,"email":"bob@example.com","role":"viewer"}`, ids["folder"])))
	ids["token"], _ = newToken(t, c, `{"name":"fuzz","scopes":["files:read"]}`)
	ids["upload"] = id(c.apiCall("POST", "/api/v1/uploads", "", `{"name":"p.bin","size":10}`))
	return ids
}

// tokenOf is the last path element of a link's or request's url.
func tokenOf(t *testing.T, r response) string {
	t.Helper()
	var v struct{ URL string }
	if err := json.Unmarshal([]byte(r.body), &v); err != nil || v.URL == "" {
		t.Fatalf("no url: %v %s", err, r.body)
	}
	return v.URL[strings.LastIndexByte(v.URL, '/')+1:]
}

func grepLines(s, sub string) string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestInputRefusedInCallersFormat: a refused field is named in the answer
// the caller reads (a page, an htmx toast, a problem), JSON fields by their
// path; multi-line fields take line breaks, others do not; multipart forms
// are checked like urlencoded ones.
func TestInputRefusedInCallersFormat(t *testing.T) {
	ta := newFilesTestApp(t, nil)
	c := ta.loggedIn(t, "ann@example.com")
	ta.createUser(t, "bob@example.com", "correct horse battery")
	ids := inputFixtures(t, c)

	t.Run("page", func(t *testing.T) {
		r := c.get("/files?q=a%00b")
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantBody(t, r, "<!doctype html>", "“q”", "U+0000", r.header.Get("X-Request-Id"))
	})
	t.Run("htmx toast", func(t *testing.T) {
		req, _ := http.NewRequest("POST", c.base+"/folders", strings.NewReader(url.Values{"name": {"a\x00b"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("HX-Request", "true")
		r := c.do(req)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		if r.header.Get("HX-Retarget") != "#flash" || strings.Contains(r.body, "<!doctype html>") {
			t.Fatalf("not a toast: %v\n%s", r.header, r.body)
		}
		wantBody(t, r, "“name”")
	})
	t.Run("JSON paths", func(t *testing.T) {
		r := c.apiCall("POST", "/api/v1/uploads/"+ids["upload"]+"/complete", "", `{"parts":[{"number":1,"etag":"ok"},{"number":2,"etag":"\ud800"}]}`)
		wantProblem(t, r, http.StatusUnprocessableEntity, "surrogate")
		wantBody(t, r, `"field":"parts.etag"`)
		r = c.apiCall("POST", "/api/v1/folders", "", `{"name":"a\u0000b","parent_id":null}`)
		wantProblem(t, r, http.StatusUnprocessableEntity, "correct")
		wantBody(t, r, `"field":"name"`)
		// A valid pair of surrogates is one character.
		wantStatus(t, c.apiCall("POST", "/api/v1/folders", "", `{"name":"\ud83d\ude00"}`), http.StatusCreated)
	})
	t.Run("line breaks", func(t *testing.T) {
		r := c.apiCall("POST", "/api/v1/requests", "", `{"title":"a\nb"}`)
		wantProblem(t, r, http.StatusUnprocessableEntity, "one line")
		wantBody(t, r, `"field":"title"`)
		wantStatus(t, c.apiCall("POST", "/api/v1/requests", "", `{"message":"line 1\r\nline 2\tend"}`), http.StatusCreated)
		wantProblem(t, c.apiCall("POST", "/api/v1/requests", "", `{"message":"a\u0000b"}`), http.StatusUnprocessableEntity, "U+0000")
	})
	t.Run("multipart form", func(t *testing.T) {
		body := "--X\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\na\x00b\r\n--X--\r\n"
		req, _ := http.NewRequest("POST", c.base+"/folders", strings.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=X")
		r := c.do(req)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantBody(t, r, "“name”")
	})
	if strings.Contains(ta.logs.String(), `"level":"ERROR"`) {
		t.Errorf("errors logged:\n%s", grepLines(ta.logs.String(), `"level":"ERROR"`))
	}
}
