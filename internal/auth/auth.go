// Package auth owns accounts: registration, login with throttling, password
// changes and the session epoch that lets a password change log out every
// other session.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/password"
	"github.com/weupload/weupload/internal/ratelimit"
)

// User is an account holder.
type User struct {
	ID          string
	Email       string
	DisplayName string
	IsAdmin     bool
	// AuthEpoch changes when the password does; sessions made under an older
	// epoch are no longer valid.
	AuthEpoch int
	CreatedAt time.Time
}

// Service implements the account use cases.
type Service struct {
	pool    *pgxpool.Pool
	limiter *ratelimit.Limiter
	Argon2  password.Params
	// AccountRule and IPRule limit failed logins per email and per client IP.
	AccountRule ratelimit.Rule
	IPRule      ratelimit.Rule
	// Now is the clock, injectable for expiry tests.
	Now func() time.Time
	// dummyHash is verified when the email is unknown, so both answers take
	// the same time and do not reveal which emails exist.
	dummyHash string
}

// NewService returns the account service.
func NewService(pool *pgxpool.Pool, limiter *ratelimit.Limiter) (*Service, error) {
	dummy, err := password.Hash("not a real password", password.Default)
	if err != nil {
		return nil, err
	}
	return &Service{
		pool:        pool,
		limiter:     limiter,
		Argon2:      password.Default,
		AccountRule: ratelimit.Rule{Limit: 5, Window: 15 * time.Minute},
		IPRule:      ratelimit.Rule{Limit: 50, Window: 15 * time.Minute},
		dummyHash:   dummy,
	}, nil
}

// Length limits of the profile fields, in characters.
const (
	maxEmailLen = 254
	maxNameLen  = 100
)

// RegisterInput is what a new account needs; the HTML form and the CLI
// decode into it.
type RegisterInput struct {
	Email       string `json:"email"`
	DisplayName string `json:"display_name"`
	Password    string `json:"password"`
}

// Register creates an account. Errors: Invalid (with per-field messages,
// including an email already registered).
func (s *Service) Register(ctx context.Context, in RegisterInput) (User, error) {
	return s.create(ctx, in, false)
}

// CreateUser creates an account from the command line or an admin, optionally
// as admin. Errors as Register.
func (s *Service) CreateUser(ctx context.Context, in RegisterInput, admin bool) (User, error) {
	return s.create(ctx, in, admin)
}

func (s *Service) create(ctx context.Context, in RegisterInput, admin bool) (User, error) {
	email, fields := normalizeEmail(in.Email), map[string]string{}
	if msg := validateEmail(email); msg != "" {
		fields["email"] = msg
	}
	name := strings.TrimSpace(in.DisplayName)
	if name == "" {
		name, _, _ = strings.Cut(email, "@")
	}
	if msg := validateDisplayName(name); msg != "" {
		fields["display_name"] = msg
	}
	if msg := password.Problem(in.Password); msg != "" {
		fields["password"] = msg
	}
	if len(fields) > 0 {
		return User{}, apperr.InvalidFields(fields)
	}
	hash, err := password.Hash(in.Password, s.Argon2)
	if err != nil {
		return User{}, err
	}
	u, err := insertUser(ctx, s.pool, email, name, hash, admin)
	if errors.Is(err, errEmailTaken) {
		return User{}, apperr.InvalidFields(map[string]string{"email": "This email is already registered. Log in instead?"})
	}
	return u, err
}

// LoginInput is a login attempt; ClientIP is filled in by the web layer.
type LoginInput struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	ClientIP string `json:"-"`
}

// errBadCredentials is the one answer for an unknown email and a wrong
// password, so the response does not reveal which emails have accounts.
var errBadCredentials = &apperr.Error{Code: apperr.Unauthorized, Message: "Incorrect email or password."}

