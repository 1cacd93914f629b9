package shares

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/weupload/weupload/internal/database"

	"github.com/jackc/pgx/v5"
)

// SQL of the service. Helpers take a database.Querier (pool or transaction). Every
// query an owner makes carries owner_id; the recipient's queries start from
// a token hash and then carry the link's owner_id, so a link can never reach
// another user's files.

// liveFolder reports whether folderID is a folder of the owner outside the
// trash.
func liveFolder(ctx context.Context, q database.Querier, ownerID, folderID string) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM folders WHERE id = $1 AND owner_id = $2 AND trashed_at IS NULL)`,
		folderID, ownerID).Scan(&ok)
	return ok, err
}

// countLiveFiles counts the ids that are files of the owner outside the trash.
func countLiveFiles(ctx context.Context, q database.Querier, ownerID string, ids []string) (int, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM files WHERE id = ANY ($1::uuid[]) AND owner_id = $2 AND trashed_at IS NULL`,
		ids, ownerID).Scan(&n)
	return n, err
}

func insertLink(ctx context.Context, q database.Querier, ownerID, token string, hash []byte, kind, folderID string, o options, now time.Time) (string, error) {
	var folder *string
	if kind == KindFolder {
		folder = &folderID
	}
	var id string
	err := q.QueryRow(ctx, `
		INSERT INTO share_links (owner_id, token_hash, token, kind, folder_id, title, note, password_hash, expires_at, max_downloads, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id`,
		ownerID, hash, token, kind, folder, o.title, o.note, o.passwordHash, o.expiresAt, o.maxDownloads, now).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("insert link: %w", err)
	}
	return id, nil
}

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
	ownerID  string
	id       string
	folderID string
	fileIDs  []string
}

// findLinks returns the owner's links matching f, newest first.
func findLinks(ctx context.Context, q database.Querier, f linkFilter, limit int) ([]Link, error) {
	where, args := `l.owner_id = $1`, []any{f.ownerID, limit}
	switch {
	case f.id != "":
		args = append(args, f.id)
		where += ` AND l.id = $3`
	case f.folderID != "":
		args = append(args, f.folderID)
		where += ` AND l.kind = 'folder' AND l.folder_id = $3`
	case len(f.fileIDs) > 0:
		args = append(args, f.fileIDs)
		where += ` AND l.kind = 'files'
			AND ARRAY(SELECT file_id FROM share_link_files WHERE link_id = l.id) @> $3::uuid[]
			AND ARRAY(SELECT file_id FROM share_link_files WHERE link_id = l.id) <@ $3::uuid[]`
	}
	rows, err := q.Query(ctx, `
		SELECT l.id, l.owner_id, l.token, l.kind, coalesce(l.folder_id::text, ''), l.title, l.note,
		       l.password_hash IS NOT NULL, l.expires_at, coalesce(l.max_downloads, 0), l.downloads, l.views,
		       l.last_access_at, l.revoked_at, l.created_at, l.updated_at,
		       ARRAY(SELECT lf.file_id::text FROM share_link_files lf WHERE lf.link_id = l.id ORDER BY lf.position),
		       CASE WHEN l.kind = 'folder' THEN coalesce(fo.name, '')
		            ELSE coalesce((SELECT f.name FROM share_link_files lf JOIN files f ON f.id = lf.file_id AND f.owner_id = l.owner_id
		                           WHERE lf.link_id = l.id ORDER BY f.trashed_at IS NULL DESC, lf.position LIMIT 1), '') END,
		       (SELECT count(*) FROM share_link_files lf JOIN files f ON f.id = lf.file_id AND f.owner_id = l.owner_id
		        WHERE lf.link_id = l.id AND f.trashed_at IS NULL),
		       fo.id IS NOT NULL AND fo.trashed_at IS NULL
		FROM share_links l LEFT JOIN folders fo ON fo.id = l.folder_id AND fo.owner_id = l.owner_id
		WHERE `+where+`
		ORDER BY l.created_at DESC, l.id LIMIT $2`, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Link, error) {
		var l Link
		var folderLive bool
		err := r.Scan(&l.ID, &l.OwnerID, &l.Token, &l.Kind, &l.FolderID, &l.Title, &l.Note,
			&l.HasPassword, &l.ExpiresAt, &l.MaxDownloads, &l.Downloads, &l.Views,
			&l.LastAccessAt, &l.RevokedAt, &l.CreatedAt, &l.UpdatedAt,
			&l.FileIDs, &l.Items.Name, &l.Items.Files, &folderLive)
		if l.Kind == KindFolder {
			l.Items.Files = 0
			l.Items.Available = folderLive
		} else {
			l.Items.Available = l.Items.Files > 0
		}
		return l, err
	})
}

