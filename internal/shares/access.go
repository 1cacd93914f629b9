package shares

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/database"
	"github.com/weupload/weupload/internal/password"
	"github.com/weupload/weupload/internal/ratelimit"
)

// Visitor is whoever presents a token: their client IP (for throttling) and
// the unlocks their session holds.
type Visitor struct {
	ClientIP string
	// Unlock returns the unlock the visitor holds for a link or upload
	// request id, or the zero Unlock. Nil means none at all.
	Unlock func(id string) Unlock
}

// Unlock is the proof that a visitor typed the password of a link or an
// upload request, remembered in their session (for that one only) until
// ExpiresAt. It names the password version, so changing or removing the
// password ends it.
type Unlock struct {
	// ID is the link or upload request it opens.
	ID        string
	Version   int
	ExpiresAt time.Time
}

// String encodes the unlock for a session value ("<version>.<unix expiry>").
func (u Unlock) String() string {
	return strconv.Itoa(u.Version) + "." + strconv.FormatInt(u.ExpiresAt.Unix(), 10)
}

// ParseUnlock decodes a session value written by String; junk gives the
// zero Unlock, which opens nothing.
func ParseUnlock(linkID, s string) Unlock {
	v, exp, ok := strings.Cut(s, ".")
	if !ok {
		return Unlock{}
	}
	version, err1 := strconv.Atoi(v)
	unix, err2 := strconv.ParseInt(exp, 10, 64)
	if err1 != nil || err2 != nil {
		return Unlock{}
	}
	return Unlock{ID: linkID, Version: version, ExpiresAt: time.Unix(unix, 0)}
}

// The recipient's answers. Unknown and revoked links (and those whose owner
// or contents are gone) look the same; expired and used-up ones say so.
var (
	errNoSuchLink = apperr.Errorf(apperr.NotFound, "This link does not exist, or it has been turned off by the person who shared it.")
	errExpired    = apperr.Errorf(apperr.Gone, "This link has expired. Ask the person who shared it for a new one.")
	errExhausted  = apperr.Errorf(apperr.Gone, "This link has reached its download limit. Ask the person who shared it for a new one.")
	errLocked     = apperr.Errorf(apperr.Unauthorized, "This link is protected by a password.")
	errPassword   = &apperr.Error{Code: apperr.Unauthorized, Message: "That password is not right. Please try again.",
		Fields: map[string]string{"password": "That password is not right. Please try again."}}
	errSharedFileGone = apperr.Errorf(apperr.NotFound, "This file is no longer shared by this link.")
)

// noRows reports pgx's "no row" answer.
func noRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// IsLocked reports whether err means "type the link's password first".
func IsLocked(err error) bool { return err == errLocked }

// What links and upload requests share: a token that finds the item, its
// owner, a password, an expiry and an end (revoked, closed). A resource
// names the table of each kind of item and the answers a visitor gets.
type resource struct {
	name       string // in error messages
	table      string
	noteColumn string // note or message
	endColumn  string // revoked_at or closed_at
	lastAccess bool   // a view also sets last_access_at
	// throttle prefixes the per-item key of wrong passwords.
	throttle string
	// The visitor's answers: unknown token, ended, expired, password
	// needed; the owner's: unknown id, update of an ended item.
	errUnknownToken, errEnded, errExpired, errLocked error
	errNotFound, errUpdateEnded                      error
}

var (
	links = resource{name: "link", table: "share_links", noteColumn: "note", endColumn: "revoked_at", lastAccess: true,
		throttle: "share:link:", errUnknownToken: errNoSuchLink, errEnded: errNoSuchLink, errExpired: errExpired, errLocked: errLocked,
		errNotFound: errLinkNotFound, errUpdateEnded: apperr.Errorf(apperr.Conflict, "This link has been revoked; create a new one instead.")}
	requests = resource{name: "request", table: "upload_requests", noteColumn: "message", endColumn: "closed_at",
		throttle: "share:request:", errUnknownToken: errNoSuchRequest, errEnded: errRequestClosed, errExpired: errRequestExpired, errLocked: errRequestLocked,
		errNotFound: errRequestNotFound, errUpdateEnded: apperr.Errorf(apperr.Conflict, "This upload link has been closed; create a new one instead.")}
)

// gate is an item as the visitor side needs it.
type gate struct {
	id, ownerID, ownerName string
	folderID               string // "" for none (the root, or a files link)
	title, note            string
	passwordHash           string // "" for none
	passwordVersion        int
	expiresAt, endedAt     *time.Time
}

// find finds the item of a token, whatever its state, scanning the
// resource's extra columns into dest. Errors: NotFound, Unavailable.
func (s *Service) find(ctx context.Context, q database.Querier, res resource, token string, lock bool, extra string, dest ...any) (gate, error) {
	if !wellFormed(token) {
		return gate{}, res.errUnknownToken
	}
	g, err := findByToken(ctx, q, res, hashToken(token), lock, extra, dest...)
	if noRows(err) {
		return gate{}, res.errUnknownToken
	}
	if err != nil {
		return gate{}, apperr.Wrap(err, "shares: resolve %s", res.name)
	}
	return g, nil
}

// open is the answer for an item that ended or expired, nil while it is
// open. Errors: NotFound or Gone (ended, by resource), Gone (expired).
func (g gate) open(res resource, now time.Time) error {
	switch {
	case g.endedAt != nil:
		return res.errEnded
	case g.expiresAt != nil && !g.expiresAt.After(now):
		return res.errExpired
	}
	return nil
}

