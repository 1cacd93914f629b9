package auth

import (
	"context"
	"errors"
	"fmt"

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
	u, err := scanUser(db.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
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

func updatePassword(ctx context.Context, db *pgxpool.Pool, id, hash string) (User, error) {
	u, err := scanUser(db.QueryRow(ctx, `
		UPDATE users SET password_hash = $2, auth_epoch = auth_epoch + 1, updated_at = now()
		WHERE id = $1 RETURNING `+userColumns, id, hash))
	if err != nil {
		return User{}, fmt.Errorf("auth: update password of %s: %w", id, err)
	}
	return u, nil
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
