// Package apperr is the one error type the services return. Each error has a
// code that the web layer maps to an HTTP status, and a message that is safe
// to show to users. Anything that is not an *Error is an internal error: it is
// logged once with the request id and the user sees a generic message.
package apperr

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Code classifies an error for the caller.
type Code string

// The codes, one per distinct answer a caller can get.
const (
	BadRequest   Code = "bad_request"       // malformed request (unparseable body, too large)
	Invalid      Code = "invalid"           // well-formed but invalid input; Fields says which
	NotFound     Code = "not_found"         // missing or not the caller's
	Conflict     Code = "conflict"          // state does not allow it (taken name, wrong state)
	Stale        Code = "stale"             // a conditional update saw a newer version (HTTP If-Match)
	Unauthorized Code = "unauthorized"      // not logged in or bad credentials
	Forbidden    Code = "forbidden"         // logged in but not allowed (used sparingly: prefer NotFound)
	TooMany      Code = "too_many_requests" // throttled; RetryAfter says for how long
	Gone         Code = "gone"              // existed but expired or used up
	Unavailable  Code = "unavailable"       // a dependency is down; retry later
	Internal     Code = "internal"          // a bug or an unexpected failure
)

// Error is an application error with a user-safe message.
type Error struct {
	Code    Code
	Message string            // safe to show to users
	Fields  map[string]string // per-field messages for Invalid
	// RetryAfter is set for TooMany and Unavailable.
	RetryAfter time.Duration
	// Err is the cause, for logs only.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an error with the given code and a formatted, user-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidFields returns an Invalid error carrying per-field messages.
func InvalidFields(fields map[string]string) *Error {
	return &Error{Code: Invalid, Message: "Please correct the highlighted fields.", Fields: fields}
}

// Throttled returns a TooMany error that says when to try again.
func Throttled(retry time.Duration) *Error {
	secs := int(retry.Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return &Error{
		Code:       TooMany,
		Message:    fmt.Sprintf("Too many attempts, try again in %d s.", secs),
		RetryAfter: time.Duration(secs) * time.Second,
	}
}

// Unavailablef wraps a dependency failure so callers answer 503 with Retry-After.
func Unavailablef(err error, format string, args ...any) *Error {
	return &Error{Code: Unavailable, Message: fmt.Sprintf(format, args...), RetryAfter: 5 * time.Second, Err: err}
}

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// CodeOf returns the code of err: Internal for anything that is not an *Error.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	if e := As(err); e != nil {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries the code.
func Is(err error, code Code) bool { return CodeOf(err) == code }

// Wrap adds context to err for the logs ("files: complete upload %s") and
// classifies it for the caller: apperr errors pass unchanged, a dependency
// that could not be reached becomes Unavailable (503 with Retry-After), and
// anything else stays an internal error. Every service wraps its failures
// with it, so the rule is the same everywhere.
func Wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	if As(err) != nil {
		return err
	}
	wrapped := fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
	if msg := Unreachable(err); msg != "" {
		return Unavailablef(wrapped, "%s", msg)
	}
	return wrapped
}

// Dependency is implemented by the errors a dependency returns when it could
// not be reached (the blob store's ErrUnavailable); the message is shown to
// users.
type Dependency interface {
	UnavailableMessage() string
}

// Unreachable returns the user-safe message for an error meaning a
// dependency could not be reached or stopped answering, or "" for any other
// error (a query error, a constraint, a bug). PostgreSQL errors are
// recognised by their SQLSTATE (pgconn.PgError's SQLState method), so this
// package needs no driver.
func Unreachable(err error) string {
	const db = "The service is temporarily unavailable. Please try again in a moment."
	var dep Dependency
	var st interface{ SQLState() string }
	var ne net.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &dep):
		return dep.UnavailableMessage()
	case errors.As(err, &st):
		// 57P01-03: admin shutdown, crash shutdown, cannot connect now;
		// 57014: statement timeout or cancel; class 08: connection exceptions;
		// 55P03: lock_timeout, a row held too long by another request.
		switch code := st.SQLState(); {
		case code == "57P01", code == "57P02", code == "57P03", code == "57014", code == "55P03", strings.HasPrefix(code, "08"):
			return db
		}
		return ""
	case errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded):
		// A refused or timed-out connection, or no pool connection in time.
		return db
	}
	return ""
}
