package shares

import (
	"context"
	"fmt"
	"time"

	"github.com/weupload/weupload/internal/database"
)

// SQL of share links' own tables (share_links, share_link_files). What a
// link shows of the owner's files and folders comes from the files
// service's shared read model.

// linkColumns are the columns of a link beyond those every item has
// (findByToken), scanned by record.extra.
const linkColumns = `, t.kind, coalesce(t.max_downloads, 0), t.downloads,
	ARRAY(SELECT lf.file_id::text FROM share_link_files lf WHERE lf.link_id = t.id ORDER BY lf.position)`

func insertLinkFiles(ctx context.Context, q database.Querier, linkID string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := q.Exec(ctx, `INSERT INTO share_link_files (link_id, file_id, position)
		SELECT $1, f.id, f.n FROM unnest($2::uuid[]) WITH ORDINALITY AS f (id, n)`, linkID, ids)
	if err != nil {
		return fmt.Errorf("insert link files: %w", err)
	}
	return nil
}

// linkFilter selects an owner's links: one by id, those of a folder, or
// those of exactly a set of files.
type linkFilter struct {
	owned
	folderID string
	fileIDs  []string
}

// findLinks returns the owner's links matching f, newest first, without
// their Items (Service.list adds them).
func findLinks(ctx context.Context, q database.Querier, f linkFilter, limit int) ([]Link, error) {
	where, args := ownerWhere("l", f.owned, limit)
	switch {
	case f.id != "": // one link, by id (ownerWhere)
	case f.folderID != "":
		args = append(args, f.folderID)
		where += ` AND l.kind = 'folder' AND l.folder_id = $3`
	case len(f.fileIDs) > 0:
		args = append(args, f.fileIDs)
		where += ` AND l.kind = 'files'
			AND ARRAY(SELECT file_id FROM share_link_files WHERE link_id = l.id) @> $3::uuid[]
			AND ARRAY(SELECT file_id FROM share_link_files WHERE link_id = l.id) <@ $3::uuid[]`
	}
	return collect(ctx, q, `
		SELECT l.id, l.owner_id, coalesce(l.token, ''), l.token_sealed, l.kind, coalesce(l.folder_id::text, ''), l.title, l.note,
		       l.password_hash IS NOT NULL, l.expires_at, coalesce(l.max_downloads, 0), l.downloads, l.views,
		       l.last_access_at, l.revoked_at, l.created_at, l.updated_at,
		       ARRAY(SELECT lf.file_id::text FROM share_link_files lf WHERE lf.link_id = l.id ORDER BY lf.position)
		FROM share_links l
		WHERE `+where+`
		ORDER BY l.created_at DESC, l.id LIMIT $2`, args, func(l *Link) []any {
		return []any{&l.ID, &l.OwnerID, &l.Token, &l.sealed, &l.Kind, &l.FolderID, &l.Title, &l.Note,
			&l.HasPassword, &l.ExpiresAt, &l.MaxDownloads, &l.Downloads, &l.Views,
			&l.LastAccessAt, &l.RevokedAt, &l.CreatedAt, &l.UpdatedAt, &l.FileIDs}
	})
}

// findLinkState reloads what decides a link's state; pgx.ErrNoRows when
// it is gone.
func findLinkState(ctx context.Context, q database.Querier, ownerID, id string) (record, error) {
	var r record
	err := q.QueryRow(ctx, `SELECT l.expires_at, l.revoked_at, coalesce(l.max_downloads, 0), l.downloads
		FROM share_links l JOIN users u ON u.id = l.owner_id WHERE l.id = $1 AND l.owner_id = $2`, id, ownerID).Scan(
		&r.expiresAt, &r.endedAt, &r.maxDownloads, &r.downloads)
	r.id, r.ownerID = id, ownerID
	return r, err
}

// takeDownload counts one download if the link still allows one, in one
// conditional statement, so concurrent requests can never together pass the
// limit (nor a revocation or expiry that committed first).
func takeDownload(ctx context.Context, q database.Querier, ownerID, id string, now time.Time) (bool, error) {
	tag, err := q.Exec(ctx, `
		UPDATE share_links SET downloads = downloads + 1, last_access_at = $3
		WHERE id = $1 AND owner_id = $2 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $3)
		  AND (max_downloads IS NULL OR downloads < max_downloads)
		  AND EXISTS (SELECT 1 FROM users WHERE id = share_links.owner_id)`, id, ownerID, now)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// giveBackDownload undoes takeDownload when no URL could be issued after all.
func giveBackDownload(ctx context.Context, q database.Querier, ownerID, id string) error {
	_, err := q.Exec(ctx, `UPDATE share_links SET downloads = downloads - 1 WHERE id = $1 AND owner_id = $2 AND downloads > 0`, id, ownerID)
	return err
}
