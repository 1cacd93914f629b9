package views

import (
	"net/url"
	"time"
)

// The file browser's props. The page is one Browser region (swapped by htmx
// when the user opens another folder or the Trash, so uploads keep running)
// around a Listing (swapped on search, sort and refresh) whose rows grow by
// infinite scroll.

// Crumb is one folder on the way from the root to the current folder.
type Crumb struct {
	ID   string
	Name string
}

// FolderRow is a folder in a listing.
type FolderRow struct {
	ID      string
	Name    string
	Created time.Time
	// Trashed is set in the Trash view.
	Trashed time.Time
}

// FileRow is a file in a listing.
type FileRow struct {
	ID          string
	Name        string
	Size        int64
	ContentType string
	Created     time.Time
	Trashed     time.Time
	Scan        ScanBadge
}

// menuFlags narrow an entry's menu.
type menuFlags struct {
	noDownload bool // the scan holds the file back
	deleteOnly bool // infected: only Details and Move to Trash
}

// ScanBadge is what a row says of the file's virus scan.
type ScanBadge struct {
	// State is the files.ScanState.
	State string
	// Signature is what was found in an infected file (owner only).
	Signature string
	// Held: the server refuses to serve the file in this state.
	Held bool
	// Scanning: scanning is on (an unscanned file will be checked).
	Scanning bool
}

// Checking reports whether the scan is still to come, so the row shows
// "Being checked for viruses" and polls until it is done.
func (b ScanBadge) Checking() bool {
	return b.State == "pending" || (b.State == "unscanned" && b.Scanning)
}

// Infected reports whether a virus was found.
func (b ScanBadge) Infected() bool { return b.State == "infected" }

// Label is the row's words for the state ("" for nothing to say).
func (b ScanBadge) Label() string {
	switch {
	case b.Checking():
		return "Being checked for viruses"
	case b.Infected() && b.Signature != "":
		return "Blocked: virus found (" + b.Signature + ")"
	case b.Infected():
		return "Blocked: virus found"
	case b.State == "failed":
		return "Virus check failed"
	case b.State == "skipped" && b.Held:
		return "Too large to check for viruses"
	}
	return ""
}

// Usage is the storage meter: bytes used (trash included), reserved by
// uploads in progress, and the quota.
type Usage struct {
	Used     int64
	Reserved int64
	Quota    int64
}

// UploadLimits tell the upload module what the server will accept, so it
// can refuse early and decide whether to hash a file before sending it.
type UploadLimits struct {
	MaxFileSize        int64
	MultipartThreshold int64
}

// Listing is one view of entries: a folder, or search results when Query
// is set. Next is the cursor of the following page ("" on the last).
type Listing struct {
	FolderID string
	Query    string
	Sort     string // name | size | date
	Desc     bool
	Folders  []FolderRow
	Files    []FileRow
	Next     string
	// Role is the user's role in the folder: owner, editor or viewer; the
	// actions offered follow it (the service enforces it regardless).
	Role string
	// Owner names the owner of a folder shared with the user.
	Owner string
}

// Owned reports whether the listing is the user's own folder (or a search).
func (l Listing) Owned() bool { return l.Role == "" || l.Role == "owner" }

// CanWrite reports whether the user may change what is listed.
func (l Listing) CanWrite() bool { return l.Owned() || l.Role == "editor" }

// FilesPage is "My files": one folder (or a search over all of them).
type FilesPage struct {
	Shell
	// Path runs from the top folder down to the current one; empty at the root.
	Path    []Crumb
	Listing Listing
	Usage   Usage
	Limits  UploadLimits
}

// TrashPage lists what the user moved to the Trash.
type TrashPage struct {
	Shell
	Folders   []FolderRow
	Files     []FileRow
	Retention time.Duration
	Usage     Usage
	Limits    UploadLimits
}

// FileDetails is the details drawer of one file.
type FileDetails struct {
	File FileRow
	// SHA256 is the hex digest of the stored bytes, empty when unknown.
	SHA256   string
	Modified time.Time
	// Path is the file's folder from the top; empty at the root.
	Path []Crumb
}

// Selection is the files and folders a dialog acts on.
type Selection struct {
	Files   []string
	Folders []string
}

// Count is the number of entries selected.
func (s Selection) Count() int { return len(s.Files) + len(s.Folders) }

// NewFolderDialog is the "New folder" form.
type NewFolderDialog struct {
	ParentID string
	Form     Form
}

// RenameDialog is the rename form of one file or folder.
type RenameDialog struct {
	Kind string // file | folder
	ID   string
	Form Form
}

// MoveDialog picks a destination folder for a selection. At is the folder
// being looked at; Path leads to it; Folders are its subfolders.
type MoveDialog struct {
	Selection Selection
	At        string
	Path      []Crumb
	Folders   []FolderRow
	// More is set when At has more subfolders than are shown.
	More bool
	// Error is a failed move's message; Conflict offers "keep both".
	Error    string
	Conflict bool
}

// ActionToast confirms a change; Undo, when set, restores what was trashed.
type ActionToast struct {
	Message string
	Undo    *Selection
}

// folderURL is the page of a folder ("" is the root, /files).
func folderURL(id string) string {
	if id == "" {
		return "/files"
	}
	return "/folders/" + url.PathEscape(id)
}

// listURL is the listing's URL with its search and order, and a cursor
// for the following page when after is set.
func (l Listing) listURL(sort string, desc bool, after string) string {
	q := url.Values{}
	if l.Query != "" {
		q.Set("q", l.Query)
	}
	if sort != "" && sort != "name" {
		q.Set("sort", sort)
	}
	if desc {
		q.Set("dir", "desc")
	}
	if after != "" {
		q.Set("cursor", after)
	}
	u := folderURL(l.FolderID)
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// SelfURL is the URL of the listing as shown (first page).
func (l Listing) SelfURL() string { return l.listURL(l.Sort, l.Desc, "") }

// sortURL is the header link of a column: the same column flips the
// direction, another starts ascending (newest first for dates).
func (l Listing) sortURL(col string) string {
	if l.Sort == col {
		return l.listURL(col, !l.Desc, "")
	}
	return l.listURL(col, col == "date", "")
}

// moreURL is the next page's URL.
func (l Listing) moreURL() string { return l.listURL(l.Sort, l.Desc, l.Next) }

// Empty reports whether the listing has no entries at all.
func (l Listing) Empty() bool { return len(l.Folders) == 0 && len(l.Files) == 0 }
