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

	"golang.org/x/text/unicode/norm"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/database"
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
	// hasher runs every argon2 hash and verify, within the process's bound.
	hasher *password.Hasher
	// AccountRule and IPRule limit failed logins per email and per client IP.
	AccountRule ratelimit.Rule
	IPRule      ratelimit.Rule
	// RegisterRule limits sign-ups per client IP (each costs a hash).
	RegisterRule ratelimit.Rule
	// PasswordRule limits wrong current passwords on a password change, per
	// user (a stolen session must not become a password oracle).
	PasswordRule ratelimit.Rule
	// Now is the clock, injectable for expiry tests.
	Now func() time.Time
	// dummyHash is verified when the email is unknown, so both answers take
	// the same time and do not reveal which emails exist.
	dummyHash string
}

// NewService returns the account service; hasher is the process's one
// bounded argon2 runner.
func NewService(pool *pgxpool.Pool, limiter *ratelimit.Limiter, hasher *password.Hasher) (*Service, error) {
	dummy, err := password.Hash("not a real password", hasher.Params)
	if err != nil {
		return nil, err
	}
	return &Service{
		pool:         pool,
		limiter:      limiter,
		hasher:       hasher,
		AccountRule:  ratelimit.Rule{Limit: 5, Window: 15 * time.Minute},
		IPRule:       ratelimit.Rule{Limit: 50, Window: 15 * time.Minute},
		RegisterRule: ratelimit.Rule{Limit: 10, Window: time.Hour},
		PasswordRule: ratelimit.Rule{Limit: 5, Window: 15 * time.Minute},
		dummyHash:    dummy,
	}, nil
}

// Length limits of the profile fields, in characters.
const (
	maxEmailLen = 254
	maxNameLen  = 100
)

// RegisterInput is what a new account needs; the HTML form and the CLI
// decode into it. ClientIP is filled in by the web layer.
type RegisterInput struct {
	Email       string `json:"email"`
	DisplayName string `json:"display_name"`
	Password    string `json:"password"`
	ClientIP    string `json:"-"`
}

// Register is self-service sign-up, throttled per client IP. It answers an
// email that already has an account exactly as a new one (nil, after the
// same hashing work), so sign-up does not reveal who has an account; the
// caller must not log the visitor in but send them to sign in. Errors:
// Invalid (per-field messages, never "taken"), TooMany, Unavailable.
func (s *Service) Register(ctx context.Context, in RegisterInput) error {
	// Validation is free: only an attempt that will hash is counted.
	if _, err := s.validateNew(in); err != nil {
		return err
	}
	try := ratelimit.Attempt{Key: "register:ip:" + in.ClientIP, Rule: s.RegisterRule}
	if err := s.limiter.TakeAll(ctx, try); err != nil {
		return err
	}
	_, err := s.create(ctx, in, false)
	switch {
	case errors.Is(err, errEmailTaken):
		return nil
	case apperr.Is(err, apperr.Unavailable):
		// Busy: nothing was hashed, so the attempt does not count.
		return errors.Join(err, s.limiter.Refund(ctx, try))
	}
	return err
}

// CreateUser creates an account from the command line or an admin, optionally
// as admin. Errors: Invalid (with per-field messages, including an email
// already registered), Unavailable.
func (s *Service) CreateUser(ctx context.Context, in RegisterInput, admin bool) (User, error) {
	u, err := s.create(ctx, in, admin)
	if errors.Is(err, errEmailTaken) {
		return User{}, apperr.InvalidFields(map[string]string{"email": "This email is already registered. Log in instead?"})
	}
	return u, err
}

// create inserts the account; errEmailTaken when the email has one.
func (s *Service) create(ctx context.Context, in RegisterInput, admin bool) (User, error) {
	in, err := s.validateNew(in)
	if err != nil {
		return User{}, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return User{}, err
	}
	return insertUser(ctx, s.pool, in.Email, in.DisplayName, hash, admin)
}

// validateNew returns in with the email normalised and the name defaulted,
// or Invalid with per-field messages.
func (s *Service) validateNew(in RegisterInput) (RegisterInput, error) {
	email, fields := NormalizeEmail(in.Email), map[string]string{}
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
		return in, apperr.InvalidFields(fields)
	}
	in.Email, in.DisplayName = email, name
	return in, nil
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

