package views

import (
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/weupload/weupload/internal/bytesize"
)

// HumanSize formats bytes in 1024-based units ("1.5 MiB"), the same way as
// the service's messages (quota errors) and static/js/upload.js.
func HumanSize(n int64) string { return bytesize.Format(n) }

// exactBytes is "1,234,567 bytes" for the details panel.
func exactBytes(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if n == 1 {
		return b.String() + " byte"
	}
	return b.String() + " bytes"
}

// isoTime is the machine-readable time for <time datetime>.
func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// shortDate is the server's rendering of a date (UTC); the page's script
// rewrites it in the reader's time zone and locale.
func shortDate(t time.Time) string { return t.UTC().Format("2 Jan 2006") }

// longTime is a full timestamp for tooltips and the details panel.
func longTime(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 UTC") }

// usagePercent is the share of the quota in use, 0-100, for the meter's text.
func usagePercent(u Usage) int {
	if u.Quota <= 0 {
		return 0
	}
	p := int(float64(u.Used+u.Reserved) * 100 / float64(u.Quota))
	return min(max(p, 0), 100)
}

// usageTone picks the meter colour: it warns from 80 % and alarms from 95 %.
func usageTone(u Usage) string {
	switch p := usagePercent(u); {
	case p >= 95:
		return "meter-danger"
	case p >= 80:
		return "meter-warn"
	}
	return "meter-ok"
}

// fileKind groups a file by what a person would call it, for its icon and
// its type label. The content type decides first, the extension second.
func fileKind(name, contentType string) string {
	ct := strings.ToLower(contentType)
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(name), "."))
	switch {
	case strings.HasPrefix(ct, "image/"):
		return "image"
	case strings.HasPrefix(ct, "video/"):
		return "video"
	case strings.HasPrefix(ct, "audio/"):
		return "audio"
	case ct == "application/pdf" || ext == "pdf":
		return "pdf"
	}
	switch ext {
	case "zip", "gz", "tgz", "bz2", "xz", "zst", "7z", "rar", "tar":
		return "archive"
	case "xls", "xlsx", "ods", "csv", "tsv", "numbers":
		return "sheet"
	case "doc", "docx", "odt", "rtf", "pages", "key", "ppt", "pptx", "odp":
		return "doc"
	case "go", "js", "mjs", "ts", "py", "rb", "rs", "c", "h", "cpp", "java", "kt", "swift", "sh", "sql", "json", "yaml", "yml", "toml", "xml", "html", "css", "templ":
		return "code"
	case "txt", "md", "log":
		return "text"
	case "jpg", "jpeg", "png", "gif", "webp", "heic", "svg", "avif", "tif", "tiff", "bmp":
		return "image"
	case "mp4", "mov", "mkv", "webm", "avi", "m4v":
		return "video"
	case "mp3", "wav", "flac", "ogg", "m4a", "aac", "opus":
		return "audio"
	}
	if strings.HasPrefix(ct, "text/") {
		return "text"
	}
	return "file"
}

// kindLabel is the type column's words for a kind.
func kindLabel(kind string) string {
	switch kind {
	case "folder":
		return "Folder"
	case "image":
		return "Image"
	case "video":
		return "Video"
	case "audio":
		return "Audio"
	case "pdf":
		return "PDF document"
	case "archive":
		return "Archive"
	case "sheet":
		return "Spreadsheet"
	case "doc":
		return "Document"
	case "code":
		return "Source code"
	case "text":
		return "Text"
	}
	return "File"
}

// kindTile is the coloured tile behind a kind's icon.
func kindTile(kind string) string {
	switch kind {
	case "folder":
		return "bg-amber-100 text-amber-600 dark:bg-amber-400/15 dark:text-amber-300"
	case "image":
		return "bg-violet-100 text-violet-600 dark:bg-violet-400/15 dark:text-violet-300"
	case "video":
		return "bg-rose-100 text-rose-600 dark:bg-rose-400/15 dark:text-rose-300"
	case "audio":
		return "bg-fuchsia-100 text-fuchsia-600 dark:bg-fuchsia-400/15 dark:text-fuchsia-300"
	case "pdf":
		return "bg-red-100 text-red-600 dark:bg-red-400/15 dark:text-red-300"
	case "archive":
		return "bg-stone-200 text-stone-600 dark:bg-stone-400/15 dark:text-stone-300"
	case "sheet":
		return "bg-emerald-100 text-emerald-600 dark:bg-emerald-400/15 dark:text-emerald-300"
	case "doc":
		return "bg-blue-100 text-blue-600 dark:bg-blue-400/15 dark:text-blue-300"
	case "code":
		return "bg-sky-100 text-sky-600 dark:bg-sky-400/15 dark:text-sky-300"
	}
	return "bg-slate-100 text-slate-500 dark:bg-slate-400/15 dark:text-slate-300"
}

