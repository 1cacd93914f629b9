package shares_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/weupload/weupload/internal/shares"
	"github.com/weupload/weupload/internal/svctest"
)

// TestArchive streams a folder link as a zip from each real store and reads
// it back: every entry stored (not compressed) with exactly the uploaded
// bytes, the folder structure kept, and names that would escape the target
// folder or mislead on Windows made safe. Such names cannot be made through
// the files service, so the test writes them into the database directly.
func TestArchive(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"disk", "s3"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, kind)
			ctx := context.Background()
			ann := e.User(t, "Ann")
			root := e.folder(t, ann, "", "share")
			sub := e.folder(t, ann, root.ID, "docs")
			empty := e.folder(t, ann, sub.ID, "empty")
			evilDir := e.folder(t, ann, root.ID, "evil-dir")
			want := map[string][]byte{}
			add := func(folder, stored, zipName string, data []byte) {
				f := e.upload(t, ann, folder, "tmp-"+svctest.RandomHex(4), data)
				if _, err := e.Pool.Exec(ctx, `UPDATE files SET name = $2 WHERE id = $1`, f.ID, stored); err != nil {
					t.Fatal(err)
				}
				want[zipName] = data
			}
			big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
			add(root.ID, "plain.txt", "plain.txt", []byte("plain"))
			add(sub.ID, "report.pdf", "docs/report.pdf", big)
			add(root.ID, "../x", ".._x", []byte("dotdot"))
			add(root.ID, `..\..\win.txt`, ".._.._win.txt", []byte("backslash"))
			add(root.ID, "/etc/passwd", "_etc_passwd", []byte("absolute"))
			add(root.ID, "C:evil.txt", "C_evil.txt", []byte("drive"))
			add(root.ID, "CON", "_CON", []byte("device"))
			add(root.ID, "lpt1.tar.gz", "_lpt1.tar.gz", []byte("device with extension"))
			add(root.ID, "a\r\nb.txt", "a__b.txt", []byte("crlf"))
			add(root.ID, "evil\u202Etxt.exe", "evil_txt.exe", []byte("rtl override"))
			add(root.ID, "tab\there\x1b.txt", "tab_here_.txt", []byte("controls"))
			add(root.ID, "trailing. . ", "trailing", []byte("windows drops trailing dots"))
			add(root.ID, "..", "_ (2)", []byte("dotdot alone")) // "_" is the folder below
			if _, err := e.Pool.Exec(ctx, `UPDATE folders SET name = '..' WHERE id = $1`, evilDir.ID); err != nil {
				t.Fatal(err)
			}
			add(evilDir.ID, "inside.txt", "_/inside.txt", []byte("in a folder named .."))
			trashed := e.upload(t, ann, root.ID, "trashed.txt", []byte("gone"))
			if err := e.files.TrashFile(ctx, ann, trashed.ID); err != nil {
				t.Fatal(err)
			}
			l := e.create(t, ann, shares.CreateInput{FolderID: root.ID})

			a, err := e.shares.Archive(ctx, l.Token, anyone)
			if err != nil {
				t.Fatal(err)
			}
			if a.Name != "share.zip" {
				t.Fatalf("archive name %q", a.Name)
			}
			var buf bytes.Buffer
			var sizes []int64
			if err := a.Write(ctx, &buf, func(n int64) { sizes = append(sizes, n) }); err != nil {
				t.Fatal(err)
			}
			if len(sizes) != len(want) {
				t.Fatalf("before called %d times for %d files", len(sizes), len(want))
			}
			zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]byte{}
			var dirs []string
			for _, f := range zr.File {
				if f.Method != zip.Store {
					t.Errorf("%s: method %d, want stored", f.Name, f.Method)
				}
				if strings.HasPrefix(f.Name, "/") || slices.Contains(strings.Split(f.Name, "/"), "..") ||
					strings.ContainsAny(f.Name, "\\\r\n\x00:\u202e") {
					t.Errorf("unsafe name %q", f.Name)
				}
				if strings.HasSuffix(f.Name, "/") {
					dirs = append(dirs, f.Name)
					continue
				}
				rc, err := f.Open()
				if err != nil {
					t.Fatal(err)
				}
				b, err := io.ReadAll(rc) // checks the CRC too
				rc.Close()
				if err != nil {
					t.Fatalf("%s: %v", f.Name, err)
				}
				got[f.Name] = b
			}
			for name, data := range want {
				if !bytes.Equal(got[name], data) {
					t.Errorf("%q: got %d bytes, want %d", name, len(got[name]), len(data))
				}
			}
			if len(got) != len(want) {
				var names []string
				for n := range got {
					names = append(names, n)
				}
				t.Errorf("zip has %d files, want %d: %q", len(got), len(want), names)
			}
			if !slices.Contains(dirs, "_/") || !slices.Contains(dirs, "docs/empty/") || !slices.Contains(dirs, "docs/") {
				t.Errorf("folders %q: want _/, docs/ and docs/empty/", dirs)
			}
			_ = empty
		})
	}
}

func TestArchiveOfFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk")
	ctx := context.Background()
	ann := e.User(t, "Ann")
	a := e.upload(t, ann, "", "a.txt", []byte("aaa"))
	b := e.upload(t, ann, "", "b.txt", []byte("bbbb"))
	l := e.create(t, ann, shares.CreateInput{FileIDs: []string{a.ID, b.ID}, Title: "Two files", MaxDownloads: ptr(1)})
	ar, err := e.shares.Archive(ctx, l.Token, anyone)
	if err != nil {
		t.Fatal(err)
	}
	if ar.Name != "Two files.zip" || ar.Size() != 7 {
		t.Fatalf("name %q size %d", ar.Name, ar.Size())
	}
	var buf bytes.Buffer
	if err := ar.Write(ctx, &buf, nil); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil || len(zr.File) != 2 || zr.File[0].Name != "a.txt" || zr.File[1].Name != "b.txt" {
		t.Fatalf("zip: %v %v", err, zr)
	}
	// The zip used the one download.
	_, err = e.shares.DownloadURL(ctx, l.Token, a.ID, anyone)
	if err == nil {
		t.Fatal("a download after the zip used the limit")
	}
}

// TestArchiveConstantMemory streams a zip of a 48 MiB file from each store
// and checks that the process allocated a small fraction of that: the
// bytes go through a fixed buffer, never into memory whole.
func TestArchiveConstantMemory(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"disk", "s3"} {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind)
			ctx := context.Background()
			ann := e.User(t, "Ann")
			const size = 48 << 20
			f := e.upload(t, ann, "", "big.bin", bytes.Repeat([]byte{0xA5}, size))
			l := e.create(t, ann, shares.CreateInput{FileIDs: []string{f.ID}})
			a, err := e.shares.Archive(ctx, l.Token, anyone)
			if err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			n := &countingWriter{}
			if err := a.Write(ctx, n, nil); err != nil {
				t.Fatal(err)
			}
			runtime.ReadMemStats(&after)
			if n.n < size {
				t.Fatalf("zip of %d bytes for a %d-byte file", n.n, size)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/4 {
				t.Fatalf("streaming a %d MiB zip allocated %d MiB", size>>20, alloc>>20)
			} else {
				t.Logf("streaming a %d MiB zip allocated %d KiB", size>>20, alloc>>10)
			}
		})
	}
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}
