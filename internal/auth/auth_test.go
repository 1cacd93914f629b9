package auth_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/auth"
	"github.com/weupload/weupload/internal/database/dbtest"
	"github.com/weupload/weupload/internal/password"
	"github.com/weupload/weupload/internal/ratelimit"
)

func newService(t *testing.T) (*auth.Service, *pgxpool.Pool) {
	t.Helper()
	pool := dbtest.New(t)
	s, err := auth.NewService(pool, ratelimit.New(pool), password.NewHasher(password.Default, password.DefaultSlots()))
	if err != nil {
		t.Fatal(err)
	}
	return s, pool
}

func TestRegisterValidation(t *testing.T) {
	t.Parallel()
	s, pool := newService(t)
	ctx := context.Background()
	if _, err := s.CreateUser(ctx, auth.RegisterInput{Email: "Taken@Example.com", Password: "password1"}, false); err != nil {
		t.Fatal(err)
	}
	t.Run("taken email other case", func(t *testing.T) {
		_, err := s.CreateUser(ctx, auth.RegisterInput{Email: " TAKEN@example.COM ", Password: "password1"}, false)
		if e := apperr.As(err); e == nil || e.Code != apperr.Invalid || e.Fields["email"] == "" {
			t.Fatalf("CreateUser: want Invalid on email, got %v", err)
		}
		// Self-service sign-up does not tell: the same nil as for a new email.
		if err := s.Register(ctx, auth.RegisterInput{Email: " TAKEN@example.COM ", Password: "password1", ClientIP: "192.0.2.1"}); err != nil {
			t.Fatalf("Register of a taken email: %v, want nil", err)
		}
	})
	tests := []struct {
		name  string
		in    auth.RegisterInput
		field string
	}{
		{"no at", auth.RegisterInput{Email: "nobody.example.com", Password: "password1"}, "email"},
		{"300 chars", auth.RegisterInput{Email: strings.Repeat("a", 288) + "@example.com", Password: "password1"}, "email"},
		{"empty email", auth.RegisterInput{Password: "password1"}, "email"},
		{"display form", auth.RegisterInput{Email: "Bob <bob@example.com>", Password: "password1"}, "email"},
		{"7 chars", auth.RegisterInput{Email: "a@example.com", Password: "1234567"}, "password"},
		{"1025 chars", auth.RegisterInput{Email: "a@example.com", Password: strings.Repeat("x", 1025)}, "password"},
		{"empty password", auth.RegisterInput{Email: "a@example.com"}, "password"},
		{"control in name", auth.RegisterInput{Email: "a@example.com", DisplayName: "a\x00b", Password: "password1"}, "display_name"},
		{"101-char name", auth.RegisterInput{Email: "a@example.com", DisplayName: strings.Repeat("n", 101), Password: "password1"}, "display_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Register(ctx, tt.in)
			e := apperr.As(err)
			if e == nil || e.Code != apperr.Invalid || e.Fields[tt.field] == "" {
				t.Fatalf("want Invalid on %s, got %v", tt.field, err)
			}
		})
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM users").Scan(&n); err != nil || n != 1 {
		t.Fatalf("users = %d (%v), want only the first", n, err)
	}
}

