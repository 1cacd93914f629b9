package blob_test

import (
	"errors"
	"mime"
	"strings"
	"testing"

	"github.com/weupload/weupload/internal/blob"
)

func TestContentDisposition(t *testing.T) {
	long := strings.Repeat("é", 127) + "x" // 255 bytes
	tests := []struct {
		name     string
		in       string
		want     string // exact header, or "" to only check the decoded name
		wantName string // what filename* decodes to
	}{
		{name: "plain", in: "report.pdf", want: `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`, wantName: "report.pdf"},
		{name: "empty", in: "", want: "attachment"},
		{name: "only spaces", in: "   ", want: "attachment"},
		{name: "svg onload", in: "<svg onload=alert(1)>.svg",
			want:     `attachment; filename="<svg onload=alert(1)>.svg"; filename*=UTF-8''%3Csvg%20onload%3Dalert%281%29%3E.svg`,
			wantName: "<svg onload=alert(1)>.svg"},
		{name: "quotes", in: `"quoted".txt`,
			want:     `attachment; filename="_quoted_.txt"; filename*=UTF-8''%22quoted%22.txt`,
			wantName: `"quoted".txt`},
		{name: "header injection", in: "a\r\nSet-Cookie: x=1\r\n.txt",
			want:     `attachment; filename="a__Set-Cookie: x=1__.txt"; filename*=UTF-8''a__Set-Cookie%3A%20x%3D1__.txt`,
			wantName: "a__Set-Cookie: x=1__.txt"},
		{name: "rtl override", in: "invoice\u202Egpj.exe",
			want:     `attachment; filename="invoice_gpj.exe"; filename*=UTF-8''invoice_gpj.exe`,
			wantName: "invoice_gpj.exe"},
		{name: "zero width", in: "a\u200Bb.txt", wantName: "a_b.txt"},
		{name: "emoji", in: "party 🎉.png",
			want:     `attachment; filename="party _.png"; filename*=UTF-8''party%20%F0%9F%8E%89.png`,
			wantName: "party 🎉.png"},
		{name: "path", in: `../../etc\passwd`, wantName: `.._.._etc_passwd`},
		{name: "percent", in: "100%.txt", want: `attachment; filename="100_.txt"; filename*=UTF-8''100%25.txt`, wantName: "100%.txt"},
		{name: "backslash quote", in: `a\"b`, wantName: `a_"b`},
		{name: "invalid utf8", in: "a\xffb", wantName: "a\uFFFDb"},
		{name: "semicolon", in: "a; filename=evil.html", wantName: "a; filename=evil.html"},
		{name: "255 bytes", in: long, wantName: long},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := blob.ContentDisposition(tt.in)
			if tt.want != "" && got != tt.want {
				t.Errorf("ContentDisposition(%q)\n got %s\nwant %s", tt.in, got, tt.want)
			}
			if strings.ContainsAny(got, "\r\n\x00") {
				t.Fatalf("header value contains CR/LF/NUL: %q", got)
			}
			for _, c := range []byte(got) {
				if c >= 0x80 || c < 0x20 {
					t.Fatalf("header value not printable ASCII: %q", got)
				}
			}
			disp, params, err := mime.ParseMediaType(got)
			if err != nil {
				t.Fatalf("ParseMediaType(%q): %v", got, err)
			}
			if disp != "attachment" {
				t.Errorf("disposition = %q, want attachment", disp)
			}
			if params["filename"] != tt.wantName {
				t.Errorf("decoded filename = %q, want %q", params["filename"], tt.wantName)
			}
		})
	}
}

func TestSafeContentType(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", "application/octet-stream"},
		{"text/html", "application/octet-stream"},
		{"TEXT/HTML; charset=utf-8", "application/octet-stream"},
		{"application/xhtml+xml", "application/octet-stream"},
		{"image/svg+xml", "application/octet-stream"},
		{"text/xml", "application/octet-stream"},
		{"application/xml", "application/octet-stream"},
		{"text/javascript", "application/octet-stream"},
		{"application/javascript", "application/octet-stream"},
		{"application/ecmascript", "application/octet-stream"},
		{"text/css", "application/octet-stream"},
		{"multipart/x-mixed-replace; boundary=x", "application/octet-stream"},
		{"application/x-shockwave-flash", "application/octet-stream"},
		{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
		{"application/vnd.openxmlformats-officedocument.foo+xml", "application/octet-stream"},
		{"application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.text"},
		{"foo/bar", "application/octet-stream"},
		{"garbage", "application/octet-stream"},
		{"text/plain; charset=", "application/octet-stream"},
		{"text/plain\r\nX-Evil: 1", "application/octet-stream"},
		{"application/pdf", "application/pdf"},
		{"Application/PDF; name=x", "application/pdf"},
		{"image/png", "image/png"},
		{"video/mp4", "video/mp4"},
		{"text/plain", "text/plain"},
		{"text/plain; charset=UTF-8", "text/plain; charset=utf-8"},
		{"text/plain; charset=utf-7", "text/plain"},
		{"text/csv; charset=utf-8; header=present", "text/csv; charset=utf-8"},
		{"application/octet-stream", "application/octet-stream"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := blob.SafeContentType(tt.in); got != tt.want {
				t.Errorf("SafeContentType(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidateKey(t *testing.T) {
	good := []string{"u/1/abc", "a", "u/0195f3c1-7f3a/AbC_-.x"}
	bad := []string{"", ".", "..", "../x", "u/../x", "/abs", "u//x", "u/x/", `u\x`, "u/./x", "u/\x00", "u/\n", "a\xff", strings.Repeat("a", 1025)}
	for _, k := range good {
		if err := blob.ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q) = %v, want nil", k, err)
		}
	}
	for _, k := range bad {
		if err := blob.ValidateKey(k); !errors.Is(err, blob.ErrInvalid) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalid", k, err)
		}
	}
}

func TestMultipartOptions(t *testing.T) {
	o := blob.MultipartOptions{Size: 2*blob.MinPartSize + 7, PartSize: blob.MinPartSize}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := o.Parts(); got != 3 {
		t.Errorf("Parts = %d, want 3", got)
	}
	for n, want := range map[int32]int64{0: -1, 1: blob.MinPartSize, 2: blob.MinPartSize, 3: 7, 4: -1} {
		if got := o.PartLen(n); got != want {
			t.Errorf("PartLen(%d) = %d, want %d", n, got, want)
		}
	}
	bad := []blob.MultipartOptions{
		{Size: 0, PartSize: blob.MinPartSize},
		{Size: 10, PartSize: blob.MinPartSize - 1},
		{Size: 10, PartSize: blob.MaxPartSize + 1},
		{Size: blob.MinPartSize*blob.MaxParts + 1, PartSize: blob.MinPartSize},
	}
	for _, o := range bad {
		if err := o.Validate(); !errors.Is(err, blob.ErrInvalid) {
			t.Errorf("%+v.Validate() = %v, want ErrInvalid", o, err)
		}
	}
}