// Authenticate checks credentials. Failed attempts are counted per account
// and per client IP across all instances. Errors: Unauthorized, TooMany.
func (s *Service) Authenticate(ctx context.Context, in LoginInput) (User, error) {
	email := normalizeEmail(in.Email)
	// No account has a longer email, and the throttle key must stay small.
	if email == "" || len(email) > maxEmailLen || in.Password == "" || password.TooLong(in.Password) {
		return User{}, errBadCredentials
	}
	accountKey, ipKey := "login:account:"+email, "login:ip:"+in.ClientIP
	if err := s.limiter.Check(ctx, accountKey, s.AccountRule); err != nil {
		return User{}, err
	}
	if err := s.limiter.Check(ctx, ipKey, s.IPRule); err != nil {
		return User{}, err
	}
	u, hash, err := findUserByEmail(ctx, s.pool, email)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return User{}, err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		hash = s.dummyHash
	}
	ok, verr := password.Verify(in.Password, hash)
	if verr != nil {
		return User{}, fmt.Errorf("auth: verify %s: %w", u.ID, verr)
	}
	if err != nil || !ok {
		if herr := s.limiter.Hit(ctx, accountKey, s.AccountRule); herr != nil {
			return User{}, herr
		}
		if herr := s.limiter.Hit(ctx, ipKey, s.IPRule); herr != nil {
			return User{}, herr
		}
		return User{}, errBadCredentials
	}
	if err := s.limiter.Reset(ctx, accountKey); err != nil {
		return User{}, err
	}
	return u, nil
}

// IsBadCredentials reports whether err is the login failure answer.
func IsBadCredentials(err error) bool { return err == errBadCredentials }

// FindUserByID returns the user. Errors: NotFound.
func (s *Service) FindUserByID(ctx context.Context, id string) (User, error) {
	u, err := findUserByID(ctx, s.pool, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, apperr.Errorf(apperr.NotFound, "User not found.")
	}
	return u, err
}

// FindUserByEmail returns the user with the email (trimmed, any case), for
// administration. Errors: NotFound.
func (s *Service) FindUserByEmail(ctx context.Context, email string) (User, error) {
	u, _, err := findUserByEmail(ctx, s.pool, normalizeEmail(email))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, apperr.Errorf(apperr.NotFound, "No user has the email %s.", normalizeEmail(email))
	}
	return u, err
}

// ChangePasswordInput is the account page's password form.
type ChangePasswordInput struct {
	Current string `json:"current_password"`
	New     string `json:"new_password"`
}

// ChangePassword replaces the password after checking the current one, and
// bumps the auth epoch so every other session of the user ends. It returns
// the updated user, whose epoch the caller's renewed session must carry.
// Errors: Invalid, NotFound.
func (s *Service) ChangePassword(ctx context.Context, userID string, in ChangePasswordInput) (User, error) {
	fields := map[string]string{}
	if msg := password.Problem(in.New); msg != "" {
		fields["new_password"] = msg
	}
	hash, err := passwordHashByID(ctx, s.pool, userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, apperr.Errorf(apperr.NotFound, "User not found.")
	}
	if err != nil {
		return User{}, err
	}
	if ok, err := password.Verify(in.Current, hash); err != nil {
		return User{}, fmt.Errorf("auth: verify %s: %w", userID, err)
	} else if !ok {
		fields["current_password"] = "This is not your current password."
	}
	if len(fields) > 0 {
		return User{}, apperr.InvalidFields(fields)
	}
	newHash, err := password.Hash(in.New, s.Argon2)
	if err != nil {
		return User{}, err
	}
	return updatePassword(ctx, s.pool, userID, newHash)
}

// UpdateProfileInput is the editable part of an account.
type UpdateProfileInput struct {
	DisplayName string `json:"display_name"`
}

// UpdateProfile changes the display name. Errors: Invalid, NotFound.
func (s *Service) UpdateProfile(ctx context.Context, userID string, in UpdateProfileInput) (User, error) {
	name := strings.TrimSpace(in.DisplayName)
	if msg := validateDisplayName(name); msg != "" {
		return User{}, apperr.InvalidFields(map[string]string{"display_name": msg})
	}
	u, err := updateDisplayName(ctx, s.pool, userID, name)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, apperr.Errorf(apperr.NotFound, "User not found.")
	}
	return u, err
}

func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func validateEmail(email string) string {
	switch {
	case email == "":
		return "Enter your email address."
	case len(email) > maxEmailLen:
		return fmt.Sprintf("An email address has at most %d characters.", maxEmailLen)
	}
	a, err := mail.ParseAddress(email)
	local, domain, ok := strings.Cut(email, "@")
	if err != nil || a.Address != email || a.Name != "" || !ok || local == "" || !strings.Contains(domain, ".") {
		return "Enter an email address like name@example.com."
	}
	return ""
}

func validateDisplayName(name string) string {
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "Enter a name."
	case n > maxNameLen:
		return fmt.Sprintf("A name has at most %d characters.", maxNameLen)
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return "A name cannot contain control characters."
		}
	}
	return ""
}
