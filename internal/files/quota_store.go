package files

import (
	"context"

	"github.com/weupload/weupload/internal/database"
)

// SQL of the quotas table. Its key user_id is the owner's id (the table has
// no owner_id column), so every change names user_id.

// findUsage reads the owner's quota row; pgx.ErrNoRows when there is none.
func findUsage(ctx context.Context, q database.Querier, ownerID string, defaultQuota int64) (Usage, error) {
	var u Usage
	err := q.QueryRow(ctx, `SELECT used_bytes, reserved_bytes, coalesce(quota_bytes, $2) FROM quotas WHERE user_id = $1`,
		ownerID, defaultQuota).Scan(&u.Used, &u.Reserved, &u.Quota)
	return u, err
}

// setQuota overrides the user's quota; nil restores the default.
func setQuota(ctx context.Context, q database.Querier, userID string, quota *int64) error {
	_, err := q.Exec(ctx, `
		INSERT INTO quotas (user_id, quota_bytes) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET quota_bytes = EXCLUDED.quota_bytes`, userID, quota)
	return err
}
