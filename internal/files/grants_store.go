package files

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weupload/weupload/internal/database"
)

// SQL of grants (sharing with people). Every change carries the grant's
// owner_id.

// userIDByEmail finds an account by its (normalised) email.
func userIDByEmail(ctx context.Context, q database.Querier, email string) (string, error) {
	var id string
	err := q.QueryRow(ctx, `SELECT id FROM users WHERE email = $1`, email).Scan(&id)
	return id, err
}

// upsertGrant shares an entry, or changes the role when it is already
// shared with the grantee, and returns the grant's id. The update touches
// only a grant of the same owner (an entry has one owner, so another's
// grant on it cannot exist; pgx.ErrNoRows if it ever did).
func upsertGrant(ctx context.Context, q database.Querier, ownerID, granteeID string, folderID, fileID *string, role Role, now time.Time) (string, error) {
	conflict := `(folder_id, grantee_id) WHERE folder_id IS NOT NULL`
	if fileID != nil {
		conflict = `(file_id, grantee_id) WHERE file_id IS NOT NULL`
	}
	var id string
	err := q.QueryRow(ctx, `
		INSERT INTO grants (owner_id, grantee_id, folder_id, file_id, role, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6)
		ON CONFLICT `+conflict+` DO UPDATE SET role = EXCLUDED.role, updated_at = EXCLUDED.updated_at
		WHERE grants.owner_id = EXCLUDED.owner_id
		RETURNING id`, ownerID, granteeID, folderID, fileID, role, now).Scan(&id)
	return id, err
}

// grantQuery selects grants: one by id (made or received by userID), those
// an owner made (optionally of one entry), or those a grantee received.
type grantQuery struct {
	id, userID       string
	ownerID          string
	folderID, fileID string
	granteeID        string
}

// findGrants returns the grants on live entries matching gq, newest first.
func findGrants(ctx context.Context, q database.Querier, gq grantQuery) ([]Grant, error) {
	var where string
	var args []any
	switch {
	case gq.id != "":
		where, args = `g.id = $1 AND (g.owner_id = $2 OR g.grantee_id = $2)`, []any{gq.id, gq.userID}
	case gq.granteeID != "":
		where, args = `g.grantee_id = $1`, []any{gq.granteeID}
	default:
		where, args = `g.owner_id = $1`, []any{gq.ownerID}
		if gq.folderID != "" {
			where, args = where+` AND g.folder_id = $2`, append(args, gq.folderID)
		} else if gq.fileID != "" {
			where, args = where+` AND g.file_id = $2`, append(args, gq.fileID)
		}
	}
	rows, err := q.Query(ctx, `
		SELECT g.id, g.owner_id, o.display_name, o.email, g.grantee_id, u.display_name, u.email,
			coalesce(g.folder_id::text, ''), coalesce(g.file_id::text, ''), coalesce(fo.name, fi.name),
			coalesce(fi.size, 0), coalesce(fi.scan_state, ''), g.role, g.created_at, g.updated_at
		FROM grants g
		JOIN users o ON o.id = g.owner_id
		JOIN users u ON u.id = g.grantee_id
		LEFT JOIN folders fo ON fo.id = g.folder_id
		LEFT JOIN files fi ON fi.id = g.file_id
		WHERE `+where+` AND coalesce(fo.trashed_at, fi.trashed_at) IS NULL
		ORDER BY g.created_at DESC, g.id DESC LIMIT `+fmt.Sprint(MaxGrants), args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Grant, error) {
		var g Grant
		err := r.Scan(&g.ID, &g.OwnerID, &g.OwnerName, &g.OwnerEmail, &g.GranteeID, &g.GranteeName, &g.GranteeEmail,
			&g.FolderID, &g.FileID, &g.Name, &g.Size, &g.ScanState, &g.Role, &g.CreatedAt, &g.UpdatedAt)
		return g, err
	})
}

// setGrantRole changes the role of one of the owner's grants and reports
// whether there was one.
func setGrantRole(ctx context.Context, q database.Querier, ownerID, id string, role Role, now time.Time) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE grants SET role = $3, updated_at = $4 WHERE id = $1 AND owner_id = $2`, id, ownerID, role, now)
	return tag.RowsAffected() == 1, err
}

// deleteGrant removes the owner's grant id when userID is a party to it
// (the owner, or the grantee leaving).
func deleteGrant(ctx context.Context, q database.Querier, ownerID, userID, id string) (bool, error) {
	tag, err := q.Exec(ctx, `DELETE FROM grants WHERE id = $1 AND owner_id = $2 AND (owner_id = $3 OR grantee_id = $3)`, id, ownerID, userID)
	return tag.RowsAffected() == 1, err
}
