package apperr_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/blob"
)

func TestWrap(t *testing.T) {
	own := apperr.Errorf(apperr.Conflict, "Taken.")
	tests := []struct {
		name string
		err  error
		want apperr.Code
		msg  string
	}{
		{"apperr passes unchanged", own, apperr.Conflict, "Taken."},
		{"store down", errors.Join(blob.ErrUnavailable, errors.New("dial tcp: refused")), apperr.Unavailable, "File storage is temporarily unavailable. Please try again in a moment."},
		{"database shut down", &pgconn.PgError{Code: "57P01"}, apperr.Unavailable, "The service is temporarily unavailable. Please try again in a moment."},
		{"connection exception", &pgconn.PgError{Code: "08006"}, apperr.Unavailable, "The service is temporarily unavailable. Please try again in a moment."},
		{"lock timeout", &pgconn.PgError{Code: "55P03"}, apperr.Unavailable, "The service is temporarily unavailable. Please try again in a moment."},
		{"network", &net.OpError{Op: "dial", Err: errors.New("refused")}, apperr.Unavailable, "The service is temporarily unavailable. Please try again in a moment."},
		{"no connection in time", context.DeadlineExceeded, apperr.Unavailable, "The service is temporarily unavailable. Please try again in a moment."},
		{"constraint is a bug", &pgconn.PgError{Code: "23505"}, apperr.Internal, ""},
		{"anything else is a bug", errors.New("boom"), apperr.Internal, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := apperr.Wrap(tt.err, "files: do %s", "x")
			if got := apperr.CodeOf(err); got != tt.want {
				t.Fatalf("code %s, want %s (%v)", got, tt.want, err)
			}
			if e := apperr.As(err); tt.msg != "" && e.Message != tt.msg {
				t.Errorf("message %q, want %q", e.Message, tt.msg)
			}
			if !errors.Is(err, tt.err) && tt.want != apperr.Conflict {
				t.Errorf("the cause is lost: %v", err)
			}
		})
	}
	if apperr.Wrap(nil, "x") != nil {
		t.Error("Wrap(nil) is not nil")
	}
}
