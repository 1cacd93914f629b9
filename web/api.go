package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/auth"
	"github.com/weupload/weupload/internal/ratelimit"
)

const tokenKey ctxKey = 100

// currentToken returns the API token that authenticated the request, or nil
// for the web app's session.
func currentToken(r *http.Request) *auth.Token {
	t, _ := r.Context().Value(tokenKey).(*auth.Token)
	return t
}

// apiRules are the API's rate limits: per caller (a token, or the signed-in
// user of a session) and per client IP, which also bounds many tokens used
// from one place.
type apiRules struct {
	Caller ratelimit.Rule
	IP     ratelimit.Rule
}

// defaultAPIRules allow a busy script 10 requests a second on average.
func defaultAPIRules() apiRules {
	return apiRules{
		Caller: ratelimit.Rule{Limit: 600, Window: time.Minute},
		IP:     ratelimit.Rule{Limit: 1200, Window: time.Minute},
	}
}

// apiAuth authenticates an API request by `Authorization: Bearer wu_…` or,
// for the app's own pages, by the session cookie (already loaded by
// loadUser, under the same cross-origin protection as the rest of the site).
// A token in the query string is refused: URLs end up in logs and referrers.
// Every caller is rate limited per credential and per IP.
func (a *app) apiAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Has("access_token") || q.Has("token") || q.Has("api_key") {
			a.error(w, r, apperr.Errorf(apperr.Unauthorized, "Send API tokens in the Authorization header, never in the URL."))
			return
		}
		ctx := r.Context()
		caller := ""
		if h := r.Header.Get("Authorization"); h != "" {
			secret, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				a.error(w, r, apperr.Errorf(apperr.Unauthorized, "Use Authorization: Bearer <token>."))
				return
			}
			u, t, err := a.auth.AuthenticateToken(ctx, strings.TrimSpace(secret))
			if err != nil {
				a.error(w, r, err)
				return
			}
			info(r).userID = u.ID
			ctx = context.WithValue(context.WithValue(ctx, userKey, &u), tokenKey, &t)
			caller = "token:" + t.ID
		} else if u := currentUser(r); u != nil {
			caller = "user:" + u.ID
		} else {
			w.Header().Set("WWW-Authenticate", `Bearer realm="we-upload"`)
			a.error(w, r, apperr.Errorf(apperr.Unauthorized, "Log in or send an API token (Authorization: Bearer <token>)."))
			return
		}
		if err := a.limiter.Take(ctx, "api:"+caller, a.apiRules.Caller); err != nil {
			a.error(w, r, err)
			return
		}
		if err := a.limiter.Take(ctx, "api:ip:"+info(r).ipKey, a.apiRules.IP); err != nil {
			a.error(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// requireScope refuses token requests whose token lacks scope; the web app's
// session has every scope.
func requireScope(a *app, scope string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if t := currentToken(r); t != nil && !t.Has(scope) {
				a.error(w, r, apperr.Errorf(apperr.Forbidden, "This token lacks the %s scope.", scope))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// decodeJSON reads a JSON body strictly into v: application/json only, one
// object, no unknown fields. Errors are 400 problems that name the field
// where they can and never carry encoding/json's text, which speaks of Go
// types.
func decodeJSON(r *http.Request, v any) error {
	bad := func(format string, args ...any) error {
		return &apperr.Error{Code: apperr.BadRequest, Message: fmt.Sprintf(format, args...)}
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return bad("Send a JSON body with Content-Type: application/json.")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err // too large (the body limit), or the client went away
	}
	if err := checkJSONBody(body); err != nil { // bad text: web/input.go
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		return bad("The request body is empty; send a JSON object.")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return bad("The request body is not valid JSON.")
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return bad("The request body must be a JSON object.")
	case errors.As(err, &typeErr):
		return bad("The field %q must be a %s.", jsonField(typeErr.Field), jsonKind(typeErr.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// The rest of the text is the client's own field name, quoted.
		return bad("Unknown field %s.", strings.TrimPrefix(err.Error(), "json: unknown field "))
	default:
		// A value of the right JSON type that a field's own decoding
		// refused (a date that does not parse): find the field by
		// decoding the fields one at a time.
		field := failingField(body, v)
		var timeErr *time.ParseError
		switch {
		case field != "" && errors.As(err, &timeErr):
			return bad("The field %q must be a date and time in RFC 3339 form, such as 2026-01-31T09:00:00Z.", field)
		case field != "":
			return bad("The field %q has a value that could not be read.", field)
		default:
			return bad("The request body could not be read as the JSON object this call expects.")
		}
	}
	if dec.More() {
		return bad("Send exactly one JSON object.")
	}
	return nil
}

// failingField is the top-level field of a JSON object whose value does
// not decode into v's type on its own, or "" when none does.
func failingField(body []byte, v any) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return ""
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	t := reflect.TypeOf(v).Elem()
	for _, k := range names {
		one, _ := json.Marshal(map[string]json.RawMessage{k: fields[k]})
		if json.Unmarshal(one, reflect.New(t).Interface()) != nil {
			return k
		}
	}
	return ""
}

// jsonField is the JSON path of a field in a decoding error. encoding/json
// names an embedded struct by its Go type ("Selection.files"); our JSON
// names are lower case, so the capitalised elements are those type names.
func jsonField(path string) string {
	var out []string
	for el := range strings.SplitSeq(path, ".") {
		if el == "" || !unicode.IsUpper(rune(el[0])) {
			out = append(out, el)
		}
	}
	return strings.Join(out, ".")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "list"
	case "struct", "map", "ptr":
		return "object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "whole number"
	default:
		return "number"
	}
}
