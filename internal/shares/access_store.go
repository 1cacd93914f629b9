package shares

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weupload/weupload/internal/database"
)

// SQL of what links and upload requests share (access.go): finding one by
// its token's hash, and the owner's lock, update and end of one. The table
// and column names come from the two resource values, never from input.
// Every statement an owner makes carries owner_id; the visitor's start from
// a token hash and then carry the item's owner_id.

// findByToken loads the item whose token has this hash, with its owner's
// name (the join also drops items whose owner is gone), and scans the
// resource's extra columns into dest; lock adds FOR UPDATE (of the item's
// row). pgx.ErrNoRows when there is none.
func findByToken(ctx context.Context, q database.Querier, res resource, hash []byte, lock bool, extra string, dest ...any) (gate, error) {
	sql := `
		SELECT t.id, t.owner_id, u.display_name, coalesce(t.folder_id::text, ''), t.title, t.` + res.noteColumn + `,
		       coalesce(t.password_hash, ''), t.password_version, t.expires_at, t.` + res.endColumn + extra + `
		FROM ` + res.table + ` t JOIN users u ON u.id = t.owner_id
		WHERE t.token_hash = $1`
	if lock {
		sql += ` FOR UPDATE OF t`
	}
	var g gate
	err := q.QueryRow(ctx, sql, hash).Scan(append([]any{&g.id, &g.ownerID, &g.ownerName, &g.folderID, &g.title, &g.note,
		&g.passwordHash, &g.passwordVersion, &g.expiresAt, &g.endedAt}, dest...)...)
	return g, err
}

// lockItem locks the owner's item for an update and reports whether it has
// ended (revoked, closed); pgx.ErrNoRows when there is no such item.
func lockItem(ctx context.Context, q database.Querier, res resource, ownerID, id string) (bool, error) {
	var ended bool
	err := q.QueryRow(ctx, `SELECT `+res.endColumn+` IS NOT NULL FROM `+res.table+` WHERE id = $1 AND owner_id = $2 FOR UPDATE`,
		id, ownerID).Scan(&ended)
	return ended, err
}

// itemUpdate says which options change; a nil pointer with its set flag
// clears the option. limits are the resource's own columns.
type itemUpdate struct {
	title, note  *string
	setPassword  bool
	passwordHash *string
	setExpiry    bool
	expiresAt    *time.Time
	limits       []limitUpdate
}

// limitUpdate sets column to value (nil: no limit) when set.
type limitUpdate struct {
	column string
	set    bool
	value  any
}

// updateItem applies u to the owner's item. updated_at always moves
// forward, so two updates in one clock tick still differ.
func updateItem(ctx context.Context, q database.Querier, res resource, ownerID, id string, u itemUpdate, now time.Time) error {
	args := []any{id, ownerID, now, u.title, u.note, u.setPassword, u.passwordHash, u.setExpiry, u.expiresAt}
	var sets strings.Builder
	for _, l := range u.limits {
		args = append(args, l.set, l.value)
		fmt.Fprintf(&sets, ",\n\t\t\t%s = CASE WHEN $%d THEN $%d ELSE %s END", l.column, len(args)-1, len(args), l.column)
	}
	_, err := q.Exec(ctx, `
		UPDATE `+res.table+` SET
			title = coalesce($4, title),
			`+res.noteColumn+` = coalesce($5, `+res.noteColumn+`),
			password_hash = CASE WHEN $6 THEN $7 ELSE password_hash END,
			password_version = password_version + CASE WHEN $6 THEN 1 ELSE 0 END,
			expires_at = CASE WHEN $8 THEN $9 ELSE expires_at END`+sets.String()+`,
			updated_at = greatest($3, updated_at + interval '1 microsecond')
		WHERE id = $1 AND owner_id = $2`, args...)
	if err != nil {
		return fmt.Errorf("update %s: %w", res.name, err)
	}
	return nil
}

// endItem ends the owner's item (revokes a link, closes a request),
// keeping the first time, and reports whether the item exists.
func endItem(ctx context.Context, q database.Querier, res resource, ownerID, id string, now time.Time) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE `+res.table+` SET `+res.endColumn+` = coalesce(`+res.endColumn+`, $3), updated_at = $3
		WHERE id = $1 AND owner_id = $2`, id, ownerID, now)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// countView records a visit of the item's page (for a link, when).
func countView(ctx context.Context, q database.Querier, res resource, ownerID, id string, now time.Time) error {
	args := []any{id, ownerID}
	sets := ""
	if res.lastAccess {
		sets, args = `, last_access_at = $3`, append(args, now)
	}
	_, err := q.Exec(ctx, `UPDATE `+res.table+` SET views = views + 1`+sets+` WHERE id = $1 AND owner_id = $2`, args...)
	return err
}

// owned selects an owner's items, or with single the one of id.
type owned struct {
	ownerID, id string
	single      bool
}

// byID selects the owner's item id (none when id is empty or malformed).
func byID(ownerID, id string) owned { return owned{ownerID: ownerID, id: id, single: true} }

// valid reports whether the ids can be ids at all (a malformed one is
// simply not found).
func (o owned) valid() bool { return validIDs(o.ownerID) && (!o.single || validIDs(o.id)) }

// ownerWhere starts the WHERE clause of an owner's listing, on the table
// aliased as alias: the owner ($1), the limit ($2) and, when o.id is not
// empty, that one item ($3).
func ownerWhere(alias string, o owned, limit int) (string, []any) {
	where, args := alias+`.owner_id = $1`, []any{o.ownerID, limit}
	if o.id != "" {
		args = append(args, o.id)
		where += ` AND ` + alias + `.id = $3`
	}
	return where, args
}

// collect runs a query and scans each row into the fields of a T.
func collect[T any](ctx context.Context, q database.Querier, sql string, args []any, fields func(*T) []any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) {
		var v T
		err := r.Scan(fields(&v)...)
		return v, err
	})
}

// insertItem makes the owner's item id with its token (its hash and sealed
// form, never the token itself), options and the resource's own columns.
func insertItem(ctx context.Context, q database.Querier, res resource, id, ownerID string, hash, sealed []byte, folderID string, o options, own []limitUpdate, now time.Time) error {
	var folder *string
	if folderID != "" {
		folder = &folderID
	}
	cols := `id, owner_id, token_hash, token_sealed, folder_id, title, ` + res.noteColumn + `, password_hash, expires_at, created_at, updated_at`
	vals := `$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10`
	args := []any{id, ownerID, hash, sealed, folder, o.title, o.note, o.passwordHash, o.expiresAt, now}
	for _, c := range own {
		args = append(args, c.value)
		cols += ", " + c.column
		vals += fmt.Sprintf(", $%d", len(args))
	}
	if _, err := q.Exec(ctx, `INSERT INTO `+res.table+` (`+cols+`) VALUES (`+vals+`)`, args...); err != nil {
		return fmt.Errorf("insert %s: %w", res.name, err)
	}
	return nil
}
