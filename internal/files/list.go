package files

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/database"
)

// Sort is the order of a listing.
type Sort string

// The sort orders. Folders always come before files; they have no size, so
// a listing by size shows them by name.
const (
	SortName Sort = "name" // case-insensitive name, the default
	SortSize Sort = "size"
	SortDate Sort = "date" // created (uploaded) at
)

// Page sizes.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// ListInput selects a page of a folder.
type ListInput struct {
	// FolderID is the folder to list; empty for the root.
	FolderID string
	Sort     Sort
	// Desc reverses the order.
	Desc bool
	// Cursor is the Next of the previous page; empty for the first page.
	Cursor string
	// Limit is the page size (default DefaultPageSize, at most MaxPageSize).
	Limit int
}

// Page is one page of a listing: folders first, then files. Next is the
// cursor of the following page, empty on the last one.
type Page struct {
	Folders []Folder
	Files   []File
	Next    string
	// Access is the user's access to the listed folder (List only).
	Access Access
}

// List returns a page of the live entries of a folder: the user's, or one
// shared with them. Pagination is by keyset (the cursor holds the last sort
// key and id), so page 1000 costs what page 1 does. Errors: Invalid (sort,
// cursor, limit), NotFound (the folder), Unavailable.
func (s *Service) List(ctx context.Context, userID string, in ListInput) (Page, error) {
	if in.Sort == "" {
		in.Sort = SortName
	}
	if in.Sort != SortName && in.Sort != SortSize && in.Sort != SortDate {
		return Page{}, apperr.InvalidFields(map[string]string{"sort": "Sort by name, size or date."})
	}
	a, err := s.authorizeFolder(ctx, s.pool, userID, in.FolderID, RoleViewer)
	if err != nil {
		return Page{}, apperr.Wrap(err, "files: list %q", in.FolderID)
	}
	l := lister{ownerID: a.OwnerID, folderID: in.FolderID, sort: in.Sort, desc: in.Desc}
	p, err := l.readPage(ctx, s.pool, in.Cursor, in.Limit)
	p.Access = a
	return p, apperr.Wrap(err, "files: list %q", in.FolderID)
}

// SearchInput is a search by name over all of a user's live entries.
type SearchInput struct {
	// Query is matched case-insensitively anywhere in the name.
	Query  string
	Cursor string
	Limit  int
}

// MaxQueryLen is the longest search query, in bytes.
const MaxQueryLen = 255

// Search returns a page of the user's live folders and files whose name
// contains the query (case-insensitive), ordered by name; a trigram index
// keeps it fast in large folders. Errors: Invalid, Unavailable.
func (s *Service) Search(ctx context.Context, ownerID string, in SearchInput) (Page, error) {
	q := strings.TrimSpace(in.Query)
	switch {
	case q == "":
		return Page{}, apperr.InvalidFields(map[string]string{"q": "Enter part of a name to search for."})
	case len(q) > MaxQueryLen:
		return Page{}, apperr.InvalidFields(map[string]string{"q": fmt.Sprintf("Search for at most %d bytes.", MaxQueryLen)})
	}
	pattern := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q) + "%"
	// Three characters or more: find the matches with the trigram index,
	// then sort them (cost grows with the matches). Shorter fragments have
	// no trigram: walk the names in order and stop after a page of matches.
	l := lister{ownerID: ownerID, search: true, pattern: pattern, sort: SortName, matchFirst: utf8.RuneCountInString(q) >= 3}
	p, err := l.readPage(ctx, s.pool, in.Cursor, in.Limit)
	return p, apperr.Wrap(err, "files: search")
}

// readPage is page on the pool, run again when the connection was lost
// (it only reads).
func (l lister) readPage(ctx context.Context, q database.Querier, cursor string, limit int) (Page, error) {
	var p Page
	err := database.RetryRead(ctx, func(ctx context.Context) (err error) {
		p, err = l.page(ctx, q, cursor, limit)
		return err
	})
	return p, err
}

// lister pages through folders then files with one keyset cursor.
type lister struct {
	ownerID string
	// folderID is the folder listed ("" the root), unless search is set:
	// then the whole account's names matching pattern (ILIKE) are.
	folderID string
	search   bool
	pattern  string
	sort     Sort
	desc     bool
	// matchFirst keeps PostgreSQL from walking a name index in order
	// (hoping for early matches) when an index finds the matches directly:
	// with a rare match, or matches all late in name order, the walk reads
	// the whole account.
	matchFirst bool
}

