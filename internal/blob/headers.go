package blob

import (
	"fmt"
	"io/fs"
	"mime"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ContentDisposition returns an RFC 6266 attachment header value for a user's
// file name, with an ASCII fallback and the exact name percent-encoded:
//
//	attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded UTF-8>
//
// The fallback replaces quotes, backslashes, percent signs, control
// characters and every non-ASCII character with "_"; both forms replace path
// separators and Unicode format characters (bidi overrides such as U+202E,
// which can disguise "gpj.exe" as "exe.jpg", zero-width characters) and
// invalid UTF-8. An empty name gives plain "attachment".
func ContentDisposition(filename string) string {
	name := cleanFilename(filename)
	if name == "" {
		return "attachment"
	}
	var fallback strings.Builder
	for _, r := range name {
		if r < 0x20 || r >= 0x7f || r == '"' || r == '\\' || r == '%' {
			fallback.WriteByte('_')
			continue
		}
		fallback.WriteRune(r)
	}
	return `attachment; filename="` + fallback.String() + `"; filename*=UTF-8''` + encodeRFC5987(name)
}

// cleanFilename replaces what must never reach a header or a save dialog:
// invalid UTF-8, control characters, path separators and Unicode format
// characters (Cf: bidi overrides, zero-width joiners, BOM). It trims spaces.
func cleanFilename(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '/' || r == '\\':
			return '_'
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			return '_'
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// encodeRFC5987 percent-encodes s as an RFC 5987 value-chars string.
func encodeRFC5987(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAttrChar(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// isAttrChar reports whether c is an RFC 5987 attr-char.
func isAttrChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}

// octetStream is the type for anything not known to be inert.
const octetStream = "application/octet-stream"

// isSafeType reports whether browsers show media type mt without running
// script from it. Anything else (text/html, xhtml, svg, xml, javascript,
// css, unknown or malformed types) becomes application/octet-stream.
func isSafeType(mt string) bool {
	switch mt {
	case "text/plain", "text/csv", "text/markdown", "text/tab-separated-values",
		"application/pdf", "application/json", "application/rtf", "application/epub+zip",
		"application/zip", "application/gzip", "application/x-gzip", "application/x-tar",
		"application/x-bzip2", "application/x-xz", "application/zstd",
		"application/x-7z-compressed", "application/vnd.rar",
		"application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
		"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp",
		"image/tiff", "image/heic", "image/heif", "image/x-icon", "image/vnd.microsoft.icon",
		"audio/mpeg", "audio/ogg", "audio/wav", "audio/x-wav", "audio/flac", "audio/aac",
		"audio/mp4", "audio/webm", "audio/opus",
		"video/mp4", "video/webm", "video/ogg", "video/quicktime", "video/x-matroska", "video/mpeg",
		"font/woff", "font/woff2", "font/ttf", "font/otf",
		octetStream:
		return true
	}
	// Office documents (zip containers that browsers download), unless the
	// subtype says XML, HTML or script.
	for _, p := range []string{"application/vnd.openxmlformats-officedocument.", "application/vnd.oasis.opendocument."} {
		rest, ok := strings.CutPrefix(mt, p)
		if ok && !strings.Contains(rest, "xml") && !strings.Contains(rest, "html") && !strings.Contains(rest, "script") {
			return true
		}
	}
	return false
}

// isSafeCharset reports whether a text type may keep charset cs (UTF-7 was
// an XSS vector; others are dropped).
func isSafeCharset(cs string) bool {
	switch cs {
	case "utf-8", "us-ascii", "iso-8859-1", "windows-1252":
		return true
	}
	return false
}

// SafeContentType returns ct normalised when it is a type browsers display
// inertly (plain text, PDF, images other than SVG, audio, video, archives,
// office documents), and application/octet-stream for everything else:
// HTML, XHTML, SVG, XML, JavaScript, CSS, unknown and malformed types. Only
// a safe charset parameter survives.
func SafeContentType(ct string) string {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return octetStream
	}
	if !isSafeType(mt) {
		return octetStream
	}
	if !strings.HasPrefix(mt, "text/") {
		return mt
	}
	cs := strings.ToLower(params["charset"])
	if !isSafeCharset(cs) {
		return mt
	}
	return mime.FormatMediaType(mt, map[string]string{"charset": cs})
}

// MaxKeyLen is the longest key accepted (S3's limit, in bytes).
const MaxKeyLen = 1024

// ValidateKey checks that key is a clean relative slash-separated path:
// non-empty, at most MaxKeyLen bytes, valid UTF-8, no control characters, no
// backslash, no empty, "." or ".." segment, no leading or trailing slash.
// Keys are server-made, so this is defence in depth; errors wrap ErrInvalid.
func ValidateKey(key string) error {
	if key == "" || len(key) > MaxKeyLen || !utf8.ValidString(key) || !fs.ValidPath(key) || key == "." {
		return fmt.Errorf("%w: bad key %q", ErrInvalid, key)
	}
	for _, r := range key {
		if r == '\\' || unicode.IsControl(r) {
			return fmt.Errorf("%w: bad key %q", ErrInvalid, key)
		}
	}
	return nil
}
