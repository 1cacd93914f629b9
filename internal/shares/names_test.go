package shares

import "testing"

func TestSafeSegment(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"..", "_"},
		{".", "_"},
		{"...", "_"},
		{".hidden", ".hidden"},
		{"../x", ".._x"},
		{`a\b`, "a_b"},
		{"C:", "C_"},
		{"con", "_con"},
		{"Con.txt", "_Con.txt"},
		{"COM9.log", "_COM9.log"},
		{"com10", "com10"},
		{"LPT¹", "_LPT¹"},
		{"console", "console"},
		{"nul .txt", "_nul .txt"},
		{"a\r\nb", "a__b"},
		{"gpj\u202e.exe", "gpj_.exe"},
		{"zero\u200bwidth", "zero_width"},
		{"bad\xffutf8", "bad_utf8"},
		{"  lead", "lead"},
		{"trail. ", "trail"},
		{`q"<>|?*`, "q______"},
		{"", "_"},
	}
	for _, tt := range tests {
		if got := safeSegment(tt.in); got != tt.want {
			t.Errorf("safeSegment(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := ""
	for range 200 {
		long += "é"
	}
	if got := safeSegment(long); len(got) > 255 || got[len(got)-2:] != "é" {
		t.Errorf("400-byte name cut to %d bytes: %q", len(got), got[len(got)-4:])
	}
}

func TestZipPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/etc/passwd":  "etc/passwd",
		"a//b":         "a/b",
		"../../x":      "_/_/x",
		"":             "_",
		"docs/CON/aux": "docs/_CON/_aux",
	} {
		if got := zipPath(in); got != want {
			t.Errorf("zipPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNameSet(t *testing.T) {
	t.Parallel()
	ns := nameSet{}
	for _, tt := range []struct {
		name string
		dir  bool
		want string
	}{
		{"a.txt", false, "a.txt"},
		{"A.TXT", false, "A (2).TXT"},
		{"a.txt", false, "a (3).txt"},
		{"d", true, "d"},
		{"d", false, "d (2)"},
		{"d/a.txt", false, "d/a.txt"},
		{"d/A.txt", false, "d/A (2).txt"},
		{"v1.0", true, "v1.0"},
		{"V1.0", true, "V1.0 (2)"},
	} {
		if got := ns.claim(tt.name, tt.dir); got != tt.want {
			t.Errorf("claim(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