// cursor is the position after the last entry of a page.
type cursor struct {
	Order string `json:"o"`           // sort and direction it was made for
	Files bool   `json:"f,omitempty"` // in the files phase
	Key   string `json:"k"`           // last sort key (text form)
	ID    string `json:"i"`           // last id
}

func (l lister) order() string {
	o := string(l.sort)
	if l.desc {
		o += "-desc"
	}
	return o
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

var errBadCursor = apperr.InvalidFields(map[string]string{"cursor": "This page link is not valid (it belongs to another listing or order); start from the first page."})

func (l lister) decodeCursor(s string) (*cursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err != nil || json.Unmarshal(b, &c) != nil || c.Order != l.order() || !validIDs(c.ID) {
		return nil, errBadCursor
	}
	if _, err := l.keyArg(c.Files, c.Key); err != nil {
		return nil, errBadCursor
	}
	return &c, nil
}

// sortKey is what a table's entries are ordered by: SortName, SortSize or
// SortDate. Folders have no size, so a listing by size orders them by name.
func (l lister) sortKey(files bool) Sort {
	if l.sort == SortSize && !files {
		return SortName
	}
	return l.sort
}

// keyOf is the text form of an entry's sort key, as stored in cursors.
func (l lister) keyOf(files bool, name string, size int64, created time.Time) string {
	switch l.sortKey(files) {
	case SortDate:
		return created.UTC().Format(time.RFC3339Nano)
	case SortSize:
		return strconv.FormatInt(size, 10)
	}
	return name // compared lower-cased in SQL, so PostgreSQL's lower() is the one that counts
}

// keyArg parses a cursor key into the SQL argument for keyExpr.
func (l lister) keyArg(files bool, key string) (any, error) {
	switch l.sortKey(files) {
	case SortDate:
		return time.Parse(time.RFC3339Nano, key)
	case SortSize:
		return strconv.ParseInt(key, 10, 64)
	}
	return key, nil
}

// page runs at most two queries: folders after the cursor, then, when
// the page is not full, files from the start (or after the cursor).
func (l lister) page(ctx context.Context, q database.Querier, cur string, limit int) (Page, error) {
	switch {
	case limit == 0:
		limit = DefaultPageSize
	case limit < 0 || limit > MaxPageSize:
		return Page{}, apperr.InvalidFields(map[string]string{"limit": fmt.Sprintf("Ask for 1 to %d entries per page.", MaxPageSize)})
	}
	c, err := l.decodeCursor(cur)
	if err != nil {
		return Page{}, err
	}
	var p Page
	if c == nil || !c.Files {
		pos, err := l.position(false, c)
		if err != nil {
			return Page{}, err
		}
		if p.Folders, err = l.listFolders(ctx, q, pos, limit+1); err != nil {
			return Page{}, err
		}
		if len(p.Folders) > limit {
			p.Folders = p.Folders[:limit]
			f := p.Folders[limit-1]
			p.Next = encodeCursor(cursor{Order: l.order(), Key: l.keyOf(false, f.Name, 0, f.CreatedAt), ID: f.ID})
			return p, nil
		}
		c = nil // the files phase starts from its beginning
	}
	pos, err := l.position(true, c)
	if err != nil {
		return Page{}, err
	}
	if p.Files, err = l.listFiles(ctx, q, pos, limit-len(p.Folders)+1); err != nil {
		return Page{}, err
	}
	if n := limit - len(p.Folders); len(p.Files) > n {
		p.Files = p.Files[:n]
		if n > 0 {
			f := p.Files[n-1]
			p.Next = encodeCursor(cursor{Order: l.order(), Files: true, Key: l.keyOf(true, f.Name, f.Size, f.CreatedAt), ID: f.ID})
		} else {
			// The folders filled the page exactly; files start the next one.
			f := p.Folders[len(p.Folders)-1]
			p.Next = encodeCursor(cursor{Order: l.order(), Key: l.keyOf(false, f.Name, 0, f.CreatedAt), ID: f.ID})
		}
	}
	return p, nil
}

// position is the keyset position of cursor c in a table (nil for none).
func (l lister) position(files bool, c *cursor) (*after, error) {
	if c == nil {
		return nil, nil
	}
	k, err := l.keyArg(files, c.Key)
	if err != nil {
		return nil, errors.Join(errBadCursor, err)
	}
	return &after{key: k, id: c.ID}, nil
}