func TestRegisterBoundaries(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	u, err := s.CreateUser(ctx, auth.RegisterInput{Email: "  Mixed.Case@Example.com ", Password: "12345678"}, false)
	if err != nil {
		t.Fatalf("8-char password: %v", err)
	}
	if u.Email != "mixed.case@example.com" || u.DisplayName != "mixed.case" {
		t.Fatalf("got %q / %q, want normalised email and name from it", u.Email, u.DisplayName)
	}
	if _, err := s.CreateUser(ctx, auth.RegisterInput{Email: "b@example.com", Password: strings.Repeat("é", 1024)}, false); err != nil {
		t.Fatalf("1024-char password: %v", err)
	}
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	want, err := s.CreateUser(ctx, auth.RegisterInput{Email: "ann@example.com", Password: "right password"}, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Authenticate(ctx, auth.LoginInput{Email: "ANN@example.com ", Password: "right password", ClientIP: "192.0.2.1"})
	if err != nil || got.ID != want.ID {
		t.Fatalf("login: %v (%+v)", err, got)
	}
	_, wrong := s.Authenticate(ctx, auth.LoginInput{Email: "ann@example.com", Password: "wrong password", ClientIP: "192.0.2.1"})
	_, unknown := s.Authenticate(ctx, auth.LoginInput{Email: "nobody@example.com", Password: "wrong password", ClientIP: "192.0.2.1"})
	if !auth.IsBadCredentials(wrong) || !auth.IsBadCredentials(unknown) || wrong.Error() != unknown.Error() {
		t.Fatalf("wrong password and unknown email must answer alike: %v / %v", wrong, unknown)
	}
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	s.AccountRule = ratelimit.Rule{Limit: 3, Window: 60e9}
	s.IPRule = ratelimit.Rule{Limit: 5, Window: 60e9}
	ctx := context.Background()
	if _, err := s.CreateUser(ctx, auth.RegisterInput{Email: "ann@example.com", Password: "right password"}, false); err != nil {
		t.Fatal(err)
	}
	login := func(email, pw, ip string) error {
		_, err := s.Authenticate(ctx, auth.LoginInput{Email: email, Password: pw, ClientIP: ip})
		return err
	}
	for i := 0; i < 3; i++ {
		if err := login("ann@example.com", "bad password", "192.0.2.1"); !auth.IsBadCredentials(err) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	t.Run("per account, even with the right password", func(t *testing.T) {
		err := login("ann@example.com", "right password", "192.0.2.99")
		e := apperr.As(err)
		if e == nil || e.Code != apperr.TooMany || !strings.Contains(e.Message, "try again in") {
			t.Fatalf("want TooMany, got %v", err)
		}
	})
	t.Run("per IP across accounts", func(t *testing.T) {
		for i := 0; i < 2; i++ {
			_ = login("other@example.com", "bad password", "192.0.2.1")
		}
		if err := login("third@example.com", "bad password", "192.0.2.1"); !apperr.Is(err, apperr.TooMany) {
			t.Fatalf("want TooMany for the IP, got %v", err)
		}
		if err := login("third@example.com", "bad password", "192.0.2.2"); !auth.IsBadCredentials(err) {
			t.Fatalf("another IP must not be throttled: %v", err)
		}
	})
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	u, err := s.CreateUser(ctx, auth.RegisterInput{Email: "ann@example.com", Password: "old password"}, false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.ChangePassword(ctx, u.ID, auth.ChangePasswordInput{Current: "not it at all", New: "new password"})
	if e := apperr.As(err); e == nil || e.Fields["current_password"] == "" {
		t.Fatalf("wrong current password: %v", err)
	}
	_, err = s.ChangePassword(ctx, u.ID, auth.ChangePasswordInput{Current: "old password", New: "short"})
	if e := apperr.As(err); e == nil || e.Fields["new_password"] == "" {
		t.Fatalf("short new password: %v", err)
	}
	u2, err := s.ChangePassword(ctx, u.ID, auth.ChangePasswordInput{Current: "old password", New: "new password"})
	if err != nil {
		t.Fatal(err)
	}
	if u2.AuthEpoch != u.AuthEpoch+1 {
		t.Fatalf("epoch %d → %d, want +1", u.AuthEpoch, u2.AuthEpoch)
	}
	if _, err := s.Authenticate(ctx, auth.LoginInput{Email: "ann@example.com", Password: "new password", ClientIP: "192.0.2.1"}); err != nil {
		t.Fatalf("login with new password: %v", err)
	}
	if _, err := s.FindUserByID(ctx, "not-a-uuid"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("malformed id: want NotFound, got %v", err)
	}
}

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"  Ann@Example.COM ", "ann@example.com"},
		{"jose\u0301@example.com", "jos\u00e9@example.com"}, // NFD → NFC
		{"JOSE\u0301@EXAMPLE.COM", "jos\u00e9@example.com"},
		{"jos\u00e9@example.com", "jos\u00e9@example.com"},
	}
	for _, tt := range tests {
		if got := auth.NormalizeEmail(tt.in); got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestChangePasswordThrottle: wrong current passwords are limited per user;
// the right one gives its attempt back.
func TestChangePasswordThrottle(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	s.PasswordRule = ratelimit.Rule{Limit: 2, Window: 60e9}
	ctx := context.Background()
	u, err := s.CreateUser(ctx, auth.RegisterInput{Email: "ann@example.com", Password: "old password"}, false)
	if err != nil {
		t.Fatal(err)
	}
	change := func(current string) error {
		_, err := s.ChangePassword(ctx, u.ID, auth.ChangePasswordInput{Current: current, New: "new password"})
		return err
	}
	if err := change("not it at all"); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("first wrong: %v", err)
	}
	if err := change("old password"); err != nil {
		t.Fatalf("right one: %v", err)
	}
	if err := change("not it at all"); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("second wrong: %v", err)
	}
	if err := change("not it either"); !apperr.Is(err, apperr.TooMany) {
		t.Fatalf("third wrong: want TooMany, got %v", err)
	}
}
