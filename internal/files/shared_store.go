package files

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weupload/weupload/internal/database"
)

// SQL of the shared read model (shared.go). Every query carries the owner
// the caller names, so a link or upload request can never reach another
// user's entries.

// sharedEntries returns the owner's files and folders among the ids
// (trashed ones too), keyed by id.
func sharedEntries(ctx context.Context, q database.Querier, ownerID string, fileIDs, folderIDs []string) (map[string]SharedEntry, error) {
	rows, err := q.Query(ctx, `
		SELECT id::text, name, trashed_at IS NULL FROM files WHERE id = ANY ($2::uuid[]) AND owner_id = $1
		UNION ALL
		SELECT id::text, name, trashed_at IS NULL FROM folders WHERE id = ANY ($3::uuid[]) AND owner_id = $1`,
		ownerID, fileIDs, folderIDs)
	if err != nil {
		return nil, err
	}
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SharedEntry, error) {
		var e SharedEntry
		err := r.Scan(&e.ID, &e.Name, &e.Live)
		return e, err
	})
	if err != nil {
		return nil, err
	}
	m := make(map[string]SharedEntry, len(entries))
	for _, e := range entries {
		m[e.ID] = e
	}
	return m, nil
}

// liveTree is the owner's live folder $1 and its live subfolders, each with
// its path below it ("" for the folder itself, then "a/", "a/b/"), found
// by walking folder ids down (never by path prefix) and stopping at
// trashed folders. It takes the folder as $1 and the owner as $2.
const liveTree = `
	WITH RECURSIVE tree AS (
		SELECT id, ''::text AS dir FROM folders WHERE id = $1 AND owner_id = $2 AND trashed_at IS NULL
		UNION ALL
		SELECT c.id, tree.dir || c.name || '/' FROM folders c JOIN tree ON c.parent_id = tree.id
		WHERE c.owner_id = $2 AND c.trashed_at IS NULL
	)`

// sharedFiles returns the live files f selects, at most f.Limit, with the
// count and total size of all of them.
func sharedFiles(ctx context.Context, q database.Querier, f SharedFilter) (SharedFiles, error) {
	var only *string
	if f.Only != "" {
		only = &f.Only
	}
	var rows pgx.Rows
	var err error
	if f.FolderID != "" {
		rows, err = q.Query(ctx, liveTree+`
			SELECT f.id, f.name, tree.dir, f.size, f.content_type, f.object_key, f.updated_at, f.scan_state,
			       count(*) OVER (), (coalesce(sum(f.size) OVER (), 0))::bigint
			FROM files f JOIN tree ON f.folder_id = tree.id
			WHERE f.owner_id = $2 AND f.trashed_at IS NULL AND ($3::uuid IS NULL OR f.id = $3)
			ORDER BY tree.dir, lower(f.name), f.id LIMIT $4`, f.FolderID, f.OwnerID, only, f.Limit)
	} else {
		rows, err = q.Query(ctx, `
			SELECT f.id, f.name, '', f.size, f.content_type, f.object_key, f.updated_at, f.scan_state,
			       count(*) OVER (), (coalesce(sum(f.size) OVER (), 0))::bigint
			FROM unnest($1::uuid[]) WITH ORDINALITY AS l (id, n) JOIN files f ON f.id = l.id
			WHERE f.owner_id = $2 AND f.trashed_at IS NULL AND ($3::uuid IS NULL OR f.id = $3)
			ORDER BY l.n LIMIT $4`, f.FileIDs, f.OwnerID, only, f.Limit)
	}
	if err != nil {
		return SharedFiles{}, err
	}
	var c SharedFiles
	c.Files, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (SharedFile, error) {
		var e SharedFile
		err := row.Scan(&e.ID, &e.Name, &e.Dir, &e.Size, &e.ContentType, &e.ObjectKey, &e.Modified, &e.ScanState, &c.Total, &c.TotalSize)
		return e, err
	})
	return c, err
}

// sharedDirs returns the live subfolders of the owner's live folder as
// paths ("a/", "a/b/").
func sharedDirs(ctx context.Context, q database.Querier, ownerID, folderID string, limit int) ([]string, error) {
	rows, err := q.Query(ctx, liveTree+`
		SELECT dir FROM tree WHERE dir <> '' ORDER BY dir LIMIT $3`, folderID, ownerID, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// uploadOutcomes returns the state, size and finish time of the owner's
// uploads among the ids, keyed by id.
func uploadOutcomes(ctx context.Context, q database.Querier, ownerID string, ids []string) (map[string]UploadOutcome, error) {
	rows, err := q.Query(ctx, `SELECT id::text, state, size, finished_at, reserved FROM uploads WHERE id = ANY ($2::uuid[]) AND owner_id = $1`,
		ownerID, ids)
	if err != nil {
		return nil, err
	}
	m := map[string]UploadOutcome{}
	var id string
	var o UploadOutcome
	var finished *time.Time
	_, err = pgx.ForEachRow(rows, []any{&id, &o.State, &o.Size, &finished, &o.Reserved}, func() error {
		o.FinishedAt = finished
		m[id] = o
		return nil
	})
	return m, err
}
