// Package apidocs turns the API's OpenAPI document into the props of the
// /api/docs reference page, so the page is made from the one document the
// server validates against and cannot drift from it.
package apidocs

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/weupload/weupload/views"
)

// Page turns the document into the docs page's props (without its
// Shell), in the document's order: the order of its source lines, so doc
// must be loaded with openapi3.Loader.IncludeOrigin.
func Page(doc *openapi3.T) views.APIDocsPage {
	base := ""
	if len(doc.Servers) > 0 {
		base = doc.Servers[0].URL
	}
	p := views.APIDocsPage{
		Title:    doc.Info.Title,
		Version:  doc.Info.Version,
		Summary:  doc.Info.Summary,
		Intro:    doc.Info.Description,
		SpecURL:  base + "/openapi.json",
		BasePath: base,
	}
	for _, name := range byLine(doc.Components.SecuritySchemes, func(s *openapi3.SecuritySchemeRef) *openapi3.Origin { return s.Value.Origin }) {
		s := doc.Components.SecuritySchemes[name].Value
		how := s.In + " " + s.Name
		switch {
		case s.Type == "http" && s.Scheme == "bearer":
			how = "Authorization: Bearer " + s.BearerFormat
		case s.Type == "apiKey" && s.In == "cookie":
			how = "Cookie: " + s.Name
		}
		p.Auth = append(p.Auth, views.APIAuthScheme{Name: name, How: how, Description: s.Description})
	}

	// Operations, grouped under their first tag in the order of the tags.
	type located struct {
		line int
		tag  string
		op   views.APIOperation
	}
	var all []located
	errorStatus := map[string]string{} // shared response -> its status
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for status, res := range op.Responses.Map() {
				if name, ok := strings.CutPrefix(res.Ref, "#/components/responses/"); ok {
					errorStatus[name] = status
				}
			}
			l := located{line: originLine(op.Origin), op: operation(doc, base, method, path, item, op)}
			if len(op.Tags) > 0 {
				l.tag = op.Tags[0]
			}
			all = append(all, l)
		}
	}
	slices.SortFunc(all, func(a, b located) int { return cmp.Compare(a.line, b.line) })
	ops := map[string][]views.APIOperation{}
	for _, l := range all {
		ops[l.tag] = append(ops[l.tag], l.op)
	}
	for _, t := range doc.Tags {
		p.Tags = append(p.Tags, views.APITag{Name: t.Name, Description: t.Description, Operations: ops[t.Name]})
	}

	for name, status := range errorStatus {
		res := doc.Components.Responses[name].Value
		p.Errors = append(p.Errors, response(status, res))
	}
	slices.SortFunc(p.Errors, func(a, b views.APIResponse) int { return cmp.Compare(a.Status, b.Status) })

	for _, name := range byLine(doc.Components.Schemas, func(s *openapi3.SchemaRef) *openapi3.Origin { return s.Value.Origin }) {
		p.Schemas = append(p.Schemas, schema(name, doc.Components.Schemas[name].Value))
	}
	return p
}

// operation describes one operation.
func operation(doc *openapi3.T, base, method, path string, item *openapi3.PathItem, op *openapi3.Operation) views.APIOperation {
	o := views.APIOperation{
		ID: op.OperationID, Method: method, Path: base + path, Summary: op.Summary, Description: op.Description,
		Access: access(doc, op),
	}
	for _, prm := range slices.Concat(item.Parameters, op.Parameters) {
		v := prm.Value
		o.Parameters = append(o.Parameters, views.APIParam{
			Name: v.Name, In: v.In, Type: typeOf(v.Schema), Required: v.Required, Description: v.Description,
		})
	}
	if rb := op.RequestBody; rb != nil {
		for ct, mt := range rb.Value.Content {
			o.Body = &views.APIBody{ContentType: ct, Type: typeOf(mt.Schema), Required: rb.Value.Required}
		}
	}
	statuses := op.Responses.Keys()
	slices.Sort(statuses) // "200" < "404" < "5XX"
	for _, status := range statuses {
		o.Responses = append(o.Responses, response(status, op.Responses.Value(status).Value))
	}
	return o
}

// access says who may call an operation, from its security requirements.
func access(doc *openapi3.T, op *openapi3.Operation) string {
	reqs := doc.Security
	if op.Security != nil {
		reqs = *op.Security
	}
	if len(reqs) == 0 {
		return "No credentials needed."
	}
	for _, req := range reqs {
		if scopes, ok := req["bearerAuth"]; ok && len(scopes) > 0 {
			if len(scopes) > 1 {
				return "A token with the " + strings.Join(scopes, " and ") + " scopes, or the web app's session."
			}
			return "A token with the " + scopes[0] + " scope, or the web app's session."
		}
	}
	return "Any token, or the web app's session."
}

