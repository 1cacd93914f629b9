package apidocs

import (
	"bytes"
	"html"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/weupload/weupload/views"
)

// loadDoc loads the API's own document, as the server does.
func loadDoc(t *testing.T) *openapi3.T {
	t.Helper()
	b, err := os.ReadFile("../../web/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	loader.IncludeOrigin = true
	doc, err := loader.LoadFromData(b)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestPage renders the reference page from the API's document: every
// operation, parameter and schema is on it, operations keep the document's
// order, and nothing is loaded from another site.
func TestPage(t *testing.T) {
	doc := loadDoc(t)
	p := Page(doc)
	p.Shell = views.Shell{Title: "API reference", Static: func(name string) string { return "/static/" + name }}
	var buf bytes.Buffer
	if err := views.APIDocs(p).Render(t.Context(), &buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	want := func(subs ...string) {
		t.Helper()
		for _, s := range subs {
			if !strings.Contains(page, s) {
				t.Errorf("the page lacks %q", s)
			}
		}
	}
	base := doc.Servers[0].URL
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			want(">"+method+"</span>", ">"+html.EscapeString(base+path)+"</code>", `id="op-`+op.OperationID+`"`, html.EscapeString(op.Summary))
			for _, prm := range slices.Concat(item.Parameters, op.Parameters) {
				want(">" + html.EscapeString(prm.Value.Name) + "</code>")
			}
		}
	}
	for name := range doc.Components.Schemas {
		want(`id="schema-`+name+`"`, `href="#schema-`+name+`"`)
	}
	want("Authorization: Bearer wu_", "application/problem+json", `href="`+base+`/openapi.json"`,
		"A token with the files:write scope", "No credentials needed.", "<code class=")
	for _, bad := range []string{"http://", "https://", "<script>", " style="} {
		if strings.Contains(strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, ""), bad) {
			t.Errorf("the page contains %q", bad)
		}
	}

	// The operations under a tag come in the document's order.
	line := map[string]int{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			line[op.OperationID] = originLine(op.Origin)
		}
	}
	n := 0
	for _, tag := range p.Tags {
		for i, op := range tag.Operations {
			n++
			if i > 0 && line[op.ID] < line[tag.Operations[i-1].ID] {
				t.Errorf("tag %s: %s (line %d) comes after %s (line %d)", tag.Name, op.ID, line[op.ID], tag.Operations[i-1].ID, line[tag.Operations[i-1].ID])
			}
		}
	}
	if n != len(line) {
		t.Errorf("%d operations under the tags, the document has %d", n, len(line))
	}
}
