package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/auth"
)

func TestTokens(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	ann, _ := s.CreateUser(ctx, auth.RegisterInput{Email: "ann@example.com", Password: "password 1"}, false)
	bob, _ := s.CreateUser(ctx, auth.RegisterInput{Email: "bob@example.com", Password: "password 2"}, false)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }

	tok, secret, err := s.CreateToken(ctx, ann.ID, nil, auth.CreateTokenInput{Name: " ci ", Scopes: []string{"files:write", "files:read", "files:read"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "wu_") || len(secret) < 50 || !strings.HasPrefix(secret, tok.Prefix) {
		t.Fatalf("secret %q / prefix %q", secret, tok.Prefix)
	}
	if tok.Name != "ci" || strings.Join(tok.Scopes, ",") != "files:read,files:write" {
		t.Fatalf("token %+v", tok)
	}

	u, got, err := s.AuthenticateToken(ctx, secret)
	if err != nil || u.ID != ann.ID || got.ID != tok.ID || !got.Has("files:write") || got.Has("shares:write") {
		t.Fatalf("authenticate: %v %+v %+v", err, u, got)
	}
	if got.LastUsedAt == nil || !got.LastUsedAt.Equal(now) {
		t.Fatalf("last used %v", got.LastUsedAt)
	}

	t.Run("bad secrets", func(t *testing.T) {
		for _, bad := range []string{"", "wu_", secret + "x", strings.ToUpper(secret), "Bearer " + secret, secret[3:]} {
			if _, _, err := s.AuthenticateToken(ctx, bad); !apperr.Is(err, apperr.Unauthorized) {
				t.Errorf("%q: want Unauthorized, got %v", bad, err)
			}
		}
	})
	t.Run("validation", func(t *testing.T) {
		past := now.Add(-time.Second)
		for name, in := range map[string]auth.CreateTokenInput{
			"no name":       {Scopes: []string{"files:read"}},
			"no scopes":     {Name: "x"},
			"unknown scope": {Name: "x", Scopes: []string{"admin"}},
			"past expiry":   {Name: "x", Scopes: []string{"files:read"}, ExpiresAt: &past},
		} {
			if _, _, err := s.CreateToken(ctx, ann.ID, nil, in); !apperr.Is(err, apperr.Invalid) {
				t.Errorf("%s: want Invalid, got %v", name, err)
			}
		}
	})
	t.Run("expiry", func(t *testing.T) {
		exp := now.Add(time.Hour)
		_, sec, err := s.CreateToken(ctx, ann.ID, nil, auth.CreateTokenInput{Name: "short", Scopes: []string{"files:read"}, ExpiresAt: &exp})
		if err != nil {
			t.Fatal(err)
		}
		now = exp.Add(-time.Second)
		if _, _, err := s.AuthenticateToken(ctx, sec); err != nil {
			t.Fatalf("1 s before expiry: %v", err)
		}
		now = exp
		if _, _, err := s.AuthenticateToken(ctx, sec); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("at expiry: want Unauthorized, got %v", err)
		}
		now = exp.Add(-2 * time.Hour)
	})
	t.Run("a token cannot mint a stronger one", func(t *testing.T) {
		exp := now.Add(time.Hour)
		caller := auth.Token{Scopes: []string{"files:read"}, ExpiresAt: &exp}
		if _, _, err := s.CreateToken(ctx, ann.ID, &caller, auth.CreateTokenInput{Name: "x", Scopes: []string{"files:write"}}); !apperr.Is(err, apperr.Invalid) {
			t.Fatalf("wider scope: want Invalid, got %v", err)
		}
		child, _, err := s.CreateToken(ctx, ann.ID, &caller, auth.CreateTokenInput{Name: "x", Scopes: []string{"files:read"}})
		if err != nil {
			t.Fatal(err)
		}
		if child.ExpiresAt == nil || !child.ExpiresAt.Equal(exp) {
			t.Fatalf("child expiry %v, want capped at the caller's %v", child.ExpiresAt, exp)
		}
	})
	t.Run("revoke", func(t *testing.T) {
		if err := s.RevokeToken(ctx, bob.ID, nil, tok.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("someone else's token: want NotFound, got %v", err)
		}
		if err := s.RevokeToken(ctx, ann.ID, nil, "nonsense"); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("malformed id: want NotFound, got %v", err)
		}
		// A token revokes only tokens within its scopes (tok has
		// files:read and files:write).
		weak := auth.Token{Scopes: []string{"files:read", "tokens:write"}}
		if err := s.RevokeToken(ctx, ann.ID, &weak, tok.ID); !apperr.Is(err, apperr.Forbidden) || !strings.Contains(err.Error(), "files:write") {
			t.Fatalf("a weaker token: want Forbidden naming files:write, got %v", err)
		}
		if _, _, err := s.AuthenticateToken(ctx, secret); err != nil {
			t.Fatalf("a refused revocation revoked: %v", err)
		}
		if err := s.RevokeToken(ctx, bob.ID, &weak, tok.ID); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("someone else's token with a token: want NotFound, got %v", err)
		}
		if err := s.RevokeToken(ctx, ann.ID, &auth.Token{Scopes: []string{"files:read", "files:write"}}, tok.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.AuthenticateToken(ctx, secret); !apperr.Is(err, apperr.Unauthorized) {
			t.Fatalf("revoked token: want Unauthorized, got %v", err)
		}
		list, _ := s.ListTokens(ctx, ann.ID)
		for _, l := range list {
			if l.ID == tok.ID {
				t.Fatal("revoked token still listed")
			}
		}
	})
}