// lockLink locks the owner's link for an update and reports whether it is
// revoked; pgx.ErrNoRows when there is no such link.
func lockLink(ctx context.Context, q database.Querier, ownerID, id string) (bool, error) {
	var revoked bool
	err := q.QueryRow(ctx, `SELECT revoked_at IS NOT NULL FROM share_links WHERE id = $1 AND owner_id = $2 FOR UPDATE`,
		id, ownerID).Scan(&revoked)
	return revoked, err
}

// linkUpdate says which options change; a nil pointer with its set flag
// clears the option.
type linkUpdate struct {
	title, note  *string
	setPassword  bool
	passwordHash *string
	setExpiry    bool
	expiresAt    *time.Time
	setMax       bool
	maxDownloads *int
}

func updateLink(ctx context.Context, q database.Querier, id string, u linkUpdate, now time.Time) error {
	_, err := q.Exec(ctx, `
		UPDATE share_links SET
			title = coalesce($2, title),
			note = coalesce($3, note),
			password_hash = CASE WHEN $4 THEN $5 ELSE password_hash END,
			password_version = password_version + CASE WHEN $4 THEN 1 ELSE 0 END,
			expires_at = CASE WHEN $6 THEN $7 ELSE expires_at END,
			max_downloads = CASE WHEN $8 THEN $9 ELSE max_downloads END,
			updated_at = $10
		WHERE id = $1`,
		id, u.title, u.note, u.setPassword, u.passwordHash, u.setExpiry, u.expiresAt, u.setMax, u.maxDownloads, now)
	if err != nil {
		return fmt.Errorf("update link: %w", err)
	}
	return nil
}

// revokeLink marks the owner's link revoked (keeping the first revocation
// time) and reports whether the link exists.
func revokeLink(ctx context.Context, q database.Querier, ownerID, id string, now time.Time) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE share_links SET revoked_at = coalesce(revoked_at, $3), updated_at = $3
		WHERE id = $1 AND owner_id = $2`, id, ownerID, now)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// record is a link as the recipient side needs it.
type record struct {
	id, ownerID, ownerName string
	kind, folderID         string
	title, note            string
	passwordHash           string // "" for none
	passwordVersion        int
	expiresAt, revokedAt   *time.Time
	maxDownloads           int
	downloads              int
}

// findByToken loads the link whose token has this hash, with its owner's
// name (the join also drops links whose owner is gone); pgx.ErrNoRows when
// there is none.
func findByToken(ctx context.Context, q database.Querier, hash []byte) (record, error) {
	var r record
	err := q.QueryRow(ctx, `
		SELECT l.id, l.owner_id, u.display_name, l.kind, coalesce(l.folder_id::text, ''), l.title, l.note,
		       coalesce(l.password_hash, ''), l.password_version, l.expires_at, l.revoked_at,
		       coalesce(l.max_downloads, 0), l.downloads
		FROM share_links l JOIN users u ON u.id = l.owner_id
		WHERE l.token_hash = $1`, hash).Scan(
		&r.id, &r.ownerID, &r.ownerName, &r.kind, &r.folderID, &r.title, &r.note,
		&r.passwordHash, &r.passwordVersion, &r.expiresAt, &r.revokedAt, &r.maxDownloads, &r.downloads)
	return r, err
}

// findByID reloads a link for the recipient side; pgx.ErrNoRows when gone.
func findByID(ctx context.Context, q database.Querier, id string) (record, error) {
	var r record
	err := q.QueryRow(ctx, `SELECT l.expires_at, l.revoked_at, coalesce(l.max_downloads, 0), l.downloads
		FROM share_links l JOIN users u ON u.id = l.owner_id WHERE l.id = $1`, id).Scan(
		&r.expiresAt, &r.revokedAt, &r.maxDownloads, &r.downloads)
	r.id = id
	return r, err
}

// countView records a landing-page view.
func countView(ctx context.Context, q database.Querier, id string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE share_links SET views = views + 1, last_access_at = $2 WHERE id = $1`, id, now)
	return err
}

