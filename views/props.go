// Package views holds the templ components. Every page takes a typed props
// struct that embeds Shell, the data the layout needs.
package views

import "time"

// Shell is what every full page needs: title, the signed-in user (nil when
// anonymous), flash messages, and asset URLs.
type Shell struct {
	Title     string
	User      *User
	Flashes   []Flash
	Nav       string // which nav item is current: "files", "account"
	RequestID string
	// Static maps an asset name (css/app.css) to its content-hashed URL.
	Static func(name string) string
	// CanRegister shows the "Create account" links.
	CanRegister bool
}

// User is the signed-in user as the layout shows it.
type User struct {
	DisplayName string
	Email       string
	IsAdmin     bool
}

// Flash is a one-time message shown at the top of the next page.
type Flash struct {
	Kind    string // success | error | info
	Message string
}

// Form carries submitted values and per-field errors back into a form.
type Form struct {
	Values map[string]string
	Errors map[string]string
	// Message is a form-level error (e.g. bad credentials, throttled).
	Message string
}

// Value returns the submitted value of a field.
func (f Form) Value(name string) string { return f.Values[name] }

// Error returns the error message of a field.
func (f Form) Error(name string) string { return f.Errors[name] }

// LoginPage is the login page.
type LoginPage struct {
	Shell
	Form Form
	Next string // where to go after login (a local path)
}

// RegisterPage is the sign-up page.
type RegisterPage struct {
	Shell
	Form Form
}

// AccountPage shows the profile and password forms.
type AccountPage struct {
	Shell
	Email        string
	MemberSince  string
	Profile      Form
	Password     Form
	ProfileSaved bool
	Tokens       TokensSection
}

// ErrorPage is shown for 4xx and 5xx answers to page requests.
type ErrorPage struct {
	Shell
	Status  int
	Heading string
	Message string
}

// TokensSection is the API tokens part of the account page, also swapped
// alone by htmx after a create or revoke.
type TokensSection struct {
	Tokens []TokenRow
	Form   Form
	// NewSecret is shown once, right after a token is created.
	NewSecret string
	Scopes    []string
}

// TokenRow is one token in the list.
type TokenRow struct {
	ID        string
	Name      string
	Prefix    string
	Scopes    []string
	CreatedAt string
	LastUsed  string
	Expires   string
}

// AdminScansPage is the admins' list of flagged files.
type AdminScansPage struct {
	Shell
	Issues []ScanIssueRow
}

// ScanIssueRow is an infected or failed file of any account.
type ScanIssueRow struct {
	ID, Name, Owner string
	Size            int64
	State           string
	Signature       string
	Scanned         time.Time
}
