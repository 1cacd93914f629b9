package views

import "strings"

// APIDocsPage is the API reference at /api/docs, made from the OpenAPI
// document (web/openapi.yaml), in the document's order.
type APIDocsPage struct {
	Shell
	Title   string
	Version string
	Summary string
	// Intro is the document's description: the conventions, the auth and
	// error model, rate limits, conditional updates.
	Intro string
	// SpecURL is where the document is served as JSON; BasePath prefixes
	// every operation's path.
	SpecURL  string
	BasePath string
	Auth     []APIAuthScheme
	Tags     []APITag
	// Errors are the shared error answers, Schemas every named schema.
	Errors  []APIResponse
	Schemas []APISchema
}

// APIAuthScheme is a way to authenticate.
type APIAuthScheme struct {
	Name        string
	How         string // e.g. "Authorization: Bearer wu_…"
	Description string
}

// APITag is a group of operations.
type APITag struct {
	Name        string
	Description string
	Operations  []APIOperation
}

// Anchor is the tag's fragment id.
func (t APITag) Anchor() string { return "tag-" + slug(t.Name) }

// APIOperation is one method on one path.
type APIOperation struct {
	ID          string
	Method      string
	Path        string // with the base path
	Summary     string
	Description string
	// Access says who may call it: "No credentials", or the token scope.
	Access     string
	Parameters []APIParam
	Body       *APIBody
	Responses  []APIResponse
}

// Anchor is the operation's fragment id.
func (o APIOperation) Anchor() string { return "op-" + o.ID }

// APIParam is a path, query or header parameter.
type APIParam struct {
	Name        string
	In          string
	Type        APIType
	Required    bool
	Description string
}

// APIBody is a request body.
type APIBody struct {
	ContentType string
	Type        APIType
	Required    bool
}

// APIResponse is one documented answer.
type APIResponse struct {
	Status      string
	Description string
	// Type is empty when the answer has no body.
	Type    APIType
	Headers []string
}

// APISchema is a named schema: an object's fields, or another type.
type APISchema struct {
	Name        string
	Description string
	// Type is set for schemas that are not plain objects (a union, an
	// enum, a string format).
	Type   APIType
	Fields []APIField
}

// Anchor is the schema's fragment id.
func (s APISchema) Anchor() string { return SchemaAnchor(s.Name) }

// SchemaAnchor is the fragment id of a named schema.
func SchemaAnchor(name string) string { return "schema-" + name }

// APIField is a property of an object schema.
type APIField struct {
	Name        string
	Type        APIType
	Required    bool
	Description string
}

// APIType is a type as a reader sees it: text with links to named schemas,
// e.g. "array of " + File, or ID + " | null".
type APIType []TypePart

// TypePart is plain text, or the name of a schema (linked).
type TypePart struct {
	Text string
	Ref  string
}

// span is a run of prose: plain text or `code`.
type span struct {
	Text string
	Code bool
}

// paragraphs splits a description into paragraphs (blank lines) of spans
// (backticks mark code), the little Markdown the document uses.
func paragraphs(s string) [][]span {
	var out [][]span
	for p := range strings.SplitSeq(strings.TrimSpace(s), "\n\n") {
		p = strings.Join(strings.Fields(p), " ")
		if p == "" {
			continue
		}
		var spans []span
		for i, part := range strings.Split(p, "`") {
			if part != "" {
				spans = append(spans, span{Text: part, Code: i%2 == 1})
			}
		}
		out = append(out, spans)
	}
	return out
}

// slug makes a fragment id from a name.
func slug(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), "-"))
}

// methodClass colours an HTTP method badge.
func methodClass(method string) string {
	switch method {
	case "GET":
		return "bg-emerald-100 text-emerald-800 dark:bg-emerald-400/15 dark:text-emerald-300"
	case "POST":
		return "bg-brand-100 text-brand-800 dark:bg-brand-500/15 dark:text-brand-200"
	case "DELETE":
		return "bg-red-100 text-red-800 dark:bg-red-400/15 dark:text-red-300"
	default:
		return "bg-amber-100 text-amber-800 dark:bg-amber-400/15 dark:text-amber-300"
	}
}
