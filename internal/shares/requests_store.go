package shares

import (
	"context"
	"time"

	"github.com/weupload/weupload/internal/database"
)

// SQL of upload requests' own tables (upload_requests and its slots,
// upload_request_uploads). A slot has no owner_id: it is reached only
// through its request (request_id in every statement), which the caller
// found by its owner or its token. How the uploads themselves stand comes
// from the files service's shared read model.

// requestColumns are the columns of a request beyond those every item has
// (findByToken), scanned by requestRecord.extra.
const requestColumns = `, coalesce(t.max_files, 0), coalesce(t.max_bytes, 0)`

// requestFilter selects an owner's requests: one by id, or those into a
// folder ("" for the root) when byFolder.
type requestFilter struct {
	owned
	byFolder bool
	folderID string
}

// findRequests returns the owner's requests matching f, newest first,
// without what arrived through them (Service.listRequests adds it).
func findRequests(ctx context.Context, q database.Querier, f requestFilter, limit int) ([]Request, error) {
	where, args := ownerWhere("r", f.owned, limit)
	switch {
	case f.id != "": // one request, by id (ownerWhere)
	case f.byFolder && f.folderID == "":
		where += ` AND r.folder_id IS NULL`
	case f.byFolder:
		args = append(args, f.folderID)
		where += ` AND r.folder_id = $3`
	}
	return collect(ctx, q, `
		SELECT r.id, r.owner_id, coalesce(r.token, ''), r.token_sealed, coalesce(r.folder_id::text, ''), r.title, r.message, r.password_hash IS NOT NULL,
		       r.expires_at, coalesce(r.max_files, 0), coalesce(r.max_bytes, 0), r.views, r.closed_at, r.created_at, r.updated_at
		FROM upload_requests r
		WHERE `+where+`
		ORDER BY r.created_at DESC, r.id LIMIT $2`, args, func(r *Request) []any {
		return []any{&r.ID, &r.OwnerID, &r.Token, &r.sealed, &r.FolderID, &r.Title, &r.Message, &r.HasPassword,
			&r.ExpiresAt, &r.MaxFiles, &r.MaxBytes, &r.Views, &r.ClosedAt, &r.CreatedAt, &r.UpdatedAt}
	})
}

// slot is a place taken in a request's limits by one upload.
type slot struct {
	id, requestID string
	uploadID      string // "" until the upload exists
	size          int64
	created       time.Time
	claimed       *time.Time // being completed since
}

// findSlots returns the slots of the requests.
func findSlots(ctx context.Context, q database.Querier, requestIDs []string) ([]slot, error) {
	return collect(ctx, q, `SELECT id, request_id, coalesce(upload_id::text, ''), size, created_at, claimed_at
		FROM upload_request_uploads WHERE request_id = ANY ($1::uuid[])`, []any{requestIDs}, func(s *slot) []any {
		return []any{&s.id, &s.requestID, &s.uploadID, &s.size, &s.created, &s.claimed}
	})
}

func insertSlot(ctx context.Context, q database.Querier, requestID string, size int64, now time.Time) (string, error) {
	var id string
	err := q.QueryRow(ctx, `INSERT INTO upload_request_uploads (request_id, size, created_at) VALUES ($1, $2, $3) RETURNING id`,
		requestID, size, now).Scan(&id)
	return id, err
}

func setSlotUpload(ctx context.Context, q database.Querier, requestID, slot, uploadID string) error {
	_, err := q.Exec(ctx, `UPDATE upload_request_uploads SET upload_id = $3 WHERE id = $1 AND request_id = $2`, slot, requestID, uploadID)
	return err
}

func deleteSlot(ctx context.Context, q database.Querier, requestID, slot string) error {
	_, err := q.Exec(ctx, `DELETE FROM upload_request_uploads WHERE id = $1 AND request_id = $2`, slot, requestID)
	return err
}

// slotExists reports whether uploadID was made through the request.
func slotExists(ctx context.Context, q database.Querier, requestID, uploadID string) (bool, error) {
	var ok bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM upload_request_uploads WHERE request_id = $1 AND upload_id = $2)`,
		requestID, uploadID).Scan(&ok)
	return ok, err
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
