package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/views"
)

// statusOf maps an error code to its HTTP status.
func statusOf(code apperr.Code) int {
	switch code {
	case apperr.BadRequest:
		return http.StatusBadRequest
	case apperr.Invalid:
		return http.StatusUnprocessableEntity
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.Conflict:
		return http.StatusConflict
	case apperr.Stale:
		return http.StatusPreconditionFailed
	case apperr.Unauthorized:
		return http.StatusUnauthorized
	case apperr.Forbidden:
		return http.StatusForbidden
	case apperr.TooMany:
		return http.StatusTooManyRequests
	case apperr.Gone:
		return http.StatusGone
	case apperr.Unavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// classify turns any error into an *apperr.Error with a user-safe message.
// Internal errors are logged here, once, with the request id.
func (a *app) classify(r *http.Request, err error) *apperr.Error {
	var mbe *http.MaxBytesError
	switch e := apperr.As(err); {
	case e != nil && e.Code != apperr.Internal:
		return e
	case errors.As(err, &mbe):
		return apperr.Errorf(apperr.BadRequest, "The request is too large (the limit is %d bytes).", mbe.Limit)
	case apperr.Unreachable(err) != "":
		a.log.Error("dependency unavailable", "request_id", info(r).id, "err", err)
		return apperr.Unavailablef(err, "%s", apperr.Unreachable(err))
	default:
		a.log.Error("internal error", "request_id", info(r).id, "err", err)
		return &apperr.Error{Code: apperr.Internal, Message: "Something went wrong on our side. We have logged it; please try again.", Err: err}
	}
}

// The one response policy. The route group says who is asking:
// jsonResponses marks the JSON API and the uploaders' JSON calls, and
// their failures are problem+json; anything else is a page, or, for htmx,
// a toast. a.error is the one answer to a failed request, a.formFailed the
// one answer to a failed form post, and retryAfter the one Retry-After rule.

// jsonResponses marks a route group's requests as JSON calls: their
// failures answer problem+json.
func jsonResponses(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info(r).json = true
		next.ServeHTTP(w, r)
	})
}

// retryAfter tells the client when to try again: a throttle's wait, or a
// few seconds for a dependency that is down.
func retryAfter(w http.ResponseWriter, e *apperr.Error) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(e.RetryAfter.Seconds())))
	}
}

// error answers a failed request in the caller's format: problem+json for
// a JSON call, a toast for htmx, a full page otherwise.
func (a *app) error(w http.ResponseWriter, r *http.Request, err error) {
	e := a.classify(r, err)
	status := statusOf(e.Code)
	retryAfter(w, e)
	w.Header().Set("Cache-Control", "no-store")
	switch {
	case info(r).json:
		a.problem(w, r, status, e)
	case isHTMX(r):
		// Errors go to the toast area whatever the request targeted.
		w.Header().Set("HX-Retarget", "#flash")
		w.Header().Set("HX-Reswap", "beforeend")
		a.render(w, r, status, views.Toast(views.Flash{Kind: "error", Message: e.Message + " (request " + info(r).id + ")"}))
	default:
		a.render(w, r, status, views.Error(views.ErrorPage{
			Shell:   a.shell(r, http.StatusText(status)),
			Status:  status,
			Heading: headingFor(status),
			Message: e.Message,
		}))
	}
}

// formView is a form to show again after a failed post. fragment is what
// htmx swaps in (the form, or the dialog's body); page is the whole page
// around the form for a post without htmx. A dialog with no page of its
// own leaves page nil: a plain post then goes back to back with the
// message as a flash.
type formView struct {
	fragment, page templ.Component
	back           string
}

// formFailed answers a form post that failed. An error the visitor can
// put right in the form (bad input, wrong credentials, too many tries, a
// clash on a field such as a name taken) shows the form again with its
// messages, as view builds it: 422, or 429 with Retry-After when
// throttled. Anything else, or a form that cannot be built, goes to
// a.error.
func (a *app) formFailed(w http.ResponseWriter, r *http.Request, err error, view func() (formView, error)) {
	e := apperr.As(err)
	inForm := e != nil && (e.Code == apperr.Invalid || e.Code == apperr.Unauthorized || e.Code == apperr.TooMany ||
		e.Code == apperr.Conflict && len(e.Fields) > 0)
	if !inForm {
		a.error(w, r, err)
		return
	}
	v, verr := view()
	if verr != nil {
		a.error(w, r, verr)
		return
	}
	status := http.StatusUnprocessableEntity
	if e.Code == apperr.TooMany {
		status = http.StatusTooManyRequests
	}
	retryAfter(w, e)
	switch {
	case isHTMX(r):
		a.render(w, r, status, v.fragment)
	case v.page != nil:
		a.render(w, r, status, v.page)
	default:
		a.flash(r, "error", errorText(e))
		redirect(w, r, v.back)
	}
}

// errorText is an error's message for a flash: the field messages when
// there are any (the message then only says to look at the fields).
func errorText(e *apperr.Error) string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	msgs := make([]string, 0, len(e.Fields))
	for _, k := range sortedKeys(e.Fields) {
		msgs = append(msgs, e.Fields[k])
	}
	return strings.Join(msgs, " ")
}

func headingFor(status int) string {
	switch status {
	case http.StatusNotFound:
		return "We can't find that page"
	case http.StatusForbidden:
		return "Request refused"
	case http.StatusTooManyRequests:
		return "Slow down a little"
	case http.StatusServiceUnavailable:
		return "Back in a moment"
	case http.StatusInternalServerError:
		return "Something went wrong"
	case http.StatusGone:
		return "This is no longer available"
	default:
		return http.StatusText(status)
	}
}

// problem writes an RFC 9457 problem+json body.
func (a *app) problem(w http.ResponseWriter, r *http.Request, status int, e *apperr.Error) {
	type fieldError struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	}
	body := struct {
		Type     string       `json:"type"`
		Title    string       `json:"title"`
		Status   int          `json:"status"`
		Detail   string       `json:"detail"`
		Instance string       `json:"instance"`
		Code     string       `json:"code"`
		Errors   []fieldError `json:"errors,omitempty"`
	}{
		Type:     "about:blank",
		Title:    http.StatusText(status),
		Status:   status,
		Detail:   e.Message,
		Instance: "urn:request:" + info(r).id,
		Code:     string(e.Code),
	}
	for _, k := range sortedKeys(e.Fields) {
		body.Errors = append(body.Errors, fieldError{Field: k, Message: e.Fields[k]})
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(body); err != nil {
		a.log.Warn("write problem", "request_id", info(r).id, "err", err)
	}
}

func (a *app) notFound(w http.ResponseWriter, r *http.Request) {
	a.error(w, r, apperr.Errorf(apperr.NotFound, "The page you asked for does not exist, or you do not have access to it."))
}

func (a *app) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "GET, HEAD, POST")
	e := &apperr.Error{Code: apperr.BadRequest, Message: fmt.Sprintf("%s is not allowed here.", r.Method)}
	if info(r).json {
		a.problem(w, r, http.StatusMethodNotAllowed, e)
		return
	}
	a.render(w, r, http.StatusMethodNotAllowed, views.Error(views.ErrorPage{
		Shell: a.shell(r, "Not allowed"), Status: http.StatusMethodNotAllowed, Heading: "Not allowed", Message: e.Message,
	}))
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelWarn
	}
	return slog.LevelInfo
}
