// Package password hashes and verifies passwords with argon2id. Accounts and
// password-protected links and upload requests use it, so one policy (cost,
// length limits, format) holds everywhere.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/weupload/weupload/internal/apperr"
)

// Params are the argon2id cost parameters. The defaults follow OWASP's
// password storage cheat sheet (19 MiB, 2 passes, 1 lane).
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// Default is used for new hashes.
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

// Length limits, in characters. The upper bound only keeps hashing cost
// bounded; nothing is truncated.
const (
	MinLen = 8
	MaxLen = 1024
)

// TooLong reports whether pw is beyond what any valid password can be (in
// bytes, so it is cheap): such a try is refused without hashing.
func TooLong(pw string) bool { return len(pw) > 4*MaxLen }

// Problem returns why pw cannot be a new password, or "" when it can.
func Problem(pw string) string {
	switch n := utf8.RuneCountInString(pw); {
	case pw == "":
		return "Choose a password."
	case n < MinLen:
		return fmt.Sprintf("Use at least %d characters.", MinLen)
	case n > MaxLen:
		return fmt.Sprintf("Use at most %d characters.", MaxLen)
	}
	return ""
}

const saltLen, keyLen = 16, 32

// Hash returns a PHC-format argon2id hash of the whole password (no
// truncation, unlike bcrypt's 72 bytes).
func Hash(password string, p Params) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether password matches the encoded hash, comparing in
// constant time. The parameters come from the hash, so old hashes keep
// verifying after Default changes.
func Verify(password, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("password: unknown hash format")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errors.New("password: unsupported argon2 version")
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false, fmt.Errorf("password: bad argon2 parameters: %w", err)
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("password: bad salt: %w", err)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil {
		return false, fmt.Errorf("password: bad key: %w", err)
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// Hasher runs Hash and Verify with at most a fixed number at once. Each
// argon2id run holds Params.Memory (19 MiB by default) for its duration, so
// unbounded concurrent logins can exhaust memory; one Hasher is shared by
// every caller in the process (accounts, links, upload links).
type Hasher struct {
	// Params are the cost of new hashes.
	Params Params
	// Wait is how long a call waits for a free slot before it is refused
	// (a short queue absorbs bursts without holding memory).
	Wait  time.Duration
	slots chan struct{}
}

// DefaultSlots is the number of hashes to run at once: about two per core.
func DefaultSlots() int { return 2 * runtime.GOMAXPROCS(0) }

// NewHasher returns a Hasher that runs at most slots hashes at once.
func NewHasher(p Params, slots int) *Hasher {
	if slots < 1 {
		slots = 1
	}
	return &Hasher{Params: p, Wait: time.Second, slots: make(chan struct{}, slots)}
}

// errBusy is the answer when every slot stays taken for Wait.
var errBusy = &apperr.Error{Code: apperr.Unavailable, Message: "The server is busy. Please try again in a moment.", RetryAfter: 2 * time.Second}

// acquire takes a slot, waiting at most h.Wait. Errors: Unavailable.
func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	if h.Wait <= 0 {
		return errBusy
	}
	t := time.NewTimer(h.Wait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-t.C:
		return errBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash is Hash with h's parameters, within h's bound. Errors: Unavailable
// when the server is busy hashing.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return Hash(pw, h.Params)
}

// Verify is Verify within h's bound. Errors: Unavailable when the server is
// busy hashing.
func (h *Hasher) Verify(ctx context.Context, pw, encoded string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	return Verify(pw, encoded)
}
