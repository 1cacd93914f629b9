package files

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/database"
)

// MaxNameLen is the longest name in bytes of UTF-8.
const MaxNameLen = 255

// CleanName returns name in the form it is stored (NFC, surrounding spaces
// trimmed) or an apperr Invalid error on field for a name that is empty,
// longer than MaxNameLen bytes, "." or "..", or contains "/", NUL, control
// characters, invalid UTF-8 or bidirectional overrides (which can make
// "gpj.exe" look like "exe.jpg").
func CleanName(field, name string) (string, error) {
	if msg := nameProblem(name); msg != "" {
		return "", apperr.InvalidFields(map[string]string{field: msg})
	}
	return norm.NFC.String(strings.TrimSpace(name)), nil
}

// nameProblem explains what is wrong with name, or returns "".
func nameProblem(name string) string {
	if !utf8.ValidString(name) {
		return "A name must be valid UTF-8 text."
	}
	name = norm.NFC.String(strings.TrimSpace(name))
	switch {
	case name == "":
		return "Enter a name."
	case len(name) > MaxNameLen:
		return fmt.Sprintf("A name has at most %d bytes (%d given).", MaxNameLen, len(name))
	case name == "." || name == "..":
		return `A name cannot be "." or "..".`
	case strings.ContainsRune(name, '/'):
		return `A name cannot contain "/".`
	}
	for _, r := range name {
		switch {
		case r == 0:
			return "A name cannot contain NUL characters."
		case unicode.IsControl(r):
			return "A name cannot contain control characters."
		case isBidiControl(r):
			return "A name cannot contain text-direction override characters."
		}
	}
	return ""
}

// isBidiControl reports the embedding, override and isolate controls.
func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

// splitExt splits "report.final.pdf" into "report.final" and ".pdf". A
// leading dot (".bashrc") is not an extension.
func splitExt(name string) (base, ext string) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 {
		return name, ""
	}
	return name[:i], name[i:]
}

// numbered returns "base (n)ext", shortening base at a rune boundary so the
// result fits MaxNameLen bytes.
func numbered(base, ext string, n int) string {
	suffix := " (" + strconv.Itoa(n) + ")" + ext
	for len(base)+len(suffix) > MaxNameLen && base != "" {
		_, size := utf8.DecodeLastRuneInString(base)
		base = base[:len(base)-size]
	}
	return base + suffix
}

// claimName returns the name an entry gets in the folder: name itself when
// it is free, otherwise the first free "name (n).ext" with ConflictRename,
// or an apperr Conflict error. The caller holds lockNames for the folder.
func claimName(ctx context.Context, q database.Querier, ownerID, folderID, name, except string, onConflict OnConflict) (string, error) {
	taken, err := nameTaken(ctx, q, ownerID, folderID, name, except)
	if err != nil || !taken {
		return name, err
	}
	if onConflict != ConflictRename {
		return "", errNameTaken(name)
	}
	base, ext := splitExt(name)
	// Candidates in batches: one query finds which of the next 100 are taken.
	for first := 1; ; first += 100 {
		cands := make([]string, 100)
		for i := range cands {
			cands[i] = numbered(base, ext, first+i)
		}
		used, err := takenNames(ctx, q, ownerID, folderID, cands)
		if err != nil {
			return "", err
		}
		for _, c := range cands {
			if !slices.Contains(used, c) {
				return c, nil
			}
		}
	}
}

// errNameTaken is the Conflict error for a name already in the folder.
func errNameTaken(name string) error {
	return &apperr.Error{
		Code:    apperr.Conflict,
		Message: fmt.Sprintf("%q already exists in this folder. Choose another name, or keep both.", name),
		Fields:  map[string]string{"name": "This name is already taken in the folder."},
	}
}