// takeDownload counts one download if the link still allows one, in one
// conditional statement, so concurrent requests can never together pass the
// limit (nor a revocation or expiry that committed first).
func takeDownload(ctx context.Context, q database.Querier, id string, now time.Time) (bool, error) {
	tag, err := q.Exec(ctx, `
		UPDATE share_links SET downloads = downloads + 1, last_access_at = $2
		WHERE id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)
		  AND (max_downloads IS NULL OR downloads < max_downloads)
		  AND EXISTS (SELECT 1 FROM users WHERE id = share_links.owner_id)`, id, now)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// giveBackDownload undoes takeDownload when no URL could be issued after all.
func giveBackDownload(ctx context.Context, q database.Querier, id string) error {
	_, err := q.Exec(ctx, `UPDATE share_links SET downloads = downloads - 1 WHERE id = $1 AND downloads > 0`, id)
	return err
}

// entry is a shared file as the recipient side sees it.
type entry struct {
	id          string
	name        string
	dir         string // folder path inside a folder link, "" or "a/b/"
	size        int64
	contentType string
	objectKey   string
	modified    time.Time
}

// contents is a page of a link's live files with the totals of all of them.
type contents struct {
	files     []entry
	total     int
	totalSize int64
}

// linkFiles returns the link's live files (only fileID when it is not
// empty), at most limit of them. For a folder link that is every live file
// in the folder's subtree, found by walking folder ids down from the shared
// folder (never by path prefix), stopping at trashed folders.
func linkFiles(ctx context.Context, q database.Querier, r record, fileID string, limit int) (contents, error) {
	var only *string
	if fileID != "" {
		only = &fileID
	}
	var rows pgx.Rows
	var err error
	const cols = `f.id, f.name, %s, f.size, f.content_type, f.object_key, f.updated_at,
		count(*) OVER (), (coalesce(sum(f.size) OVER (), 0))::bigint`
	if r.kind == KindFolder {
		if r.folderID == "" {
			return contents{}, nil
		}
		rows, err = q.Query(ctx, `
			WITH RECURSIVE tree AS (
				SELECT id, ''::text AS dir FROM folders WHERE id = $1 AND owner_id = $2 AND trashed_at IS NULL
				UNION ALL
				SELECT c.id, tree.dir || c.name || '/' FROM folders c JOIN tree ON c.parent_id = tree.id
				WHERE c.owner_id = $2 AND c.trashed_at IS NULL
			)
			SELECT `+fmt.Sprintf(cols, "tree.dir")+`
			FROM files f JOIN tree ON f.folder_id = tree.id
			WHERE f.owner_id = $2 AND f.trashed_at IS NULL AND ($3::uuid IS NULL OR f.id = $3)
			ORDER BY tree.dir, lower(f.name), f.id LIMIT $4`, r.folderID, r.ownerID, only, limit)
	} else {
		rows, err = q.Query(ctx, `
			SELECT `+fmt.Sprintf(cols, "''")+`
			FROM share_link_files lf JOIN files f ON f.id = lf.file_id
			WHERE lf.link_id = $1 AND f.owner_id = $2 AND f.trashed_at IS NULL AND ($3::uuid IS NULL OR f.id = $3)
			ORDER BY lf.position LIMIT $4`, r.id, r.ownerID, only, limit)
	}
	if err != nil {
		return contents{}, err
	}
	var c contents
	c.files, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (entry, error) {
		var e entry
		err := row.Scan(&e.id, &e.name, &e.dir, &e.size, &e.contentType, &e.objectKey, &e.modified, &c.total, &c.totalSize)
		return e, err
	})
	return c, err
}