// Authenticate checks credentials. Every attempt takes one from the
// account's and the client IP's allowance before the password is verified
// (atomically across instances, so concurrent tries cannot pass a check
// together); a successful login gives them back. Errors: Unauthorized,
// TooMany, Unavailable.
func (s *Service) Authenticate(ctx context.Context, in LoginInput) (User, error) {
	email := NormalizeEmail(in.Email)
	// No account has an email this long: refuse before any hashing.
	if email == "" || len(email) > maxEmailLen || in.Password == "" || password.TooLong(in.Password) {
		return User{}, errBadCredentials
	}
	account := ratelimit.Attempt{Key: "login:account:" + email, Rule: s.AccountRule}
	ip := ratelimit.Attempt{Key: "login:ip:" + in.ClientIP, Rule: s.IPRule}
	if err := s.limiter.TakeAll(ctx, account, ip); err != nil {
		return User{}, err
	}
	u, hash, err := findUserByEmail(ctx, s.pool, email)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return User{}, errors.Join(err, s.limiter.Refund(ctx, account, ip))
	}
	known := err == nil
	if !known {
		hash = s.dummyHash
	}
	ok, err := s.hasher.Verify(ctx, in.Password, hash)
	if apperr.Is(err, apperr.Unavailable) {
		// Busy: the password was not tried, so the attempt does not count.
		return User{}, errors.Join(err, s.limiter.Refund(ctx, account, ip))
	}
	if err != nil {
		return User{}, fmt.Errorf("auth: verify %s: %w", u.ID, err)
	}
	if !known || !ok {
		return User{}, errBadCredentials
	}
	if err := s.limiter.Refund(ctx, ip); err != nil {
		return User{}, err
	}
	if err := s.limiter.Reset(ctx, account.Key); err != nil {
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
	u, _, err := findUserByEmail(ctx, s.pool, NormalizeEmail(email))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, apperr.Errorf(apperr.NotFound, "No user has the email %s.", NormalizeEmail(email))
	}
	return u, err
}

// ChangePasswordInput is the account page's password form.
type ChangePasswordInput struct {
	Current string `json:"current_password"`
	New     string `json:"new_password"`
	// RevokeTokens also deletes every API token of the user.
	RevokeTokens bool `json:"revoke_tokens"`
}

// ChangePassword replaces the password after checking the current one, and
// bumps the auth epoch so every other session of the user ends (and, when
// asked, revokes the user's API tokens in the same transaction). Checks of
// the current password are throttled per user, taken before verifying and
// given back on success. It returns the updated user, whose epoch the
// caller's renewed session must carry. Errors: Invalid, NotFound, TooMany,
// Unavailable.
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
	if in.Current == "" || password.TooLong(in.Current) {
		fields["current_password"] = "This is not your current password."
	} else {
		try := ratelimit.Attempt{Key: "password-change:" + userID, Rule: s.PasswordRule}
		if err := s.limiter.TakeAll(ctx, try); err != nil {
			return User{}, err
		}
		ok, err := s.hasher.Verify(ctx, in.Current, hash)
		if apperr.Is(err, apperr.Unavailable) {
			return User{}, errors.Join(err, s.limiter.Refund(ctx, try))
		}
		if err != nil {
			return User{}, fmt.Errorf("auth: verify %s: %w", userID, err)
		}
		if ok {
			if err := s.limiter.Refund(ctx, try); err != nil {
				return User{}, err
			}
		} else {
			fields["current_password"] = "This is not your current password."
		}
	}
	if len(fields) > 0 {
		return User{}, apperr.InvalidFields(fields)
	}
	newHash, err := s.hasher.Hash(ctx, in.New)
	if err != nil {
		return User{}, err
	}
	var u User
	err = database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if u, err = updatePassword(ctx, tx, userID, newHash); err != nil {
			return err
		}
		if in.RevokeTokens {
			return deleteTokens(ctx, tx, userID)
		}
		return nil
	})
	return u, err
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

// NormalizeEmail is the one form of an email address that is stored and
// looked up (sign-up, sign-in, grants): trimmed, Unicode NFC, then
// case-folded, so look-alike spellings of one address are one account.
func NormalizeEmail(s string) string {
	return strings.ToLower(norm.NFC.String(strings.TrimSpace(s)))
}

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
