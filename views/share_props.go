package views

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
}

// SharePublicFile is one file on the landing page.
type SharePublicFile struct {
	Name string
	// Dir is the folder path inside a folder link, "" at its top.
	Dir         string
	Size        int64
	ContentType string
	URL         string
}

// SharePasswordPage asks for a link's password before anything is shown.
type SharePasswordPage struct {
	Shell
	// Action is where the form posts (the link's own URL).
	Action string
	Form   Form
}