// liveFolderName returns the name of a folder link's folder while it is
// live; pgx.ErrNoRows otherwise.
func liveFolderName(ctx context.Context, q database.Querier, r record) (string, error) {
	if r.folderID == "" {
		return "", pgx.ErrNoRows
	}
	var name string
	err := q.QueryRow(ctx, `SELECT name FROM folders WHERE id = $1 AND owner_id = $2 AND trashed_at IS NULL`,
		r.folderID, r.ownerID).Scan(&name)
	return name, err
}

// linkDirs returns the live subfolders of a folder link as paths ("a/",
// "a/b/"), so a zip keeps empty folders too.
func linkDirs(ctx context.Context, q database.Querier, r record, limit int) ([]string, error) {
	if r.kind != KindFolder || r.folderID == "" {
		return nil, nil
	}
	rows, err := q.Query(ctx, `
		WITH RECURSIVE tree AS (
			SELECT id, ''::text AS dir FROM folders WHERE id = $1 AND owner_id = $2 AND trashed_at IS NULL
			UNION ALL
			SELECT c.id, tree.dir || c.name || '/' FROM folders c JOIN tree ON c.parent_id = tree.id
			WHERE c.owner_id = $2 AND c.trashed_at IS NULL
		)
		SELECT dir FROM tree WHERE dir <> '' ORDER BY dir LIMIT $3`, r.folderID, r.ownerID, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// noRows reports pgx's "no row" answer.
func noRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// Upload requests.

func insertRequest(ctx context.Context, q database.Querier, ownerID, token string, hash []byte, folderID string, o options, maxFiles *int, maxBytes *int64, now time.Time) (string, error) {
	var folder *string
	if folderID != "" {
		folder = &folderID
	}
	var id string
	err := q.QueryRow(ctx, `
		INSERT INTO upload_requests (owner_id, token_hash, token, folder_id, title, message, password_hash, expires_at, max_files, max_bytes, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id`,
		ownerID, hash, token, folder, o.title, o.note, o.passwordHash, o.expiresAt, maxFiles, maxBytes, now).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("insert request: %w", err)
	}
	return id, nil
}

// requestFilter selects an owner's requests: one by id, or those into a
// folder ("" for the root) when byFolder.
type requestFilter struct {
	ownerID  string
	id       string
	byFolder bool
	folderID string
}

// findRequests returns the owner's requests matching f, newest first, with
// what arrived through each (completed uploads).
func findRequests(ctx context.Context, q database.Querier, f requestFilter, limit int, now time.Time) ([]Request, error) {
	where, args := `r.owner_id = $1`, []any{f.ownerID, limit}
	switch {
	case f.id != "":
		args = append(args, f.id)
		where += ` AND r.id = $3`
	case f.byFolder && f.folderID == "":
		where += ` AND r.folder_id IS NULL`
	case f.byFolder:
		args = append(args, f.folderID)
		where += ` AND r.folder_id = $3`
	}
	rows, err := q.Query(ctx, `
		SELECT r.id, r.owner_id, r.token, coalesce(r.folder_id::text, ''), coalesce(fo.name, ''),
		       r.folder_id IS NULL OR fo.id IS NOT NULL, r.title, r.message, r.password_hash IS NOT NULL,
		       r.expires_at, coalesce(r.max_files, 0), coalesce(r.max_bytes, 0), r.views, r.closed_at, r.created_at, r.updated_at,
		       coalesce(d.n, 0), coalesce(d.bytes, 0), d.last
		FROM upload_requests r
		LEFT JOIN folders fo ON fo.id = r.folder_id AND fo.owner_id = r.owner_id AND fo.trashed_at IS NULL
		LEFT JOIN LATERAL (
			SELECT count(*) AS n, sum(u.size)::bigint AS bytes, max(u.finished_at) AS last
			FROM upload_request_uploads s JOIN uploads u ON u.id = s.upload_id
			WHERE s.request_id = r.id AND u.state = 'done'
		) d ON true
		WHERE `+where+`
		ORDER BY r.created_at DESC, r.id LIMIT $2`, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Request, error) {
		var r Request
		err := row.Scan(&r.ID, &r.OwnerID, &r.Token, &r.FolderID, &r.FolderName, &r.FolderLive, &r.Title, &r.Message, &r.HasPassword,
			&r.ExpiresAt, &r.MaxFiles, &r.MaxBytes, &r.Views, &r.ClosedAt, &r.CreatedAt, &r.UpdatedAt,
			&r.Files, &r.Bytes, &r.LastUploadAt)
		return r, err
	})
}

