package shares

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/database"
)

// Tokens are stored sealed (AES-256-GCM under the link key), never in plain
// text: the database alone gives no usable link, while the service can
// still show the owner the URL to copy. The additional data binds a sealed
// token to its table and row, so one copied onto another row does not open.

// LinkKeySize is the size of a link key: AES-256.
const LinkKeySize = 32

// errUnsealable is a sealed token that no configured key opens.
var errUnsealable = errors.New("sealed token does not open with the link key")

// sealer seals and opens tokens; previous (optional) only opens, so a key
// can be rotated without losing the owner's copy of older links.
type sealer struct {
	current, previous cipher.AEAD
}

func newSealer(key, previous []byte) *sealer {
	if key == nil {
		// Tests and tools that never restart against the same rows.
		key = make([]byte, LinkKeySize)
		_, _ = rand.Read(key)
	}
	s := &sealer{current: newAEAD(key)}
	if previous != nil {
		s.previous = newAEAD(previous)
	}
	return s
}

// newAEAD panics on a key of the wrong size: config validates LINK_KEY, so
// that is a programming error.
func newAEAD(key []byte) cipher.AEAD {
	if len(key) != LinkKeySize {
		panic(fmt.Sprintf("shares: link key has %d bytes, want %d", len(key), LinkKeySize))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		panic(err)
	}
	return a
}

// additional is the data a sealed token is bound to: its table and row.
func additional(res resource, id string) []byte {
	return []byte("weupload-link-token\x00" + res.table + "\x00" + id)
}

// seal returns nonce || ciphertext of the token of row id.
func (s *sealer) seal(res resource, id, token string) []byte {
	nonce := make([]byte, s.current.NonceSize(), s.current.NonceSize()+len(token)+s.current.Overhead())
	_, _ = rand.Read(nonce)
	return s.current.Seal(nonce, nonce, []byte(token), additional(res, id))
}

// open returns the token sealed for row id, trying the previous key second.
func (s *sealer) open(res resource, id string, sealed []byte) (string, error) {
	for _, a := range []cipher.AEAD{s.current, s.previous} {
		if a == nil || len(sealed) < a.NonceSize() {
			continue
		}
		n := a.NonceSize()
		if t, err := a.Open(nil, sealed[:n], sealed[n:], additional(res, id)); err == nil {
			return string(t), nil
		}
	}
	return "", errUnsealable
}

// ownerToken returns the token of the owner's item: the sealed one opened,
// or a plain one not sealed yet (a row an older instance wrote during a
// rolling deploy). "" when it does not open (a wrong or missing key, or a
// value moved from another row): logged, and the owner sees the link as
// unavailable rather than an error, while visitors keep using it.
func (s *Service) ownerToken(res resource, id, plain string, sealed []byte) string {
	if sealed == nil {
		return plain
	}
	t, err := s.sealer.open(res, id, sealed)
	if err != nil {
		s.cfg.Log.Error("shares: cannot open a stored token", "table", res.table, "id", id, "err", err)
		return ""
	}
	return t
}

// sealBatch is how many rows one transaction of SealPlainTokens seals.
const sealBatch = 500

// SealPlainTokens seals every token still stored in plain text (rows
// written before tokens were sealed) and clears the plain text, in batches.
// It is idempotent, and instances running it at once share the work: each
// batch locks its rows with SKIP LOCKED. It returns how many it sealed.
func (s *Service) SealPlainTokens(ctx context.Context) (int, error) {
	total := 0
	for _, res := range []resource{links, requests} {
		for {
			n := 0
			err := database.InTx(ctx, s.pool, func(tx pgx.Tx) error {
				rows, err := lockPlainTokens(ctx, tx, res, sealBatch)
				if err != nil {
					return err
				}
				n = len(rows)
				ids := make([]string, len(rows))
				sealed := make([][]byte, len(rows))
				for i, r := range rows {
					ids[i], sealed[i] = r.id, s.sealer.seal(res, r.id, r.token)
				}
				return storeSealed(ctx, tx, res, ids, sealed)
			})
			if err != nil {
				return total, apperr.Wrap(err, "shares: seal plain tokens of %s", res.table)
			}
			total += n
			if n < sealBatch {
				break
			}
		}
	}
	return total, nil
}
