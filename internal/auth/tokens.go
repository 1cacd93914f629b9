package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/weupload/weupload/internal/apperr"
)

// API token scopes. A session (the web app) has all of them. Managing
// tokens has its own scope, so a token handed to a script cannot revoke
// (or, with CreateToken's rule, out-scope) the others.
const (
	ScopeFilesRead   = "files:read"
	ScopeFilesWrite  = "files:write"
	ScopeSharesWrite = "shares:write"
	ScopeTokensWrite = "tokens:write"
)

// Scopes lists every scope, in display order.
var Scopes = []string{ScopeFilesRead, ScopeFilesWrite, ScopeSharesWrite, ScopeTokensWrite}

// TokenPrefix starts every secret, so a leaked token is recognisable (and
// secret scanners can match it).
const TokenPrefix = "wu_"

// Token is a personal access token as its owner sees it (never the secret).
type Token struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	CreatedAt  time.Time  `json:"created_at"`
}

// Has reports whether the token carries scope.
func (t Token) Has(scope string) bool { return slices.Contains(t.Scopes, scope) }

// CreateTokenInput is what a new token needs; the account page form and the
// API decode into it.
type CreateTokenInput struct {
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	ExpiresAt *time.Time `json:"expires_at"`
}

var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// CreateToken makes a token for the user and returns it with its secret,
// which is shown once and stored only as a hash. When caller is a token (an
// API request authenticated by one), the new token can have no scope the
// caller lacks and cannot outlive it, so a token cannot mint a stronger one.
// Errors: Invalid.
func (s *Service) CreateToken(ctx context.Context, userID string, caller *Token, in CreateTokenInput) (Token, string, error) {
	fields := map[string]string{}
	if caller != nil {
		for _, sc := range in.Scopes {
			if !caller.Has(sc) {
				fields["scopes"] = "A token can only create tokens with its own scopes; this one lacks " + quote(sc) + "."
			}
		}
		if caller.ExpiresAt != nil && (in.ExpiresAt == nil || in.ExpiresAt.After(*caller.ExpiresAt)) {
			in.ExpiresAt = caller.ExpiresAt
		}
	}
	name := strings.TrimSpace(in.Name)
	if n := utf8.RuneCountInString(name); n == 0 || n > 100 {
		fields["name"] = "Give the token a name of 1 to 100 characters, e.g. the script that uses it."
	}
	scopes := []string{}
	for _, sc := range Scopes { // canonical order, duplicates dropped
		if slices.Contains(in.Scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	for _, sc := range in.Scopes {
		if !slices.Contains(Scopes, sc) && fields["scopes"] == "" {
			fields["scopes"] = "Unknown scope " + quote(sc) + "; use " + strings.Join(Scopes, ", ") + "."
		}
	}
	if len(scopes) == 0 && fields["scopes"] == "" {
		fields["scopes"] = "Choose at least one scope."
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(s.now()) {
		fields["expires_at"] = "The expiry must be in the future."
	}
	if len(fields) > 0 {
		return Token{}, "", apperr.InvalidFields(fields)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return Token{}, "", err
	}
	secret := TokenPrefix + strings.ToLower(tokenEncoding.EncodeToString(raw))
	t, err := insertToken(ctx, s.pool, userID, name, secret[:len(TokenPrefix)+8], hashToken(secret), scopes, in.ExpiresAt)
	return t, secret, err
}

// ListTokens returns the user's tokens, newest first.
func (s *Service) ListTokens(ctx context.Context, userID string) ([]Token, error) {
	return listTokens(ctx, s.pool, userID)
}

// RevokeToken deletes a token of the user; it stops working at once. When
// caller is a token (an API request authenticated by one), the token
// revoked can have no scope the caller lacks, so a weaker token cannot
// end a stronger one. Errors: NotFound (also for someone else's token),
// Forbidden.
func (s *Service) RevokeToken(ctx context.Context, userID string, caller *Token, tokenID string) error {
	var within []string // nil: any token
	if caller != nil {
		within = append([]string{}, caller.Scopes...)
	}
	scopes, deleted, err := deleteToken(ctx, s.pool, userID, tokenID, within)
	switch {
	case err != nil:
		return err
	case scopes == nil:
		return apperr.Errorf(apperr.NotFound, "Token not found.")
	case !deleted:
		for _, sc := range scopes {
			if !caller.Has(sc) {
				return apperr.Errorf(apperr.Forbidden, "A token can only revoke tokens with its own scopes; this one lacks %s.", quote(sc))
			}
		}
		return apperr.Errorf(apperr.Forbidden, "This token cannot revoke that one.")
	}
	return nil
}

var errBadToken = &apperr.Error{Code: apperr.Unauthorized, Message: "The API token is missing, malformed, expired or revoked."}

// AuthenticateToken resolves a secret to its user and token. The lookup is by
// SHA-256, so no secret is ever compared byte by byte. Errors: Unauthorized.
func (s *Service) AuthenticateToken(ctx context.Context, secret string) (User, Token, error) {
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 200 {
		return User{}, Token{}, errBadToken
	}
	u, t, err := findToken(ctx, s.pool, hashToken(secret))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, Token{}, errBadToken
	}
	if err != nil {
		return User{}, Token{}, err
	}
	now := s.now()
	if t.ExpiresAt != nil && !t.ExpiresAt.After(now) {
		return User{}, Token{}, errBadToken
	}
	// Record use at most once a minute: a busy script must not turn every
	// request into a write.
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > time.Minute {
		if err := touchToken(ctx, s.pool, t.ID, now); err != nil {
			return User{}, Token{}, err
		}
		t.LastUsedAt = &now
	}
	return u, t, nil
}

func hashToken(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return "“" + s + "”"
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
