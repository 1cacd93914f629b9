package files

import (
	"context"
	"time"

	"github.com/weupload/weupload/internal/database"
)

// The shared read model: what share links and upload requests (package
// shares) read of an owner's files, folders and uploads. They own their
// own tables and reach these only through the methods below, which read by
// owner and id, never decide access (shares does, before calling), and
// take the caller's Querier, so a caller inside a transaction reads on its
// own connection rather than asking the pool for a second one.

// SharedEntry is one of an owner's files or folders as shares sees it.
type SharedEntry struct {
	ID   string
	Name string
	// Live is false for an entry in the trash.
	Live bool
}

// SharedEntries returns the owner's files and folders among the ids,
// trashed ones too, keyed by id; ids not the owner's (or gone) are absent.
// The ids must be canonical UUIDs.
func (s *Service) SharedEntries(ctx context.Context, q database.Querier, ownerID string, fileIDs, folderIDs []string) (map[string]SharedEntry, error) {
	if fileIDs == nil {
		fileIDs = []string{}
	}
	if folderIDs == nil {
		folderIDs = []string{}
	}
	return sharedEntries(ctx, q, ownerID, fileIDs, folderIDs)
}

// SharedFilter selects an owner's live files: those of FolderID's live
// subtree (with their path in it), or else FileIDs in that order; Only
// narrows to one file; Limit caps the files returned (not the totals).
type SharedFilter struct {
	OwnerID  string
	FolderID string
	FileIDs  []string
	Only     string
	Limit    int
}

// SharedFile is a live file of a share.
type SharedFile struct {
	ID   string
	Name string
	// Dir is the path below the shared folder ("" or "a/b/").
	Dir         string
	Size        int64
	ContentType string
	// ObjectKey names the bytes in the blob store.
	ObjectKey string
	Modified  time.Time
	// ScanState decides whether it may be served (Service.Servable).
	ScanState ScanState
}

// SharedFiles is a page of shared files with the totals of all of them.
type SharedFiles struct {
	Files     []SharedFile
	Total     int
	TotalSize int64
}

// SharedFiles returns the live files f selects.
func (s *Service) SharedFiles(ctx context.Context, q database.Querier, f SharedFilter) (SharedFiles, error) {
	if f.FolderID == "" && len(f.FileIDs) == 0 {
		return SharedFiles{}, nil
	}
	return sharedFiles(ctx, q, f)
}

// SharedDirs returns the live subfolders of the owner's live folder as
// paths ("a/", "a/b/"), at most limit, so a zip keeps empty folders too.
func (s *Service) SharedDirs(ctx context.Context, q database.Querier, ownerID, folderID string, limit int) ([]string, error) {
	return sharedDirs(ctx, q, ownerID, folderID, limit)
}

// UploadOutcome is where one of an owner's uploads stands.
type UploadOutcome struct {
	State      string
	Size       int64
	FinishedAt *time.Time
	// Reserved: the size still counts against the quota. An upload that
	// ended without a file keeps it while a URL handed out for it can
	// still store bytes.
	Reserved bool
}

// UploadOutcomes returns the owner's uploads among the ids, keyed by id.
func (s *Service) UploadOutcomes(ctx context.Context, q database.Querier, ownerID string, ids []string) (map[string]UploadOutcome, error) {
	if len(ids) == 0 {
		return map[string]UploadOutcome{}, nil
	}
	return uploadOutcomes(ctx, q, ownerID, ids)
}
