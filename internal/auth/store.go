package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weupload/weupload/internal/database"
)

var errEmailTaken = errors.New("auth: email taken")

const userColumns = `id, email, display_name, is_admin, auth_epoch, created_at`

func scanUser(row pgx.Row, extra ...any) (User, error) {
	var u User
	err := row.Scan(append([]any{&u.ID, &u.Email, &u.DisplayName, &u.IsAdmin, &u.AuthEpoch, &u.CreatedAt}, extra...)...)
	return u, err
}

func insertUser(ctx context.Context, db *pgxpool.Pool, email, name, hash string, admin bool) (User, error) {
	u, err := scanUser(db.QueryRow(ctx, `
		INSERT INTO users (email, display_name, password_hash, is_admin) VALUES ($1, $2, $3, $4)
		RETURNING `+userColumns, email, name, hash, admin))
	if database.IsUniqueViolation(err, "users_email_key") {
		return User{}, errEmailTaken
	}
	if err != nil {
		return User{}, fmt.Errorf("auth: insert user: %w", err)
	}
	return u, nil
}

// findUserByEmail returns pgx.ErrNoRows unwrapped for an unknown email.
func findUserByEmail(ctx context.Context, db *pgxpool.Pool, email string) (User, string, error) {
	var hash string
	u, err := scanUser(db.QueryRow(ctx, `SELECT `+userColumns+`, password_hash FROM users WHERE email = $1`, email), &hash)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return User{}, "", fmt.Errorf("auth: find user by email: %w", err)
	}
	return u, hash, err
}

// findUserByID returns pgx.ErrNoRows unwrapped for an unknown id, including
// one that is not a valid UUID.
func findUserByID(ctx context.Context, db *pgxpool.Pool, id string) (User, error) {
	if !database.ValidID(id) {
		return User{}, pgx.ErrNoRows
	}
	// Every signed-in request runs this: a connection lost under it is read
	// again on another one rather than answered with 503.
	var u User
	err := database.RetryRead(ctx, func(ctx context.Context) (err error) {
		u, err = scanUser(db.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
		return err
	})
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return User{}, fmt.Errorf("auth: find user %s: %w", id, err)
	}
	return u, err
}

func passwordHashByID(ctx context.Context, db *pgxpool.Pool, id string) (string, error) {
	if !database.ValidID(id) {
		return "", pgx.ErrNoRows
	}
	var hash string
	err := db.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1`, id).Scan(&hash)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("auth: password of %s: %w", id, err)
	}
	return hash, err
}

func updatePassword(ctx context.Context, db database.Querier, id, hash string) (User, error) {
	u, err := scanUser(db.QueryRow(ctx, `
		UPDATE users SET password_hash = $2, auth_epoch = auth_epoch + 1, updated_at = now()
		WHERE id = $1 RETURNING `+userColumns, id, hash))
	if err != nil {
		return User{}, fmt.Errorf("auth: update password of %s: %w", id, err)
	}
	return u, nil
}

// deleteTokens revokes every API token of the user.
func deleteTokens(ctx context.Context, db database.Querier, userID string) error {
	if _, err := db.Exec(ctx, `DELETE FROM api_tokens WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("auth: delete tokens of %s: %w", userID, err)
	}
	return nil
}

func updateDisplayName(ctx context.Context, db *pgxpool.Pool, id, name string) (User, error) {
	if !database.ValidID(id) {
		return User{}, pgx.ErrNoRows
	}
	u, err := scanUser(db.QueryRow(ctx, `
		UPDATE users SET display_name = $2, updated_at = now() WHERE id = $1 RETURNING `+userColumns, id, name))
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return User{}, fmt.Errorf("auth: update name of %s: %w", id, err)
	}
	return u, err
}

const tokenColumns = `id, name, prefix, scopes, expires_at, last_used_at, created_at`

func scanToken(row pgx.Row, extra ...any) (Token, error) {
	var t Token
	err := row.Scan(append([]any{&t.ID, &t.Name, &t.Prefix, &t.Scopes, &t.ExpiresAt, &t.LastUsedAt, &t.CreatedAt}, extra...)...)
	return t, err
}

func insertToken(ctx context.Context, db *pgxpool.Pool, userID, name, prefix string, hash []byte, scopes []string, expires *time.Time) (Token, error) {
	t, err := scanToken(db.QueryRow(ctx, `
		INSERT INTO api_tokens (user_id, name, prefix, token_hash, scopes, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
		RETURNING `+tokenColumns, userID, name, prefix, hash, scopes, expires))
	if err != nil {
		return Token{}, fmt.Errorf("auth: insert token: %w", err)
	}
	return t, nil
}

func listTokens(ctx context.Context, db *pgxpool.Pool, userID string) ([]Token, error) {
	rows, err := db.Query(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("auth: list tokens: %w", err)
	}
	tokens, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Token, error) { return scanToken(r) })
	if err != nil {
		return nil, fmt.Errorf("auth: list tokens: %w", err)
	}
	return tokens, nil
}

// deleteToken deletes the user's token when within is nil or holds all its
// scopes, in one statement. It returns the token's scopes (nil when there
// is no such token) and whether it was deleted.
func deleteToken(ctx context.Context, db *pgxpool.Pool, userID, id string, within []string) ([]string, bool, error) {
	if !database.ValidID(id) {
		return nil, false, nil
	}
	var scopes []string
	var deleted bool
	err := db.QueryRow(ctx, `
		WITH t AS (SELECT id, scopes FROM api_tokens WHERE id = $1 AND user_id = $2),
		     d AS (DELETE FROM api_tokens WHERE id = (SELECT id FROM t) AND user_id = $2
		           AND ($3::text[] IS NULL OR scopes <@ $3::text[]) RETURNING id)
		SELECT (SELECT scopes FROM t), EXISTS (SELECT 1 FROM d)`, id, userID, within).Scan(&scopes, &deleted)
	if err != nil {
		return nil, false, fmt.Errorf("auth: delete token %s: %w", id, err)
	}
	return scopes, deleted, nil
}

// findToken returns pgx.ErrNoRows unwrapped for an unknown hash.
func findToken(ctx context.Context, db *pgxpool.Pool, hash []byte) (User, Token, error) {
	var u User
	var t Token
	// Every API request runs this read; see findUserByID.
	err := database.RetryRead(ctx, func(ctx context.Context) (err error) {
		t, err = scanToken(db.QueryRow(ctx, `
			SELECT t.id, t.name, t.prefix, t.scopes, t.expires_at, t.last_used_at, t.created_at,
			       u.id, u.email, u.display_name, u.is_admin, u.auth_epoch, u.created_at
			FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1`, hash),
			&u.ID, &u.Email, &u.DisplayName, &u.IsAdmin, &u.AuthEpoch, &u.CreatedAt)
		return err
	})
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return User{}, Token{}, fmt.Errorf("auth: find token: %w", err)
	}
	return u, t, err
}

func touchToken(ctx context.Context, db *pgxpool.Pool, id string, now time.Time) error {
	if _, err := db.Exec(ctx, `UPDATE api_tokens SET last_used_at = $2 WHERE id = $1`, id, now); err != nil {
		return fmt.Errorf("auth: touch token %s: %w", id, err)
	}
	return nil
}
