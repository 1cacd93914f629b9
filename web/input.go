package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/weupload/weupload/internal/apperr"
)

// Text input is checked once, where it is decoded (query strings, forms,
// JSON bodies), so no handler or service has to: PostgreSQL refuses NUL in
// text (a 500 otherwise) and no field of ours has a use for other control
// characters, invalid UTF-8 or lone UTF-16 surrogates.

// multiLineFields are the fields that may hold line breaks and tabs (the
// notes and messages people write in a textarea); every other field is one
// line.
var multiLineFields = map[string]bool{"note": true, "message": true, "request_message": true}

// textProblem says what is wrong with a text value ("" when nothing is):
// invalid UTF-8, or a control character (C0, DEL or C1); tab, line feed and
// carriage return only in a multi-line field.
func textProblem(s string, multiLine bool) string {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			return "is not valid UTF-8 text"
		case r == '\t' || r == '\n' || r == '\r':
			if !multiLine {
				return "must be one line without tabs"
			}
		case r < 0x20 || (r >= 0x7f && r < 0xa0):
			return fmt.Sprintf("contains a control character (U+%04X)", r)
		}
	}
	return ""
}

// inputError is the error for a refused field: Invalid (422), naming it.
func inputError(field, problem string) error {
	return &apperr.Error{
		Code:    apperr.Invalid,
		Message: fmt.Sprintf("Please correct the field %s: it %s.", fieldName(field), problem),
		Fields:  map[string]string{field: "This " + problem + "."},
	}
}

// fieldName names a field in a message; a name that is itself bad text is
// shown escaped.
func fieldName(field string) string {
	if textProblem(field, false) != "" {
		return strconv.QuoteToASCII(field)
	}
	return "“" + field + "”"
}

// checkValues returns the error for the first bad key or value.
func checkValues(vs url.Values) error {
	for k, values := range vs {
		if p := textProblem(k, false); p != "" {
			return inputError(k, "is not a valid field name: it "+p)
		}
		for _, v := range values {
			if p := textProblem(v, multiLineFields[k]); p != "" {
				return inputError(k, p)
			}
		}
	}
	return nil
}

// checkInput refuses a request whose query string or form (urlencoded or
// multipart) holds bad text, answering in the caller's format. It reads the
// form, so it goes after limitBody; handlers then find r.PostForm filled.
func (a *app) checkInput(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Malformed pairs are left out, as r.URL.Query() leaves them out.
		q, _ := url.ParseQuery(r.URL.RawQuery)
		if err := checkValues(q); err != nil {
			a.error(w, r, err)
			return
		}
		if err := checkForm(r); err != nil {
			a.error(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkForm parses and checks a urlencoded or multipart body (the names of
// uploaded files too); other bodies are left to their handlers.
func checkForm(r *http.Request) error {
	if r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch {
		return nil
	}
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		if err := parseForm(r); err != nil {
			return err
		}
		return checkValues(r.PostForm)
	case strings.HasPrefix(ct, "multipart/form-data"):
		// The body is already capped by limitBody, so it fits in memory.
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return &apperr.Error{Code: apperr.BadRequest, Message: "The form could not be read. Please reload the page and try again.", Err: err}
		}
		defer func() { _ = r.MultipartForm.RemoveAll() }()
		if err := checkValues(r.PostForm); err != nil {
			return err
		}
		for k, fhs := range r.MultipartForm.File {
			for _, fh := range fhs {
				if p := textProblem(fh.Filename, false); p != "" {
					return inputError(k, "has a file name that "+p)
				}
			}
		}
	}
	return nil
}

// checkJSONBody refuses bad text in any string, key or
// value, naming the field; lone surrogates (\ud800) and invalid UTF-8,
// which encoding/json would quietly turn into U+FFFD, included. Malformed
// JSON is left to the decoder, which explains it better.
func checkJSONBody(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // a number too large for float64 must not end the walk early
	// stack holds the open objects (with their current key) and arrays; an array's
	// elements share their array's name, as in the decoder's errors.
	type level struct {
		object  bool
		key     string
		wantKey bool
	}
	var stack []level
	field := func() string {
		var parts []string
		for _, l := range stack {
			if l.object && l.key != "" {
				parts = append(parts, l.key)
			}
		}
		return strings.Join(parts, ".")
	}
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil // the end, or malformed: the decoder reports that
		}
		top := len(stack) - 1
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, level{object: true, wantKey: true})
			case '[':
				stack = append(stack, level{})
			default:
				stack = stack[:top]
				if top > 0 && stack[top-1].object {
					stack[top-1].wantKey = true
				}
			}
			continue
		case string:
			isKey := top >= 0 && stack[top].object && stack[top].wantKey
			if isKey {
				stack[top].key = t
				stack[top].wantKey = false
			}
			lit := body[start:dec.InputOffset()]
			lit = lit[bytes.IndexByte(lit, '"'):]
			name := field()
			if p := jsonStringProblem(lit, !isKey && multiLineFields[lastKey(name)]); p != "" {
				if isKey {
					return inputError(name, "is not a valid field name: it "+p)
				}
				return inputError(name, p)
			}
			if isKey {
				continue
			}
		}
		// A value ended: the enclosing object expects a key next.
		if top >= 0 && stack[top].object {
			stack[top].wantKey = true
		}
	}
}

func lastKey(path string) string {
	return path[strings.LastIndexByte(path, '.')+1:]
}

// jsonStringProblem checks a JSON string literal, quotes included, as
// written: its raw bytes and its escapes.
func jsonStringProblem(lit []byte, multiLine bool) string {
	if !utf8.Valid(lit) {
		return "is not valid UTF-8 text"
	}
	s := string(lit[1 : len(lit)-1])
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		i++
		var r rune
		switch s[i] {
		case 'b':
			r = '\b'
		case 'f':
			r = '\f'
		case 'n':
			r = '\n'
		case 'r':
			r = '\r'
		case 't':
			r = '\t'
		case 'u':
			n, _ := strconv.ParseUint(s[i+1:i+5], 16, 32)
			r = rune(n)
			i += 4
			switch {
			case r >= 0xdc00 && r <= 0xdfff:
				return "contains a lone UTF-16 surrogate"
			case r >= 0xd800 && r <= 0xdbff:
				if !strings.HasPrefix(s[i+1:], `\u`) || len(s) < i+7 {
					return "contains a lone UTF-16 surrogate"
				}
				lo, _ := strconv.ParseUint(s[i+3:i+7], 16, 32)
				if lo < 0xdc00 || lo > 0xdfff {
					return "contains a lone UTF-16 surrogate"
				}
				i += 6
				continue
			}
		default:
			continue // \" \\ \/
		}
		if p := textProblem(string(r), multiLine); p != "" {
			return p
		}
	}
	return textProblem(s, multiLine)
}
