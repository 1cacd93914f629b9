package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v4"

	"github.com/weupload/weupload/internal/apidocs"
	"github.com/weupload/weupload/views"
)

// openapiYAML is the hand-written OpenAPI 3.1 document of /api/v1, the one
// source of the served JSON, of the /api/docs page and of the tests' request
// and response validation.
//
//go:embed openapi.yaml
var openapiYAML []byte

// apiSpec is the API's OpenAPI document, loaded and checked once at start-up.
type apiSpec struct {
	// json is the document as served at /api/v1/openapi.json.
	json []byte
	etag string
	// docs is the /api/docs page made from doc (without its Shell).
	docs views.APIDocsPage
}

// loadAPISpec parses and validates the embedded document; an invalid one
// stops the server at start-up (and fails every test).
func loadAPISpec() (*apiSpec, error) {
	doc, err := parseAPISpec()
	if err != nil {
		return nil, err
	}
	// The JSON is the YAML as written, not a re-encoding of doc, so nothing
	// is lost or reinterpreted on the way.
	var tree any
	if err := yaml.Unmarshal(openapiYAML, &tree); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(tree); err != nil {
		return nil, fmt.Errorf("openapi: as JSON: %w", err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return &apiSpec{json: buf.Bytes(), etag: `"` + hex.EncodeToString(sum[:8]) + `"`, docs: apidocs.Page(doc)}, nil
}

// parseAPISpec returns a fresh, validated copy of the document, with the
// source line of each element (the docs page keeps the document's order).
func parseAPISpec() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	loader.IncludeOrigin = true
	doc, err := loader.LoadFromData(openapiYAML)
	if err != nil {
		return nil, fmt.Errorf("openapi: load: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi: invalid document: %w", err)
	}
	return doc, nil
}

// apiSpecJSON serves the document; it needs no credentials.
func (a *app) apiSpecJSON(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("ETag", a.apiSpec.etag)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("If-None-Match") == a.apiSpec.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(a.apiSpec.json)
}