// response describes an answer: its body's type and headers.
func response(status string, res *openapi3.Response) views.APIResponse {
	out := views.APIResponse{Status: status}
	if res.Description != nil {
		out.Description = *res.Description
	}
	for _, mt := range res.Content {
		out.Type = typeOf(mt.Schema)
	}
	for name := range res.Headers {
		out.Headers = append(out.Headers, name)
	}
	slices.Sort(out.Headers)
	return out
}

// schema describes a named schema: an object's fields in the
// document's order, or the type of any other schema.
func schema(name string, s *openapi3.Schema) views.APISchema {
	out := views.APISchema{Name: name, Description: s.Description}
	if len(s.Properties) == 0 {
		out.Type = append(typeOf(&openapi3.SchemaRef{Value: s}), constraints(s)...)
		return out
	}
	for _, prop := range byLine(s.Properties, func(r *openapi3.SchemaRef) *openapi3.Origin { return r.Origin }) {
		// For a $ref, the description is the one written next to it, or
		// else the referenced schema's.
		ref := s.Properties[prop]
		out.Fields = append(out.Fields, views.APIField{
			Name: prop, Type: typeOf(ref), Required: slices.Contains(s.Required, prop), Description: ref.Value.Description,
		})
	}
	return out
}

// typeOf renders a schema as a reader sees it, linking named schemas.
func typeOf(ref *openapi3.SchemaRef) views.APIType {
	if ref == nil || ref.Value == nil {
		return views.APIType{{Text: "any"}}
	}
	if name, ok := strings.CutPrefix(ref.Ref, "#/components/schemas/"); ok {
		return views.APIType{{Ref: name}}
	}
	s := ref.Value
	var alts []views.APIType
	switch {
	case len(s.OneOf) > 0 || len(s.AnyOf) > 0:
		for _, alt := range slices.Concat(s.OneOf, s.AnyOf) {
			alts = append(alts, typeOf(alt))
		}
	case s.Const != nil:
		alts = append(alts, views.APIType{{Text: jsonText(s.Const)}})
	case len(s.Enum) > 0:
		for _, e := range s.Enum {
			alts = append(alts, views.APIType{{Text: jsonText(e)}})
		}
	case s.Type == nil || len(s.Type.Slice()) == 0:
		alts = append(alts, views.APIType{{Text: "any"}})
	default:
		for _, t := range s.Type.Slice() {
			switch {
			case t == "array":
				alts = append(alts, append(views.APIType{{Text: "array of "}}, typeOf(s.Items)...))
			case t == "object" && s.AdditionalProperties.Schema != nil:
				alts = append(alts, append(views.APIType{{Text: "object of "}}, typeOf(s.AdditionalProperties.Schema)...))
			case s.Format != "" && t != "null":
				alts = append(alts, views.APIType{{Text: t + " (" + s.Format + ")"}})
			default:
				alts = append(alts, views.APIType{{Text: t}})
			}
		}
	}
	var out views.APIType
	for i, alt := range alts {
		if i > 0 {
			out = append(out, views.TypePart{Text: " | "})
		}
		out = append(out, alt...)
	}
	if ref.Ref == "" {
		out = append(out, constraints(s)...)
	}
	return out
}

// constraints are the limits and default of an inline schema, as text.
func constraints(s *openapi3.Schema) views.APIType {
	var cs []string
	num := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
	switch {
	case s.Min != nil && s.Max != nil:
		cs = append(cs, num(*s.Min)+" to "+num(*s.Max))
	case s.Min != nil:
		cs = append(cs, "at least "+num(*s.Min))
	}
	if s.MaxLength != nil {
		cs = append(cs, fmt.Sprintf("%d to %d characters", s.MinLength, *s.MaxLength))
	}
	if s.MaxItems != nil {
		cs = append(cs, fmt.Sprintf("at most %d items", *s.MaxItems))
	} else if s.MinItems > 0 {
		cs = append(cs, fmt.Sprintf("at least %d item", s.MinItems))
	}
	if s.Pattern != "" {
		cs = append(cs, "matching "+s.Pattern)
	}
	if s.Default != nil {
		cs = append(cs, "default "+jsonText(s.Default))
	}
	if len(cs) == 0 {
		return nil
	}
	return views.APIType{{Text: ", " + strings.Join(cs, ", ")}}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// byLine returns a map's keys in the order of their source lines.
func byLine[V any](m map[string]V, origin func(V) *openapi3.Origin) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(originLine(origin(m[a])), originLine(origin(m[b]))), cmp.Compare(a, b))
	})
	return keys
}

func originLine(o *openapi3.Origin) int {
	if o == nil || o.Key == nil {
		return 0
	}
	return o.Key.Line
}
