package bytesize

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"1024", 1024, true}, {"64KiB", 64 << 10, true}, {"5MiB", 5 << 20, true},
		{"5gib", 5 << 30, true}, {"1TiB", 1 << 40, true}, {"10MB", 10e6, true}, {"5 GiB", 5 << 30, true},
		{"", 0, false}, {"-1", 0, false}, {"1.5GiB", 0, false}, {"5PiB", 0, false}, {"99999999999999999999", 0, false},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("Parse(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestFormat(t *testing.T) {
	for n, want := range map[int64]string{1023: "1023 bytes", 1536: "1.5 KiB", 1<<20 - 1: "1 MiB", 5 << 30: "5 GiB"} {
		if got := Format(n); got != want {
			t.Errorf("Format(%d) = %q, want %q", n, got, want)
		}
	}
}
