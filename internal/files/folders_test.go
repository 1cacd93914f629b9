package files_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/svctest"
)

func TestCleanName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"report.pdf", "report.pdf", true},
		{"  spaced  ", "spaced", true},
		{"e\u0301t\u00e9", "\u00e9t\u00e9", true}, // NFD becomes NFC
		{"👨‍👩‍👧.png", "👨‍👩‍👧.png", true},          // zero-width joiners are fine
		{strings.Repeat("a", 255), strings.Repeat("a", 255), true},
		{strings.Repeat("a", 256), "", false},
		{"", "", false},
		{".", "", false},
		{"..", "", false},
		{"...", "...", true},
		{"a/b", "", false},
		{"a\\b", "a\\b", true},
		{"a\x00", "", false},
		{"a\x7f", "", false},
		{"a\u0085b", "", false},
		{"a\u2066b", "", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			got, err := files.CleanName("name", tt.in)
			if tt.ok != (err == nil) || got != tt.want {
				t.Errorf("CleanName(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestFolders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk", testConfig())
	ctx := context.Background()
	ann, bob := e.User(t, "u"), e.User(t, "u")
	mk := func(parent, name string, c files.OnConflict) (files.Folder, error) {
		return e.svc.CreateFolder(ctx, ann, files.CreateFolderInput{ParentID: parent, Name: name, OnConflict: c})
	}
	docs, err := mk("", "Docs", "")
	if err != nil {
		t.Fatal(err)
	}
	sub, err := mk(docs.ID, "Sub", "")
	if err != nil {
		t.Fatal(err)
	}
	subsub, _ := mk(sub.ID, "Deeper", "")

	t.Run("duplicate name", func(t *testing.T) {
		_, err := mk("", "Docs", "")
		svctest.WantCode(t, err, apperr.Conflict)
		f, err := mk("", "Docs", files.ConflictRename)
		if err != nil || f.Name != "Docs (1)" {
			t.Fatalf("rename: %q %v", f.Name, err)
		}
		// Files and folders share the namespace.
		e.upload(t, ann, docs.ID, "notes.txt", []byte("x"))
		_, err = mk(docs.ID, "notes.txt", "")
		svctest.WantCode(t, err, apperr.Conflict)
		_, err = e.svc.InitiateUpload(ctx, ann, files.InitiateInput{Name: "Sub", Size: 1, FolderID: docs.ID})
		svctest.WantCode(t, err, apperr.Conflict)
		f, _ = mk(docs.ID, "notes.txt", files.ConflictRename)
		if f.Name != "notes (1).txt" {
			t.Errorf("got %q, want notes (1).txt", f.Name)
		}
		// The same name in another folder or for another user is fine.
		if _, err := mk(sub.ID, "Docs", ""); err != nil {
			t.Error(err)
		}
		if _, err := e.svc.CreateFolder(ctx, bob, files.CreateFolderInput{Name: "Docs"}); err != nil {
			t.Error(err)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		_, err := mk("", "a/b", "")
		svctest.WantCode(t, err, apperr.Invalid)
		_, err = mk("", "..", "")
		svctest.WantCode(t, err, apperr.Invalid)
		_, err = e.svc.CreateFolder(ctx, bob, files.CreateFolderInput{ParentID: docs.ID, Name: "x"})
		svctest.WantCode(t, err, apperr.NotFound)
		_, err = e.svc.FindFolder(ctx, bob, docs.ID)
		svctest.WantCode(t, err, apperr.NotFound)
		_, err = e.svc.RenameFolder(ctx, bob, docs.ID, files.RenameInput{Name: "Mine"})
		svctest.WantCode(t, err, apperr.NotFound)
		_, err = e.svc.MoveFolder(ctx, bob, docs.ID, files.MoveInput{})
		svctest.WantCode(t, err, apperr.NotFound)
		svctest.WantCode(t, e.svc.TrashFolder(ctx, bob, docs.ID), apperr.NotFound)
	})
	t.Run("rename", func(t *testing.T) {
		f, err := e.svc.RenameFolder(ctx, ann, sub.ID, files.RenameInput{Name: "Renamed"})
		if err != nil || f.Name != "Renamed" {
			t.Fatalf("%q %v", f.Name, err)
		}
		_, err = e.svc.RenameFolder(ctx, ann, sub.ID, files.RenameInput{Name: "notes.txt"})
		svctest.WantCode(t, err, apperr.Conflict)
		if f, _ := e.svc.RenameFolder(ctx, ann, sub.ID, files.RenameInput{Name: "Renamed"}); f.Name != "Renamed" {
			t.Errorf("renaming to its own name gave %q", f.Name)
		}
	})
	t.Run("move", func(t *testing.T) {
		_, err := e.svc.MoveFolder(ctx, ann, docs.ID, files.MoveInput{FolderID: subsub.ID})
		svctest.WantCode(t, err, apperr.Invalid)
		_, err = e.svc.MoveFolder(ctx, ann, docs.ID, files.MoveInput{FolderID: docs.ID})
		svctest.WantCode(t, err, apperr.Invalid)
		f, err := e.svc.MoveFolder(ctx, ann, subsub.ID, files.MoveInput{})
		if err != nil || f.ParentID != "" {
			t.Fatalf("move to root: %+v %v", f, err)
		}
		path, err := e.svc.FolderPath(ctx, ann, sub.ID)
		if err != nil || len(path) != 2 || path[0].ID != docs.ID || path[1].ID != sub.ID {
			t.Errorf("path %+v %v", path, err)
		}
		bobs, _ := e.svc.CreateFolder(ctx, bob, files.CreateFolderInput{Name: "Bob"})
		_, err = e.svc.MoveFolder(ctx, ann, sub.ID, files.MoveInput{FolderID: bobs.ID})
		svctest.WantCode(t, err, apperr.NotFound)
	})
}

func TestFileRenameMove(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk", testConfig())
	ctx := context.Background()
	ann, bob := e.User(t, "u"), e.User(t, "u")
	dir, _ := e.svc.CreateFolder(ctx, ann, files.CreateFolderInput{Name: "Dir"})
	a := e.upload(t, ann, "", "a.txt", []byte("a"))
	e.upload(t, ann, dir.ID, "a.txt", []byte("other a"))

	f, err := e.svc.RenameFile(ctx, ann, a.ID, files.RenameInput{Name: "b.txt"})
	if err != nil || f.Name != "b.txt" {
		t.Fatalf("rename: %q %v", f.Name, err)
	}
	_, err = e.svc.RenameFile(ctx, ann, a.ID, files.RenameInput{Name: "Dir"})
	svctest.WantCode(t, err, apperr.Conflict)
	_, err = e.svc.RenameFile(ctx, bob, a.ID, files.RenameInput{Name: "x"})
	svctest.WantCode(t, err, apperr.NotFound)
	f, err = e.svc.RenameFile(ctx, ann, a.ID, files.RenameInput{Name: "a.txt"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.MoveFile(ctx, ann, a.ID, files.MoveInput{FolderID: dir.ID})
	svctest.WantCode(t, err, apperr.Conflict)
	f, err = e.svc.MoveFile(ctx, ann, a.ID, files.MoveInput{FolderID: dir.ID, OnConflict: files.ConflictRename})
	if err != nil || f.Name != "a (1).txt" || f.FolderID != dir.ID {
		t.Fatalf("move with rename: %+v %v", f, err)
	}
}

func TestBulkMoveAndTrash(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk", testConfig())
	ctx := context.Background()
	ann, bob := e.User(t, "u"), e.User(t, "u")
	dst, _ := e.svc.CreateFolder(ctx, ann, files.CreateFolderInput{Name: "Dst"})
	d1, _ := e.svc.CreateFolder(ctx, ann, files.CreateFolderInput{Name: "D1"})
	f1 := e.upload(t, ann, "", "f1", []byte("1"))
	f2 := e.upload(t, ann, "", "f2", []byte("2"))
	bobs := e.upload(t, bob, "", "bob", []byte("b"))

	// One foreign id fails the whole batch.
	err := e.svc.Move(ctx, ann, files.Selection{Files: []string{f1.ID, bobs.ID}}, files.MoveInput{FolderID: dst.ID})
	svctest.WantCode(t, err, apperr.NotFound)
	if f, _ := e.svc.FindFile(ctx, ann, f1.ID); f.FolderID != "" {
		t.Fatal("a failed bulk move moved something")
	}
	err = e.svc.Move(ctx, ann, files.Selection{}, files.MoveInput{})
	svctest.WantCode(t, err, apperr.Invalid)
	sel := files.Selection{Files: []string{f1.ID, f2.ID, f1.ID}, Folders: []string{d1.ID}}
	if err := e.svc.Move(ctx, ann, sel, files.MoveInput{FolderID: dst.ID}); err != nil {
		t.Fatal(err)
	}
	p, _ := e.svc.List(ctx, ann, files.ListInput{FolderID: dst.ID})
	if len(p.Folders) != 1 || len(p.Files) != 2 {
		t.Fatalf("destination holds %d folders, %d files", len(p.Folders), len(p.Files))
	}
	svctest.WantCode(t, e.svc.Trash(ctx, ann, files.Selection{Files: []string{f1.ID, bobs.ID}}), apperr.NotFound)
	if err := e.svc.Trash(ctx, ann, sel); err != nil {
		t.Fatal(err)
	}
	p, _ = e.svc.List(ctx, ann, files.ListInput{FolderID: dst.ID})
	if len(p.Folders)+len(p.Files) != 0 {
		t.Fatalf("trashed entries still listed: %+v", p)
	}
	if _, err := e.svc.FindFile(ctx, bob, bobs.ID); err != nil {
		t.Error("bob's file was touched")
	}
}

func TestTrashRestorePurge(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk", testConfig())
	ctx := context.Background()
	ann := e.User(t, "u")
	docs, _ := e.svc.CreateFolder(ctx, ann, files.CreateFolderInput{Name: "Docs"})
	sub, _ := e.svc.CreateFolder(ctx, ann, files.CreateFolderInput{ParentID: docs.ID, Name: "Sub"})
	inDocs := e.upload(t, ann, docs.ID, "in-docs.txt", []byte("12345"))
	inSub := e.upload(t, ann, sub.ID, "in-sub.txt", []byte("123"))
	loose := e.upload(t, ann, sub.ID, "loose.txt", []byte("1"))

	// loose goes to the trash on its own first, then Docs with the rest.
	if err := e.svc.TrashFile(ctx, ann, loose.ID); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(time.Minute)
	if err := e.svc.TrashFolder(ctx, ann, docs.ID); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{inDocs.ID, inSub.ID} {
		_, err := e.svc.FindFile(ctx, ann, id)
		svctest.WantCode(t, err, apperr.NotFound)
		_, err = e.svc.DownloadURL(ctx, ann, id)
		svctest.WantCode(t, err, apperr.NotFound)
	}
	_, err := e.svc.List(ctx, ann, files.ListInput{FolderID: sub.ID})
	svctest.WantCode(t, err, apperr.NotFound)
	if p, _ := e.svc.Search(ctx, ann, files.SearchInput{Query: "in-"}); len(p.Files) != 0 {
		t.Errorf("search finds trashed files: %+v", p.Files)
	}
	_, err = e.svc.CreateFolder(ctx, ann, files.CreateFolderInput{ParentID: sub.ID, Name: "x"})
	svctest.WantCode(t, err, apperr.NotFound)
	trash, _ := e.svc.ListTrash(ctx, ann)
	if len(trash.Folders) != 1 || len(trash.Files) != 1 || trash.Folders[0].ID != docs.ID || trash.Files[0].ID != loose.ID {
		t.Fatalf("trash lists %+v", trash)
	}
	if u := e.usage(t, ann); u.Used != 9 {
		t.Errorf("used %d, want 9 (the trash counts)", u.Used)
	}
	svctest.WantCode(t, e.svc.Restore(ctx, ann, files.Selection{Files: []string{inSub.ID}}), apperr.Conflict)

	// A new "Docs" takes the name: the restored one is renamed, with its
	// contents; loose stays in the trash.
	if _, err := e.svc.CreateFolder(ctx, ann, files.CreateFolderInput{Name: "Docs"}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Restore(ctx, ann, files.Selection{Folders: []string{docs.ID}}); err != nil {
		t.Fatal(err)
	}
	if f, err := e.svc.FindFolder(ctx, ann, docs.ID); err != nil || f.Name != "Docs (1)" {
		t.Errorf("restored folder %q %v", f.Name, err)
	}
	if _, err := e.svc.FindFile(ctx, ann, inSub.ID); err != nil {
		t.Errorf("content not restored: %v", err)
	}
	_, err = e.svc.FindFile(ctx, ann, loose.ID)
	svctest.WantCode(t, err, apperr.NotFound)

	// A file whose folder is in the trash comes back to the root.
	if err := e.svc.TrashFolder(ctx, ann, sub.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Restore(ctx, ann, files.Selection{Files: []string{loose.ID}}); err != nil {
		t.Fatal(err)
	}
	if f, _ := e.svc.FindFile(ctx, ann, loose.ID); f.FolderID != "" {
		t.Errorf("restored into the trashed folder %q", f.FolderID)
	}

	// Retention: nothing is purged early; after it, Sub and its file go.
	if n, err := e.svc.PurgeExpiredTrash(ctx); n != 0 || err != nil {
		t.Fatalf("early purge: %d %v", n, err)
	}
	e.Clock.Advance(files.DefaultTrashRetention + time.Minute)
	if n, err := e.svc.PurgeExpiredTrash(ctx); n != 1 || err != nil {
		t.Fatalf("purge: %d %v", n, err)
	}
	if n := e.Count(t, `SELECT count(*) FROM folders WHERE id = $1`, sub.ID); n != 0 {
		t.Error("purged folder still there")
	}
	if u := e.usage(t, ann); u.Used != 6 {
		t.Errorf("used %d after the purge, want 6", u.Used)
	}
	if n, err := e.svc.DeleteObjects(ctx); n != 1 || err != nil {
		t.Errorf("DeleteObjects: %d %v", n, err)
	}

	// Empty trash: everything in it, at once.
	if err := e.svc.Trash(ctx, ann, files.Selection{Folders: []string{docs.ID}, Files: []string{loose.ID}}); err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.EmptyTrash(ctx, ann); n != 2 || err != nil {
		t.Fatalf("empty trash: %d %v", n, err)
	}
	if u := e.usage(t, ann); u.Used != 0 {
		t.Errorf("used %d after emptying the trash", u.Used)
	}
	if n, err := e.svc.DeleteObjects(ctx); n != 2 || err != nil {
		t.Errorf("DeleteObjects: %d %v", n, err)
	}
	if n := e.Count(t, `SELECT count(*) FROM files`); n != 0 {
		t.Errorf("%d files left", n)
	}
}

func TestListPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk", testConfig())
	ctx := context.Background()
	ann := e.User(t, "u")
	dir, _ := e.svc.CreateFolder(ctx, ann, files.CreateFolderInput{Name: "Big"})
	// Insert directly: names with mixed case, equal sizes (ties broken by
	// id), and distinct creation times.
	const nFiles, nFolders = 57, 5
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range nFiles {
		_, err := e.Pool.Exec(ctx, `INSERT INTO files (owner_id, folder_id, name, size, content_type, object_key, created_at, updated_at)
			VALUES ($1, $2, $3, $4, 'text/plain', $5, $6, $6)`,
			ann, dir.ID, fmt.Sprintf("%s%03d", []string{"a", "B", "c"}[i%3], i), i%7, "u/x/"+svctest.RandomHex(8), base.Add(time.Duration(i*37%nFiles)*time.Second))
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range nFolders {
		if _, err := e.svc.CreateFolder(ctx, ann, files.CreateFolderInput{ParentID: dir.ID, Name: fmt.Sprintf("Folder %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, sort := range []files.Sort{files.SortName, files.SortSize, files.SortDate} {
		for _, desc := range []bool{false, true} {
			for _, limit := range []int{1, 5, 7, 100} {
				t.Run(fmt.Sprintf("%s desc=%v limit=%d", sort, desc, limit), func(t *testing.T) {
					var folders, fileIDs []string
					var got []files.File
					cur := ""
					for pages := 0; ; pages++ {
						p, err := e.svc.List(ctx, ann, files.ListInput{FolderID: dir.ID, Sort: sort, Desc: desc, Cursor: cur, Limit: limit})
						if err != nil {
							t.Fatal(err)
						}
						if len(p.Folders)+len(p.Files) > limit {
							t.Fatalf("page of %d entries, limit %d", len(p.Folders)+len(p.Files), limit)
						}
						if len(p.Folders) > 0 && len(fileIDs) > 0 {
							t.Fatal("a folder after files")
						}
						for _, f := range p.Folders {
							folders = append(folders, f.ID)
						}
						for _, f := range p.Files {
							fileIDs = append(fileIDs, f.ID)
							got = append(got, f)
						}
						if p.Next == "" {
							break
						}
						if pages > nFiles+nFolders {
							t.Fatal("pagination does not end")
						}
						cur = p.Next
					}
					if len(folders) != nFolders || len(fileIDs) != nFiles {
						t.Fatalf("listed %d folders and %d files, want %d and %d", len(folders), len(fileIDs), nFolders, nFiles)
					}
					if len(slices.Compact(slices.Sorted(slices.Values(fileIDs)))) != nFiles {
						t.Fatal("a file was listed twice")
					}
					ordered := slices.IsSortedFunc(got, func(a, b files.File) int {
						c := 0
						switch sort {
						case files.SortName:
							c = strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
						case files.SortSize:
							c = int(a.Size - b.Size)
						case files.SortDate:
							c = a.CreatedAt.Compare(b.CreatedAt)
						}
						if c == 0 {
							c = strings.Compare(a.ID, b.ID)
						}
						if desc {
							c = -c
						}
						return c
					})
					if !ordered {
						t.Error("files out of order")
					}
				})
			}
		}
	}
	t.Run("bad cursor and options", func(t *testing.T) {
		p, _ := e.svc.List(ctx, ann, files.ListInput{FolderID: dir.ID, Limit: 2})
		_, err := e.svc.List(ctx, ann, files.ListInput{FolderID: dir.ID, Sort: files.SortSize, Cursor: p.Next})
		svctest.WantCode(t, err, apperr.Invalid)
		_, err = e.svc.List(ctx, ann, files.ListInput{FolderID: dir.ID, Cursor: "garbage"})
		svctest.WantCode(t, err, apperr.Invalid)
		_, err = e.svc.List(ctx, ann, files.ListInput{Sort: "colour"})
		svctest.WantCode(t, err, apperr.Invalid)
		_, err = e.svc.List(ctx, ann, files.ListInput{Limit: files.MaxPageSize + 1})
		svctest.WantCode(t, err, apperr.Invalid)
		bob := e.User(t, "u")
		_, err = e.svc.List(ctx, bob, files.ListInput{FolderID: dir.ID})
		svctest.WantCode(t, err, apperr.NotFound)
	})
}

func TestSearch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk", testConfig())
	ctx := context.Background()
	ann, bob := e.User(t, "u"), e.User(t, "u")
	dir, _ := e.svc.CreateFolder(ctx, ann, files.CreateFolderInput{Name: "Reports 2024"})
	e.upload(t, ann, dir.ID, "Quarterly REPORT.pdf", []byte("1"))
	e.upload(t, ann, "", "100% done.txt", []byte("1"))
	e.upload(t, ann, "", "1000 done.txt", []byte("1"))
	e.upload(t, ann, "", "a_b.txt", []byte("1"))
	e.upload(t, ann, "", "axb.txt", []byte("1"))
	e.upload(t, bob, "", "bob's report.pdf", []byte("1"))
	tests := []struct {
		q           string
		files, dirs int
	}{
		{"report", 1, 1},
		{"REPORT", 1, 1},
		{"100%", 1, 0}, // % is literal
		{"a_b", 1, 0},  // _ is literal
		{"nothing", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			p, err := e.svc.Search(ctx, ann, files.SearchInput{Query: tt.q})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Files) != tt.files || len(p.Folders) != tt.dirs {
				t.Errorf("%d files, %d folders; want %d, %d", len(p.Files), len(p.Folders), tt.files, tt.dirs)
			}
		})
	}
	_, err := e.svc.Search(ctx, ann, files.SearchInput{Query: "  "})
	svctest.WantCode(t, err, apperr.Invalid)

	// Pages of search results, for fragments with and without trigrams.
	for i := range 5 {
		e.upload(t, ann, "", fmt.Sprintf("ZZ-%d", 4-i), []byte("1"))
	}
	if _, err := e.svc.CreateFolder(ctx, ann, files.CreateFolderInput{Name: "zz-folder"}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"zz", "zz-"} {
		var got []string
		cur := ""
		for {
			p, err := e.svc.Search(ctx, ann, files.SearchInput{Query: q, Cursor: cur, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range p.Folders {
				got = append(got, f.Name)
			}
			for _, f := range p.Files {
				got = append(got, f.Name)
			}
			if cur = p.Next; cur == "" {
				break
			}
		}
		if want := []string{"zz-folder", "ZZ-0", "ZZ-1", "ZZ-2", "ZZ-3", "ZZ-4"}; !slices.Equal(got, want) {
			t.Errorf("search %q paged: %v, want %v", q, got, want)
		}
	}
}

func TestFolderDepthLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk", testConfig())
	ctx := context.Background()
	ann := e.User(t, "u")
	parent := ""
	var chain []string
	for i := range files.MaxFolderDepth {
		f, err := e.svc.CreateFolder(ctx, ann, files.CreateFolderInput{ParentID: parent, Name: fmt.Sprintf("d%d", i+1)})
		if err != nil {
			t.Fatalf("depth %d: %v", i+1, err)
		}
		chain = append(chain, f.ID)
		parent = f.ID
	}
	_, err := e.svc.CreateFolder(ctx, ann, files.CreateFolderInput{ParentID: parent, Name: "deeper"})
	svctest.WantCode(t, err, apperr.Invalid)
	if path, err := e.svc.FolderPath(ctx, ann, parent); err != nil || len(path) != files.MaxFolderDepth {
		t.Fatalf("path of the deepest folder: %d folders, %v", len(path), err)
	}
	// A subtree with a trashed subfolder counts it: restored in place, it
	// would be past the limit.
	top, _ := e.svc.CreateFolder(ctx, ann, files.CreateFolderInput{Name: "top"})
	sub, _ := e.svc.CreateFolder(ctx, ann, files.CreateFolderInput{ParentID: top.ID, Name: "sub"})
	if err := e.svc.TrashFolder(ctx, ann, sub.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.MoveFolder(ctx, ann, top.ID, files.MoveInput{FolderID: chain[files.MaxFolderDepth-2]})
	svctest.WantCode(t, err, apperr.Invalid)
	if _, err := e.svc.MoveFolder(ctx, ann, top.ID, files.MoveInput{FolderID: chain[files.MaxFolderDepth-3]}); err != nil {
		t.Fatal(err)
	}
}