// closeRequest marks the owner's request closed (keeping the first time)
// and reports whether it exists.
func closeRequest(ctx context.Context, q database.Querier, ownerID, id string, now time.Time) (bool, error) {
	tag, err := q.Exec(ctx, `UPDATE upload_requests SET closed_at = coalesce(closed_at, $3), updated_at = $3
		WHERE id = $1 AND owner_id = $2`, id, ownerID, now)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// requestRecord is an upload request as the uploader side needs it.
type requestRecord struct {
	id, ownerID, ownerName string
	folderID               string
	title, message         string
	passwordHash           string
	passwordVersion        int
	expiresAt, closedAt    *time.Time
	maxFiles               int
	maxBytes               int64
}

// findRequestByToken loads the request whose token has this hash, with its
// owner's name; lock adds FOR UPDATE (of the request row). pgx.ErrNoRows
// when there is none.
func findRequestByToken(ctx context.Context, q database.Querier, hash []byte, lock bool) (requestRecord, error) {
	sql := `
		SELECT r.id, r.owner_id, u.display_name, coalesce(r.folder_id::text, ''), r.title, r.message,
		       coalesce(r.password_hash, ''), r.password_version, r.expires_at, r.closed_at,
		       coalesce(r.max_files, 0), coalesce(r.max_bytes, 0)
		FROM upload_requests r JOIN users u ON u.id = r.owner_id
		WHERE r.token_hash = $1`
	if lock {
		sql += ` FOR UPDATE OF r`
	}
	var r requestRecord
	err := q.QueryRow(ctx, sql, hash).Scan(&r.id, &r.ownerID, &r.ownerName, &r.folderID, &r.title, &r.message,
		&r.passwordHash, &r.passwordVersion, &r.expiresAt, &r.closedAt, &r.maxFiles, &r.maxBytes)
	return r, err
}

func countRequestView(ctx context.Context, q database.Querier, id string) error {
	_, err := q.Exec(ctx, `UPDATE upload_requests SET views = views + 1 WHERE id = $1`, id)
	return err
}

// requestUsage counts the files and bytes a request has taken: uploads
// completed or in flight, and slots taken in the last slotTTL whose upload
// is not made yet.
func requestUsage(ctx context.Context, q database.Querier, id string, now time.Time) (int, int64, error) {
	var n int
	var size int64
	err := q.QueryRow(ctx, `
		SELECT count(*), coalesce(sum(s.size), 0)::bigint
		FROM upload_request_uploads s LEFT JOIN uploads u ON u.id = s.upload_id
		WHERE s.request_id = $1
		  AND (u.state IN ('pending', 'done') OR (s.upload_id IS NULL AND s.created_at > $2))`,
		id, now.Add(-slotTTL)).Scan(&n, &size)
	return n, size, err
}

// pendingSlots counts a request's uploads in progress (and fresh slots).
func pendingSlots(ctx context.Context, q database.Querier, id string, now time.Time) (int, error) {
	var n int
	err := q.QueryRow(ctx, `
		SELECT count(*) FROM upload_request_uploads s LEFT JOIN uploads u ON u.id = s.upload_id
		WHERE s.request_id = $1 AND (u.state = 'pending' OR (s.upload_id IS NULL AND s.created_at > $2))`,
		id, now.Add(-slotTTL)).Scan(&n)
	return n, err
}

// completingUsage counts the files and bytes completed through a request,
// or being completed (claimed in the last claimTTL, upload still pending),
// but for the upload except.
func completingUsage(ctx context.Context, q database.Querier, id, except string, now time.Time) (int, int64, error) {
	var n int
	var size int64
	err := q.QueryRow(ctx, `
		SELECT count(*), coalesce(sum(s.size), 0)::bigint
		FROM upload_request_uploads s JOIN uploads u ON u.id = s.upload_id
		WHERE s.request_id = $1 AND u.id <> $2
		  AND (u.state = 'done' OR (u.state = 'pending' AND s.claimed_at > $3))`, id, except, now.Add(-claimTTL)).Scan(&n, &size)
	return n, size, err
}

// claimSlot marks the request's upload as being completed, at now.
func claimSlot(ctx context.Context, q database.Querier, requestID, uploadID string, now time.Time) error {
	_, err := q.Exec(ctx, `UPDATE upload_request_uploads SET claimed_at = $3 WHERE request_id = $1 AND upload_id = $2`,
		requestID, uploadID, now)
	return err
}

// releaseSlot withdraws the claim made at claimed, unless a later call
// claimed the upload since.
func releaseSlot(ctx context.Context, q database.Querier, requestID, uploadID string, claimed time.Time) error {
	_, err := q.Exec(ctx, `UPDATE upload_request_uploads SET claimed_at = NULL WHERE request_id = $1 AND upload_id = $2 AND claimed_at = $3`,
		requestID, uploadID, claimed)
	return err
}

func insertSlot(ctx context.Context, q database.Querier, requestID string, size int64, now time.Time) (string, error) {
	var id string
	err := q.QueryRow(ctx, `INSERT INTO upload_request_uploads (request_id, size, created_at) VALUES ($1, $2, $3) RETURNING id`,
		requestID, size, now).Scan(&id)
	return id, err
}

func setSlotUpload(ctx context.Context, q database.Querier, slot, uploadID string) error {
	_, err := q.Exec(ctx, `UPDATE upload_request_uploads SET upload_id = $2 WHERE id = $1`, slot, uploadID)
	return err
}

func deleteSlot(ctx context.Context, q database.Querier, slot string) error {
	_, err := q.Exec(ctx, `DELETE FROM upload_request_uploads WHERE id = $1`, slot)
	return err
}

// slotExists reports whether uploadID was made through the request.
func slotExists(ctx context.Context, q database.Querier, requestID, uploadID string) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM upload_request_uploads WHERE request_id = $1 AND upload_id = $2)`,
		requestID, uploadID).Scan(&ok)
	return ok, err
}

// slotSize is the declared size of a request's upload.
func slotSize(ctx context.Context, q database.Querier, requestID, uploadID string) (int64, error) {
	var size int64
	err := q.QueryRow(ctx, `SELECT size FROM upload_request_uploads WHERE request_id = $1 AND upload_id = $2`,
		requestID, uploadID).Scan(&size)
	return size, err
}

// lockRequest locks the owner's request for an update and reports whether
// it is closed; pgx.ErrNoRows when there is no such request.
func lockRequest(ctx context.Context, q database.Querier, ownerID, id string) (bool, error) {
	var closed bool
	err := q.QueryRow(ctx, `SELECT closed_at IS NOT NULL FROM upload_requests WHERE id = $1 AND owner_id = $2 FOR UPDATE`,
		id, ownerID).Scan(&closed)
	return closed, err
}

// requestUpdate says which options change; a nil pointer with its set flag
// clears the option.
type requestUpdate struct {
	title, message *string
	setPassword    bool
	passwordHash   *string
	setExpiry      bool
	expiresAt      *time.Time
	setMaxFiles    bool
	maxFiles       *int
	setMaxBytes    bool
	maxBytes       *int64
}

func updateRequest(ctx context.Context, q database.Querier, id string, u requestUpdate, now time.Time) error {
	_, err := q.Exec(ctx, `
		UPDATE upload_requests SET
			title = coalesce($2, title),
			message = coalesce($3, message),
			password_hash = CASE WHEN $4 THEN $5 ELSE password_hash END,
			password_version = password_version + CASE WHEN $4 THEN 1 ELSE 0 END,
			expires_at = CASE WHEN $6 THEN $7 ELSE expires_at END,
			max_files = CASE WHEN $8 THEN $9 ELSE max_files END,
			max_bytes = CASE WHEN $10 THEN $11 ELSE max_bytes END,
			updated_at = greatest($12, updated_at + interval '1 microsecond')
		WHERE id = $1`,
		id, u.title, u.message, u.setPassword, u.passwordHash, u.setExpiry, u.expiresAt,
		u.setMaxFiles, u.maxFiles, u.setMaxBytes, u.maxBytes, now)
	if err != nil {
		return fmt.Errorf("update request: %w", err)
	}
	return nil
}