// admit is the password half of every decision on the visitor side: an
// item with a password needs the visitor's live unlock of its current
// password version. Errors: Unauthorized (locked).
func (s *Service) admit(res resource, g gate, v Visitor) error {
	if g.passwordHash == "" {
		return nil
	}
	var u Unlock
	if v.Unlock != nil {
		u = v.Unlock(g.id)
	}
	if u.ID == g.id && u.Version == g.passwordVersion && s.Now().Before(u.ExpiresAt) {
		return nil
	}
	return res.errLocked
}

// unlock checks the item's password and returns the unlock to remember;
// an item without a password needs none (the zero Unlock). Errors:
// Unauthorized, TooMany, Unavailable.
func (s *Service) unlock(ctx context.Context, res resource, g gate, given string, v Visitor) (Unlock, error) {
	if g.passwordHash == "" {
		return Unlock{}, nil
	}
	return s.checkPassword(ctx, res.throttle+g.id, g.id, g.passwordHash, g.passwordVersion, given, v)
}

// update applies u to the owner's item unless it has ended. Errors:
// NotFound, Conflict (ended), Unavailable.
func (s *Service) update(ctx context.Context, res resource, ownerID, id string, u itemUpdate) error {
	err := database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		ended, err := lockItem(ctx, tx, res, ownerID, id)
		if noRows(err) {
			return res.errNotFound
		}
		if err != nil {
			return err
		}
		if ended {
			return res.errUpdateEnded
		}
		return updateItem(ctx, tx, res, ownerID, id, u, s.now())
	})
	return apperr.Wrap(err, "shares: update %s %s", res.name, id)
}

// end ends the owner's item (revoke, close); ending it again does nothing.
// Errors: NotFound, Unavailable.
func (s *Service) end(ctx context.Context, res resource, ownerID, id string) error {
	if !validIDs(id) {
		return res.errNotFound
	}
	ok, err := endItem(ctx, s.pool, res, ownerID, id, s.now())
	if err != nil {
		return apperr.Wrap(err, "shares: end %s %s", res.name, id)
	}
	if !ok {
		return res.errNotFound
	}
	return nil
}

// checkUpdate validates the options every item has as given to an update
// (nil: not given) plus maxDownloads, lets own add the resource's checks to
// the field messages, hashes a new password, and returns the update of
// those options. Errors: Invalid.
func (s *Service) checkUpdate(ctx context.Context, noteField string, title, note *string, pw Optional[string], expires Optional[time.Time], maxDownloads *int, own func(fields map[string]string)) (itemUpdate, error) {
	fields := map[string]string{}
	var t, n string
	if title != nil {
		t = *title
	}
	if note != nil {
		n = *note
	}
	o := s.validateOptions(fields, noteField, t, n, pw.Value, expires.Value, maxDownloads)
	if own != nil {
		own(fields)
	}
	if len(fields) > 0 {
		return itemUpdate{}, apperr.InvalidFields(fields)
	}
	if pw.Value != nil {
		if err := s.hashPassword(ctx, &o, *pw.Value); err != nil {
			return itemUpdate{}, err
		}
	}
	u := itemUpdate{setPassword: pw.Set, passwordHash: o.passwordHash, setExpiry: expires.Set, expiresAt: o.expiresAt}
	if title != nil {
		u.title = &o.title
	}
	if note != nil {
		u.note = &o.note
	}
	return u, nil
}

// checkPassword verifies the password of the item id, throttled per item
// (key) and per client IP: each try is taken from both allowances before
// verifying (so concurrent tries cannot all pass) and given back when right;
// while either is used up even the right password is refused. Errors:
// Unauthorized, TooMany, Unavailable.
func (s *Service) checkPassword(ctx context.Context, key, id, hash string, version int, given string, v Visitor) (Unlock, error) {
	tries := []ratelimit.Attempt{{Key: key, Rule: s.cfg.LinkRule}, {Key: "share:ip:" + v.ClientIP, Rule: s.cfg.IPRule}}
	if err := s.limiter.TakeAll(ctx, tries...); err != nil {
		return Unlock{}, err
	}
	ok := false
	if given != "" && !password.TooLong(given) {
		var err error
		if ok, err = s.cfg.Hasher.Verify(ctx, given, hash); apperr.Is(err, apperr.Unavailable) {
			return Unlock{}, errors.Join(err, s.limiter.Refund(ctx, tries...)) // not tried: not counted
		} else if err != nil {
			return Unlock{}, apperr.Wrap(err, "shares: verify password of %s", id)
		}
	}
	if !ok {
		return Unlock{}, errPassword
	}
	if err := s.limiter.Refund(ctx, tries...); err != nil {
		return Unlock{}, err
	}
	return Unlock{ID: id, Version: version, ExpiresAt: s.Now().Add(s.cfg.UnlockTTL).Truncate(time.Second)}, nil
}

// tokenBytes is the entropy of a token: 192 bits, 32 URL-safe characters.
const tokenBytes = 24

// newItem returns the id of a new item, chosen here because the sealed
// token is bound to it, with the item's token hash and sealed token.
func (s *Service) newItem(res resource) (id string, hash, sealed []byte, err error) {
	b := make([]byte, tokenBytes+16)
	if _, err := rand.Read(b); err != nil {
		return "", nil, nil, fmt.Errorf("shares: token: %w", err)
	}
	t := base64.RawURLEncoding.EncodeToString(b[:tokenBytes])
	u := b[tokenBytes:]
	u[6], u[8] = u[6]&0x0f|0x40, u[8]&0x3f|0x80 // UUID version 4, variant 10
	id = fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
	return id, hashToken(t), s.sealer.seal(res, id, t), nil
}

func hashToken(t string) []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}

// wellFormed reports whether t could be a token (so junk never reaches the
// database).
func wellFormed(t string) bool {
	if len(t) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(t)
	return err == nil
}
