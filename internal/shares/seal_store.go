package shares

import (
	"context"

	"github.com/weupload/weupload/internal/database"
)

// SQL of the sealing of plain tokens left by rows written before tokens
// were sealed (seal.go).

// plainToken is a row that still holds its token in plain text.
type plainToken struct {
	id, token string
}

// lockPlainTokens locks up to n rows whose token is still plain, skipping
// those another transaction (another instance sealing) holds.
func lockPlainTokens(ctx context.Context, q database.Querier, res resource, n int) ([]plainToken, error) {
	return collect(ctx, q, `SELECT id, token FROM `+res.table+`
		WHERE token IS NOT NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, []any{n}, func(p *plainToken) []any {
		return []any{&p.id, &p.token}
	})
}

// storeSealed replaces the plain tokens of the rows ids by their sealed ones.
func storeSealed(ctx context.Context, q database.Querier, res resource, ids []string, sealed [][]byte) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := q.Exec(ctx, `UPDATE `+res.table+` t SET token_sealed = s.sealed, token = NULL
		FROM unnest($1::uuid[], $2::bytea[]) AS s (id, sealed)
		WHERE t.id = s.id AND t.token IS NOT NULL`, ids, sealed)
	return err
}