// kindIcon is the icon name of a kind (see iconPath).
func kindIcon(kind string) string {
	switch kind {
	case "folder":
		return "folder-solid"
	case "image":
		return "photo"
	case "video":
		return "film"
	case "audio":
		return "music"
	case "pdf", "doc", "text":
		return "document-text"
	case "archive":
		return "archive"
	case "sheet":
		return "table"
	case "code":
		return "code"
	}
	return "document"
}

// iconPath holds the outline icons (24×24, Heroicons, MIT) the browser uses.
func iconPath(name string) string {
	switch name {
	case "folder-solid":
		return "M19.5 21a3 3 0 0 0 3-3v-4.5a3 3 0 0 0-3-3h-15a3 3 0 0 0-3 3V18a3 3 0 0 0 3 3h15ZM1.5 10.146V6a3 3 0 0 1 3-3h5.379a2.25 2.25 0 0 1 1.59.659l2.122 2.121c.14.141.331.22.53.22H19.5a3 3 0 0 1 3 3v1.146A4.483 4.483 0 0 0 19.5 9h-15a4.483 4.483 0 0 0-3 1.146Z"
	case "folder":
		return "M2.25 12.75V12A2.25 2.25 0 0 1 4.5 9.75h15A2.25 2.25 0 0 1 21.75 12v.75m-8.69-6.44-2.12-2.12a1.5 1.5 0 0 0-1.061-.44H4.5A2.25 2.25 0 0 0 2.25 6v12a2.25 2.25 0 0 0 2.25 2.25h15A2.25 2.25 0 0 0 21.75 18V9a2.25 2.25 0 0 0-2.25-2.25h-5.379a1.5 1.5 0 0 1-1.06-.44Z"
	case "folder-plus":
		return "M12 10.5v6m3-3H9m4.06-7.19-2.12-2.12a1.5 1.5 0 0 0-1.061-.44H4.5A2.25 2.25 0 0 0 2.25 6v12a2.25 2.25 0 0 0 2.25 2.25h15A2.25 2.25 0 0 0 21.75 18V9a2.25 2.25 0 0 0-2.25-2.25h-5.379a1.5 1.5 0 0 1-1.06-.44Z"
	case "folder-move":
		return "M9 13.5h6m0 0-2.25-2.25M15 13.5l-2.25 2.25m.31-9.44-2.12-2.12a1.5 1.5 0 0 0-1.061-.44H4.5A2.25 2.25 0 0 0 2.25 6v12a2.25 2.25 0 0 0 2.25 2.25h15A2.25 2.25 0 0 0 21.75 18V9a2.25 2.25 0 0 0-2.25-2.25h-5.379a1.5 1.5 0 0 1-1.06-.44Z"
	case "photo":
		return "m2.25 15.75 5.159-5.159a2.25 2.25 0 0 1 3.182 0l5.159 5.159m-1.5-1.5 1.409-1.409a2.25 2.25 0 0 1 3.182 0l2.909 2.909m-18 3.75h16.5a1.5 1.5 0 0 0 1.5-1.5V6a1.5 1.5 0 0 0-1.5-1.5H3.75A1.5 1.5 0 0 0 2.25 6v12a1.5 1.5 0 0 0 1.5 1.5Zm10.5-11.25h.008v.008h-.008V8.25Zm.375 0a.375.375 0 1 1-.75 0 .375.375 0 0 1 .75 0Z"
	case "film":
		return "m15.75 10.5 4.72-4.72a.75.75 0 0 1 1.28.53v11.38a.75.75 0 0 1-1.28.53l-4.72-4.72M4.5 18.75h9a2.25 2.25 0 0 0 2.25-2.25v-9a2.25 2.25 0 0 0-2.25-2.25h-9A2.25 2.25 0 0 0 2.25 7.5v9a2.25 2.25 0 0 0 2.25 2.25Z"
	case "music":
		return "m9 9 10.5-3m0 6.553v3.75a2.25 2.25 0 0 1-1.632 2.163l-1.32.377a1.803 1.803 0 1 1-.99-3.467l2.31-.66a2.25 2.25 0 0 0 1.632-2.163Zm0 0V2.25L9 5.25v10.303m0 0v3.75a2.25 2.25 0 0 1-1.632 2.163l-1.32.377a1.803 1.803 0 0 1-.99-3.467l2.31-.66A2.25 2.25 0 0 0 9 15.553Z"
	case "document-text":
		return "M19.5 14.25v-2.625a3.375 3.375 0 0 0-3.375-3.375h-1.5A1.125 1.125 0 0 1 13.5 7.125v-1.5a3.375 3.375 0 0 0-3.375-3.375H8.25m0 12.75h7.5m-7.5 3H12M10.5 2.25H5.625c-.621 0-1.125.504-1.125 1.125v17.25c0 .621.504 1.125 1.125 1.125h12.75c.621 0 1.125-.504 1.125-1.125V11.25a9 9 0 0 0-9-9Z"
	case "archive":
		return "m20.25 7.5-.625 10.632a2.25 2.25 0 0 1-2.247 2.118H6.622a2.25 2.25 0 0 1-2.247-2.118L3.75 7.5M10 11.25h4M3.375 7.5h17.25c.621 0 1.125-.504 1.125-1.125v-1.5c0-.621-.504-1.125-1.125-1.125H3.375c-.621 0-1.125.504-1.125 1.125v1.5c0 .621.504 1.125 1.125 1.125Z"
	case "table":
		return "M3.75 5.25h16.5a.75.75 0 0 1 .75.75v12a.75.75 0 0 1-.75.75H3.75a.75.75 0 0 1-.75-.75V6a.75.75 0 0 1 .75-.75ZM3 9.75h18M3 14.25h18M9 5.25v13.5"
	case "code":
		return "M17.25 6.75 22.5 12l-5.25 5.25m-10.5 0L1.5 12l5.25-5.25m7.5-3-4.5 16.5"
	case "upload":
		return "M3 16.5v2.25A2.25 2.25 0 0 0 5.25 21h13.5A2.25 2.25 0 0 0 21 18.75V16.5m-13.5-9L12 3m0 0 4.5 4.5M12 3v13.5"
	case "cloud-upload":
		return "M12 16.5V9.75m0 0 3 3m-3-3-3 3M6.75 19.5a4.5 4.5 0 0 1-1.41-8.775 5.25 5.25 0 0 1 10.233-2.33 3 3 0 0 1 3.758 3.848A3.752 3.752 0 0 1 18 19.5H6.75Z"
	case "download":
		return "M3 16.5v2.25A2.25 2.25 0 0 0 5.25 21h13.5A2.25 2.25 0 0 0 21 18.75V16.5M16.5 12 12 16.5m0 0L7.5 12m4.5 4.5V3"
	case "trash":
		return "m14.74 9-.346 9m-4.788 0L9.26 9m9.968-3.21c.342.052.682.107 1.022.166m-1.022-.165L18.16 19.673a2.25 2.25 0 0 1-2.244 2.077H8.084a2.25 2.25 0 0 1-2.244-2.077L4.772 5.79m14.456 0a48.108 48.108 0 0 0-3.478-.397m-12 .562c.34-.059.68-.114 1.022-.165m0 0a48.11 48.11 0 0 1 3.478-.397m7.5 0v-.916c0-1.18-.91-2.164-2.09-2.201a51.964 51.964 0 0 0-3.32 0c-1.18.037-2.09 1.022-2.09 2.201v.916m7.5 0a48.667 48.667 0 0 0-7.5 0"
	case "restore":
		return "M9 15 3 9m0 0 6-6M3 9h12a6 6 0 0 1 0 12h-3"
	case "dots":
		return "M12 6.75a.75.75 0 1 1 0-1.5.75.75 0 0 1 0 1.5ZM12 12.75a.75.75 0 1 1 0-1.5.75.75 0 0 1 0 1.5ZM12 18.75a.75.75 0 1 1 0-1.5.75.75 0 0 1 0 1.5Z"
	case "pencil":
		return "m16.862 4.487 1.687-1.688a1.875 1.875 0 1 1 2.652 2.652L10.582 16.07a4.5 4.5 0 0 1-1.897 1.13L6 18l.8-2.685a4.5 4.5 0 0 1 1.13-1.897l8.932-8.931Zm0 0L19.5 7.125M18 14v4.75A2.25 2.25 0 0 1 15.75 21H5.25A2.25 2.25 0 0 1 3 18.75V8.25A2.25 2.25 0 0 1 5.25 6H10"
	case "x":
		return "M6 18 18 6M6 6l12 12"
	case "check":
		return "m4.5 12.75 6 6 9-13.5"
	case "search":
		return "m21 21-5.197-5.197m0 0A7.5 7.5 0 1 0 5.196 5.196a7.5 7.5 0 0 0 10.607 10.607Z"
	case "chevron-right":
		return "m8.25 4.5 7.5 7.5-7.5 7.5"
	case "chevron-up":
		return "m4.5 15.75 7.5-7.5 7.5 7.5"
	case "chevron-down":
		return "m19.5 8.25-7.5 7.5-7.5-7.5"
	case "home":
		return "m2.25 12 8.954-8.955c.44-.439 1.152-.439 1.591 0L21.75 12M4.5 9.75v10.125c0 .621.504 1.125 1.125 1.125H9.75v-4.875c0-.621.504-1.125 1.125-1.125h2.25c.621 0 1.125.504 1.125 1.125V21h4.125c.621 0 1.125-.504 1.125-1.125V9.75M8.25 21h8.25"
	case "info":
		return "m11.25 11.25.041-.02a.75.75 0 0 1 1.063.852l-.708 2.836a.75.75 0 0 0 1.063.853l.041-.021M21 12a9 9 0 1 1-18 0 9 9 0 0 1 18 0Zm-9-3.75h.008v.008H12V8.25Z"
	case "copy":
		return "M15.75 17.25v3.375c0 .621-.504 1.125-1.125 1.125h-9.75a1.125 1.125 0 0 1-1.125-1.125V7.875c0-.621.504-1.125 1.125-1.125H6.75a9.06 9.06 0 0 1 1.5.124m7.5 10.376h3.375c.621 0 1.125-.504 1.125-1.125V11.25c0-4.46-3.243-8.161-7.5-8.876a9.06 9.06 0 0 0-1.5-.124H9.375c-.621 0-1.125.504-1.125 1.125v3.5m7.5 10.375H9.375a1.125 1.125 0 0 1-1.125-1.125v-9.25m12 6.625v-1.875a3.375 3.375 0 0 0-3.375-3.375h-1.5a1.125 1.125 0 0 1-1.125-1.125v-1.5a3.375 3.375 0 0 0-3.375-3.375H9.75"
	case "warning":
		return "M12 9v3.75m-9.303 3.376c-.866 1.5.217 3.374 1.948 3.374h14.71c1.73 0 2.813-1.874 1.948-3.374L13.949 3.378c-.866-1.5-3.032-1.5-3.898 0L2.697 16.126ZM12 15.75h.007v.008H12v-.008Z"
	case "retry":
		return "M16.023 9.348h4.992v-.001M2.985 19.644v-4.992m0 0h4.992m-4.993 0 3.181 3.183a8.25 8.25 0 0 0 13.803-3.7M4.031 9.865a8.25 8.25 0 0 1 13.803-3.7l3.181 3.182m0-4.991v4.99"
	case "share":
		return "M7.217 10.907a2.25 2.25 0 1 0 0 2.186m0-2.186c.18.324.283.696.283 1.093s-.103.77-.283 1.093m0-2.186 9.566-5.314m-9.566 7.5 9.566 5.314m0 0a2.25 2.25 0 1 0 3.935 2.186 2.25 2.25 0 0 0-3.935-2.186Zm0-12.814a2.25 2.25 0 1 0 3.933-2.185 2.25 2.25 0 0 0-3.933 2.185Z"
	case "users":
		return "M15 19.128a9.38 9.38 0 0 0 2.625.372 9.337 9.337 0 0 0 4.121-.952 4.125 4.125 0 0 0-7.533-2.493M15 19.128v-.003c0-1.113-.285-2.16-.786-3.07M15 19.128v.106A12.318 12.318 0 0 1 8.624 21c-2.331 0-4.512-.645-6.374-1.766l-.001-.109a6.375 6.375 0 0 1 11.964-3.07M12 6.375a3.375 3.375 0 1 1-6.75 0 3.375 3.375 0 0 1 6.75 0Zm8.25 2.25a2.625 2.625 0 1 1-5.25 0 2.625 2.625 0 0 1 5.25 0Z"
	case "pause":
		return "M15.75 5.25v13.5m-7.5-13.5v13.5"
	}
	// "document": a blank page.
	return "M19.5 14.25v-2.625a3.375 3.375 0 0 0-3.375-3.375h-1.5A1.125 1.125 0 0 1 13.5 7.125v-1.5a3.375 3.375 0 0 0-3.375-3.375H8.25m2.25 0H5.625c-.621 0-1.125.504-1.125 1.125v17.25c0 .621.504 1.125 1.125 1.125h12.75c.621 0 1.125-.504 1.125-1.125V11.25a9 9 0 0 0-9-9Z"
}
