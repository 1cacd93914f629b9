package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/go-chi/chi/v5"
)

// specValidator checks exchanges with /api/v1 against the OpenAPI document,
// so the document cannot drift from what the server does:
//
//   - an exchange whose operation is not in the document fails, unless the
//     server agrees that it does not exist (404 for an unknown path, 405 for
//     a method the path lacks);
//   - the response must be one the operation documents: its status, its
//     headers, its content type, a body that matches the schema (the
//     schemas allow no undocumented fields), and no body where none is
//     documented;
//   - a request the document refuses (not JSON, wrong types, unknown fields,
//     missing parameters) must be refused by the server with a 4xx.
//
// The converse (the server refuses no request the document accepts) is up
// to the tests of bad input, which check both sides (wantSpecRefuses).
type specValidator struct {
	doc    *openapi3.T
	router routers.Router
}

// newSpecValidator parses the embedded document afresh (validation is not
// shared between tests).
func newSpecValidator(tb testing.TB) *specValidator {
	tb.Helper()
	doc, err := parseAPISpec()
	if err != nil {
		tb.Fatal(err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		tb.Fatal(err)
	}
	return &specValidator{doc: doc, router: router}
}

// applies reports whether a request is the API's, so the document covers it.
func (v *specValidator) applies(req *http.Request) bool {
	return strings.HasPrefix(req.URL.Path, "/api/v1/")
}

// check validates one exchange and reports what does not match with
// tb.Errorf (so it may run in a server's goroutine).
func (v *specValidator) check(tb testing.TB, req *http.Request, reqBody []byte, status int, header http.Header, body []byte) {
	tb.Helper()
	where := fmt.Sprintf("%s %s", req.Method, req.URL.RequestURI())
	in, err := v.input(req, reqBody)
	switch {
	case errors.Is(err, routers.ErrPathNotFound) && status == http.StatusNotFound,
		errors.Is(err, routers.ErrMethodNotAllowed) && status == http.StatusMethodNotAllowed:
		// The server agrees that there is no such operation; its answer is
		// still a problem.
		if err := v.problem(header, body); err != nil {
			tb.Errorf("openapi: %s answered %d without a valid problem: %v\n%.1000s", where, status, err, body)
		}
		return
	case err != nil:
		tb.Errorf("openapi: %s is not in the document (%v), but the server answered %d", where, err, status)
		return
	}
	if err := v.request(in, reqBody); err != nil && status/100 != 4 {
		tb.Errorf("openapi: %s: the document refuses the request (%v), but the server answered %d", where, err, status)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: header, Options: in.Options}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		tb.Errorf("openapi: %s answered %d, which the document does not allow: %v\n%.1000s", where, status, err, body)
		return
	}
	if res := in.Route.Operation.Responses.Status(status); res != nil && len(res.Value.Content) == 0 && len(body) > 0 {
		tb.Errorf("openapi: %s answered %d with a body the document does not have:\n%.1000s", where, status, body)
	}
}

// input finds a request's operation in the document (routers.ErrPathNotFound
// or ErrMethodNotAllowed when there is none) and makes its validation input,
// on a copy of the request.
func (v *specValidator) input(req *http.Request, body []byte) (*openapi3filter.RequestValidationInput, error) {
	vreq := req.Clone(context.Background())
	vreq.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := v.router.FindRoute(vreq)
	if err != nil {
		return nil, err
	}
	return &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: &openapi3filter.Options{
		// Credentials are the server's business; the tests check them.
		AuthenticationFunc:                openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus:             true,
		RejectWhenRequestBodyNotSpecified: true,
		SkipSettingDefaults:               true,
	}}, nil
}

// request validates a request against its operation. A JSON body must be
// exactly one JSON value, which the validator's decoder does not check.
func (v *specValidator) request(in *openapi3filter.RequestValidationInput, body []byte) error {
	if len(body) > 0 && strings.HasPrefix(in.Request.Header.Get("Content-Type"), "application/json") && !json.Valid(body) {
		return errors.New("the body is not one JSON value")
	}
	return openapi3filter.ValidateRequest(context.Background(), in)
}

// refuses returns why the document refuses a request, or nil when it
// accepts it.
func (v *specValidator) refuses(req *http.Request, body []byte) error {
	in, err := v.input(req, body)
	if err != nil {
		return err
	}
	return v.request(in, body)
}

// problem checks an error answer against the document's Problem schema.
func (v *specValidator) problem(header http.Header, body []byte) error {
	if ct := header.Get("Content-Type"); ct != "application/problem+json" {
		return fmt.Errorf("Content-Type %q", ct)
	}
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		return err
	}
	return v.doc.Components.Schemas["Problem"].Value.VisitJSON(value, openapi3.EnableJSONSchema2020())
}

// operations lists the document's operations as "METHOD /api/v1/path".
func (v *specValidator) operations() []string {
	var ops []string
	for path, item := range v.doc.Paths.Map() {
		for method := range item.Operations() {
			ops = append(ops, method+" /api/v1"+path)
		}
	}
	slices.Sort(ops)
	return ops
}

