package shares

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/weupload/weupload/internal/blob"
)

// Write streams the archive as a zip to w: entries stored, not compressed
// (most shared files are compressed already, and stored entries cost no
// CPU), each file copied from the store through a fixed buffer, so memory
// stays constant whatever the sizes. before, when not nil, is called with
// each file's size before it is copied (the web layer extends its write
// deadline there). Names are made safe for every unzip tool (see zipPath).
// A file deleted since the archive was listed is left out. On an error the
// zip is incomplete: the caller must abort the response, not end it.
func (a Archive) Write(ctx context.Context, w io.Writer, before func(size int64)) error {
	zw := zip.NewWriter(w)
	names := nameSet{}
	// dirs maps each folder path of the link ("a/b/") to its safe, unique
	// name in the zip; parents come first (the list is sorted by path).
	dirs := map[string]string{"": ""}
	for _, d := range a.dirs {
		parent, name := splitDir(d)
		safe := names.claim(dirs[parent]+safeSegment(name), true) + "/"
		dirs[d] = safe
		if _, err := zw.CreateHeader(&zip.FileHeader{Name: safe, Method: zip.Store}); err != nil {
			return fmt.Errorf("shares: zip folder: %w", err)
		}
	}
	buf := make([]byte, 256<<10)
	for _, e := range a.files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if before != nil {
			before(e.Size)
		}
		rc, err := a.open(ctx, e)
		if errors.Is(err, blob.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("shares: zip %s: %w", e.ID, err)
		}
		dir, ok := dirs[e.Dir]
		if !ok {
			dir = zipPath(e.Dir) + "/"
		}
		h := &zip.FileHeader{Name: names.claim(dir+safeSegment(e.Name), false), Method: zip.Store, Modified: e.Modified}
		h.UncompressedSize64 = uint64(e.Size)
		fw, err := zw.CreateHeader(h)
		if err == nil {
			_, err = io.CopyBuffer(fw, rc, buf)
		}
		rc.Close()
		if err != nil {
			return fmt.Errorf("shares: zip %s: %w", e.ID, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("shares: zip: %w", err)
	}
	return nil
}

// splitDir splits a folder path "a/b/" into its parent "a/" and name "b".
func splitDir(d string) (parent, name string) {
	d = strings.TrimSuffix(d, "/")
	if i := strings.LastIndexByte(d, '/'); i >= 0 {
		return d[:i+1], d[i+1:]
	}
	return "", d
}

// zipPath turns a slash-separated path of user-chosen names into a zip entry
// name that extracts inside the target folder on every system: each segment
// through safeSegment, empty segments dropped, so no absolute path, no "..",
// no drive letter and no backslash separator survives.
func zipPath(p string) string {
	var segs []string
	for _, s := range strings.Split(p, "/") {
		if s == "" {
			continue
		}
		segs = append(segs, safeSegment(s))
	}
	if len(segs) == 0 {
		return "_"
	}
	return strings.Join(segs, "/")
}

// maxSegment is the longest segment in bytes (most file systems' limit).
const maxSegment = 255

// safeSegment makes one file or folder name safe to extract: invalid UTF-8,
// control characters (CR, LF, NUL...), Unicode format characters (the RTL
// override U+202E that disguises "gpj.exe" as "exe.jpg", zero-width
// characters), path separators and the characters Windows forbids
// (<>:"|?*) become "_"; trailing dots and spaces (which Windows drops) go;
// "." and ".." become "_"; Windows device names (CON, NUL, COM1, LPT1...,
// with or without an extension) get a "_" prefix.
func safeSegment(s string) string {
	s = strings.ToValidUTF8(s, "_")
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), r == utf8.RuneError:
			return '_'
		case strings.ContainsRune(`/\<>:"|?*`, r):
			return '_'
		}
		return r
	}, s)
	s = strings.TrimLeft(s, " ")
	s = strings.TrimRight(s, ". ")
	if s == "" {
		return "_"
	}
	if reservedName(s) {
		s = "_" + s
	}
	if len(s) > maxSegment {
		cut := maxSegment
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = strings.TrimRight(s[:cut], ". ")
	}
	return s
}

// reservedName reports Windows device names, which open the device instead
// of a file even with an extension ("CON.txt", "com1.tar.gz").
func reservedName(s string) bool {
	base, _, _ := strings.Cut(s, ".")
	base = strings.ToUpper(strings.TrimRight(base, " "))
	switch base {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(base) == 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) {
		return base[3] >= '0' && base[3] <= '9'
	}
	if (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) && len(base) > 3 {
		switch base[3:] {
		case "¹", "²", "³":
			return true
		}
	}
	return false
}

// nameSet keeps zip entry names unique, ignoring case (as Windows and macOS
// do), numbering later ones: "a.txt", "a (2).txt".
type nameSet map[string]bool

func (ns nameSet) claim(name string, dir bool) string {
	dirPart, file := "", name
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		dirPart, file = name[:i+1], name[i+1:]
	}
	base, ext := file, ""
	if i := strings.LastIndexByte(file, '.'); i > 0 && !dir {
		base, ext = file[:i], file[i:]
	}
	candidate := name
	for n := 2; ns[strings.ToLower(candidate)]; n++ {
		candidate = dirPart + base + " (" + strconv.Itoa(n) + ")" + ext
	}
	ns[strings.ToLower(candidate)] = true
	return candidate
}
