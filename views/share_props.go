package views

import "time"

// Props of the share pages: the recipient's (share_public.templ) and the
// owner's (shares.templ).

// SharePublicPage is a share link's landing page for its recipients.
type SharePublicPage struct {
	Shell
	// Heading is the title, folder name or (single) file name.
	Heading string
	// Intro says who shared what: "Ann shared 3 files with you".
	Intro string
	Note  string
	// Facts are short lines under the heading (size, expiry, downloads left).
	Facts []string
	Files []SharePublicFile
	// More is the number of files not listed (they are in the zip).
	More int
	// ZipURL downloads everything as one zip; empty when there is nothing.
	ZipURL   string
	ZipLabel string
	// Empty explains a folder link with nothing in it.
	Empty bool
	// Checking: some files are still being checked for viruses, so the
	// zip waits (the page says so and refreshes itself).
	Checking bool
}

// SharePublicFile is one file on the landing page.
type SharePublicFile struct {
	// Held is why it cannot be downloaded now (shares.HeldPending,
	// shares.HeldBlocked), "" when it can.
	Held string
	Name string
	// Dir is the folder path inside a folder link, "" at its top.
	Dir         string
	Size        int64
	ContentType string
	URL         string
}

// SharePasswordPage asks for the password of a link (or an upload request)
// before anything is shown.
type SharePasswordPage struct {
	Shell
	// Action is where the form posts (the link's own URL).
	Action string
	// Heading and Intro say what the password opens.
	Heading string
	Intro   string
	Form    Form
}

// SharedPage is the owner's "Shared" page: every link they made.
type SharedPage struct {
	Shell
	Links    []ShareLinkRow
	Requests []UploadRequestRow
}

// ShareLinkRow is one link as its owner sees it.
type ShareLinkRow struct {
	ID  string
	URL string
	// State is active, expired, exhausted or revoked.
	State string
	// Items names what is shared: a file, "a.txt and 2 more", a folder.
	Items     string
	Folder    bool
	Available bool // false when everything shared was deleted
	Title     string
	Note      string
	// HasPassword: recipients type a password first.
	HasPassword  bool
	ExpiresAt    *time.Time
	MaxDownloads int // 0: no limit
	Downloads    int
	Views        int
	LastAccessAt *time.Time
	CreatedAt    time.Time
}

// ShareDialog is the share dialog: what is shared, its links, and either
// the form for a new link or one link with its options.
type ShareDialog struct {
	// FileIDs or FolderID is what the dialog shares.
	FileIDs  []string
	FolderID string
	// Subject names it for the heading: “a.txt”, 3 files, folder “Photos”.
	Subject string
	// Links are the live (not revoked) links of exactly this subject.
	Links []ShareLinkRow
	// Link is the link shown with its options (just made, or being edited).
	Link *ShareLinkRow
	// Notice confirms the last change ("Link created.").
	Notice string
	Form   Form
	// LimitedURLSeconds is how long a download URL of a link with a
	// download limit works, told next to the limit.
	LimitedURLSeconds int
	// Requests are the open upload requests into the folder (folder
	// subjects only), with their own form and notice.
	Requests      []UploadRequestRow
	RequestForm   Form
	RequestNotice string
	// People: for one folder or one file, who it is shared with, the form
	// to add someone, and the notice of the last change there.
	People       []PersonRow
	PeopleForm   Form
	PeopleNotice string
}

// CanSharePeople reports whether the dialog offers sharing with people: for
// its subject (a folder, or files), not while it shows one link.
func (d ShareDialog) CanSharePeople() bool {
	return d.Link == nil && ((d.FolderID != "" && len(d.FileIDs) == 0) || (d.FolderID == "" && len(d.FileIDs) > 0))
}

// ManyFiles reports whether the subject is several files: People then adds
// a person to each, and who has access is shown per item.
func (d ShareDialog) ManyFiles() bool { return len(d.FileIDs) > 1 }

// SharePageProps shows the share dialog as a page (no script).
type SharePageProps struct {
	Shell
	Dialog ShareDialog
}

// UploadRequestRow is one upload request as its owner sees it.
type UploadRequestRow struct {
	ID  string
	URL string
	// State is open, expired or closed.
	State string
	// Folder names where files go ("My files" for the root).
	Folder       string
	FolderLive   bool
	Title        string
	Message      string
	HasPassword  bool
	ExpiresAt    *time.Time
	MaxFiles     int   // 0: no limit
	MaxBytes     int64 // 0: no limit
	Files        int   // received
	Bytes        int64 // received
	LastUploadAt *time.Time
}

// UploadRequestPage is the page of someone who received an upload link.
type UploadRequestPage struct {
	Shell
	Heading string
	// Intro says who asks: "Ann asks you for files".
	Intro     string
	OwnerName string
	Message   string
	Facts     []string
	// API is the base of the upload endpoints ("/r/<token>/uploads").
	API string
	// Full is set when no more files are taken.
	Full bool
	// Records names the page's resume records in the browser's storage: the
	// request's id, never its token.
	Records string
	Limits  UploadLimits
}

// PersonRow is someone a file or folder is shared with, in the share
// dialog's People section.
type PersonRow struct {
	GrantID string
	Name    string
	Email   string
	Role    string // viewer | editor
}

// SharedWithMePage lists what other users shared with the user.
type SharedWithMePage struct {
	Shell
	Items  []SharedItem
	Usage  Usage
	Limits UploadLimits
}

// SharedItem is one folder or file shared with the user.
type SharedItem struct {
	GrantID    string
	ID         string
	Folder     bool
	Name       string
	Size       int64
	Owner      string
	OwnerEmail string
	Role       string
	SharedAt   time.Time
	// Scan is a shared file's virus scan (a held file has no download).
	Scan ScanBadge
}

// downloadLimitHint says what a download limit counts: download links
// handed out (a file or the zip), each working for seconds.
func downloadLimitHint(seconds int) string {
	return "Empty: no limit. Counts download links handed out (each file or zip one); each works for " +
		plural(seconds, "second", "seconds") + "."
}