// TestAPIRoutesMatchSpec compares the router with the document, so an
// operation added to one and not the other fails even before a test calls
// it.
func TestAPIRoutesMatchSpec(t *testing.T) {
	ta := newTestApp(t, nil)
	var routed []string
	err := chi.Walk(ta.routes(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if strings.HasPrefix(route, "/api/v1/") {
			routed = append(routed, method+" "+strings.TrimSuffix(route, "/"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(routed)
	documented := newSpecValidator(t).operations()
	for _, op := range routed {
		if !slices.Contains(documented, op) {
			t.Errorf("%s is routed but not in web/openapi.yaml", op)
		}
	}
	for _, op := range documented {
		if !slices.Contains(routed, op) {
			t.Errorf("%s is in web/openapi.yaml but not routed", op)
		}
	}
}

// TestOpenAPIDocument checks the served document: no credentials needed,
// JSON that loads as the same OpenAPI 3.1 document, cacheable by ETag.
func TestOpenAPIDocument(t *testing.T) {
	ta := newTestApp(t, nil)
	c := ta.client(t)
	r := c.get("/api/v1/openapi.json")
	wantStatus(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData([]byte(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Paths.Len() != newSpecValidator(t).doc.Paths.Len() {
		t.Errorf("served document: openapi %q, %d paths", doc.OpenAPI, doc.Paths.Len())
	}
	for _, name := range []string{"Problem", "File", "Folder", "Upload", "UploadURLs", "Token", "NewToken", "Me"} {
		if doc.Components.Schemas[name] == nil {
			t.Errorf("no schema %s", name)
		}
	}
	req, _ := http.NewRequest("GET", ta.srv.URL+"/api/v1/openapi.json", nil)
	req.Header.Set("If-None-Match", r.header.Get("ETag"))
	if r := c.do(req); r.status != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", r.status)
	}
}

// recordingTB collects what a specValidator reports.
type recordingTB struct {
	testing.TB
	errs []string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// TestSpecValidatorCatchesDrift feeds the validator exchanges that do not
// match the document: each must be reported, and the matching ones not.
func TestSpecValidatorCatchesDrift(t *testing.T) {
	v := newSpecValidator(t)
	const id = "0b7e6c3e-5a2f-4c1d-9a8e-3f2b1c0d9e8f"
	file := `{"id":"` + id + `","name":"a.txt","size":1,"content_type":"text/plain","folder_id":null,"sha256":null,` +
		`"created_at":"2025-01-01T00:00:00Z","updated_at":"2025-01-01T00:00:00Z","scan_state":"unscanned"}`
	problem := `{"type":"about:blank","title":"Not Found","status":404,"detail":"File not found.","instance":"urn:request:x","code":"not_found"}`
	jsonCT := http.Header{"Content-Type": {"application/json"}, "Etag": {`"1"`}}
	problemCT := http.Header{"Content-Type": {"application/problem+json"}}
	tests := []struct {
		name         string
		method, path string
		reqBody      string
		status       int
		header       http.Header
		body         string
		drift        string // "" when the exchange matches the document
	}{
		{"a matching file", "GET", "/api/v1/files/" + id, "", 200, jsonCT, file, ""},
		{"a matching problem", "GET", "/api/v1/files/" + id, "", 404, problemCT, problem, ""},
		{"an unknown path the server refuses", "GET", "/api/v1/nothing", "", 404, problemCT, problem, ""},
		{"an unknown path the server serves", "GET", "/api/v1/nothing", "", 200, jsonCT, `{}`, "not in the document"},
		{"an undocumented method", "PUT", "/api/v1/files/" + id, "", 200, jsonCT, file, "not in the document"},
		{"an undocumented field", "GET", "/api/v1/files/" + id, "", 200, jsonCT, strings.Replace(file, `"size":1`, `"size":1,"owner":"x"`, 1), "does not allow"},
		{"a missing field", "GET", "/api/v1/files/" + id, "", 200, jsonCT, strings.Replace(file, `"size":1,`, ``, 1), "does not allow"},
		{"a wrong type", "GET", "/api/v1/files/" + id, "", 200, jsonCT, strings.Replace(file, `"size":1`, `"size":"1"`, 1), "does not allow"},
		{"an undocumented status", "GET", "/api/v1/files/" + id, "", 409, problemCT, problem, "does not allow"},
		{"a missing ETag", "GET", "/api/v1/files/" + id, "", 200, http.Header{"Content-Type": {"application/json"}}, file, "does not allow"},
		{"an error that is not a problem", "GET", "/api/v1/files/" + id, "", 404, jsonCT, `{"error":"no"}`, "does not allow"},
		{"a body on 204", "DELETE", "/api/v1/files/" + id, "", 204, jsonCT, `{}`, "body the document does not have"},
		{"an invalid request accepted", "POST", "/api/v1/folders", `{"name":"a","colour":"red"}`, 201, jsonCT, `{}`, "refuses the request"},
		{"a request that is not JSON accepted", "POST", "/api/v1/folders", `{"name":"a"}{}`, 201, jsonCT, `{}`, "refuses the request"},
		{"a valid request refused", "POST", "/api/v1/files/" + id + "/rename", `{"name":"b"}`, 404, problemCT, problem, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recordingTB{TB: t}
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.reqBody))
			if tt.reqBody != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			v.check(rec, req, []byte(tt.reqBody), tt.status, tt.header, []byte(tt.body))
			switch {
			case tt.drift == "" && len(rec.errs) > 0:
				t.Errorf("reported a matching exchange: %v", rec.errs)
			case tt.drift != "" && (len(rec.errs) == 0 || !strings.Contains(rec.errs[0], tt.drift)):
				t.Errorf("got %q, want a report containing %q", rec.errs, tt.drift)
			}
		})
	}
}
