package files_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/internal/ratelimit"
	"github.com/weupload/weupload/internal/svctest"
)

// person makes an account with a known email and display name.
func (e *env) person(tb testing.TB, name string) (id, email string) {
	tb.Helper()
	email = strings.ToLower(name) + "-" + svctest.RandomHex(4) + "@example.com"
	err := e.Pool.QueryRow(context.Background(),
		`INSERT INTO users (email, display_name, password_hash) VALUES ($1, $2, 'x') RETURNING id`, email, name).Scan(&id)
	if err != nil {
		tb.Fatal(err)
	}
	return id, email
}

func (e *env) share(tb testing.TB, owner string, in files.ShareInput) files.Grant {
	tb.Helper()
	g, err := e.svc.Share(context.Background(), owner, in)
	if err != nil {
		tb.Fatalf("share: %v", err)
	}
	return g
}

func (e *env) folder(tb testing.TB, user, parent, name string) files.Folder {
	tb.Helper()
	f, err := e.svc.CreateFolder(context.Background(), user, files.CreateFolderInput{ParentID: parent, Name: name})
	if err != nil {
		tb.Fatalf("create folder %q: %v", name, err)
	}
	return f
}

// TestGrantRoles walks a folder shared as viewer, then editor, then
// removed, and checks every operation against what the role allows; a
// stranger sees nothing throughout.
func TestGrantRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk", testConfig())
	ctx := context.Background()
	alice, _ := e.person(t, "Alice")
	bob, bobEmail := e.person(t, "Bob")
	carol, _ := e.person(t, "Carol")

	private := e.folder(t, alice, "", "Private")
	photos := e.folder(t, alice, private.ID, "Photos")
	trips := e.folder(t, alice, photos.ID, "Trips")
	pic := e.upload(t, alice, trips.ID, "beach.jpg", []byte("sand"))
	secret := e.upload(t, alice, private.ID, "secret.txt", []byte("no"))

	g := e.share(t, alice, files.ShareInput{FolderID: photos.ID, Email: " " + bobEmail + " ", Role: files.RoleViewer})
	if g.GranteeID != bob || g.Role != files.RoleViewer || g.Name != "Photos" || g.OwnerName != "Alice" || g.GranteeName != "Bob" {
		t.Fatalf("grant = %+v", g)
	}

	// Viewer: reads below the shared folder, nothing above it.
	p, err := e.svc.List(ctx, bob, files.ListInput{FolderID: trips.ID})
	if err != nil || len(p.Files) != 1 || p.Files[0].ID != pic.ID {
		t.Fatalf("viewer list = %+v, %v", p, err)
	}
	if p.Access.Role != files.RoleViewer || p.Access.OwnerID != alice || p.Access.RootID != photos.ID {
		t.Fatalf("access = %+v", p.Access)
	}
	path, err := e.svc.FolderPath(ctx, bob, trips.ID)
	if err != nil || len(path) != 2 || path[0].ID != photos.ID || path[1].ID != trips.ID {
		t.Fatalf("viewer path = %+v, %v (must start at the shared folder)", path, err)
	}
	if _, body := e.download(t, bob, pic.ID); string(body) != "sand" {
		t.Fatalf("viewer download = %q", body)
	}
	for what, err := range map[string]error{
		"list above": listErr(e, bob, private.ID),
		"file above": findFileErr(e, bob, secret.ID),
	} {
		if !apperr.Is(err, apperr.NotFound) {
			t.Errorf("viewer %s: %v, want NotFound", what, err)
		}
	}
	_, err = e.svc.CreateFolder(ctx, bob, files.CreateFolderInput{ParentID: trips.ID, Name: "New"})
	svctest.WantCode(t, err, apperr.Forbidden)
	_, err = e.svc.InitiateUpload(ctx, bob, files.InitiateInput{Name: "x.txt", Size: 1, FolderID: trips.ID})
	svctest.WantCode(t, err, apperr.Forbidden)
	_, err = e.svc.RenameFile(ctx, bob, pic.ID, files.RenameInput{Name: "mine.jpg"})
	svctest.WantCode(t, err, apperr.Forbidden)
	svctest.WantCode(t, e.svc.TrashFile(ctx, bob, pic.ID), apperr.Forbidden)

	// A stranger: 404 on everything, whatever the role of others.
	for what, err := range map[string]error{
		"list":     listErr(e, carol, photos.ID),
		"file":     findFileErr(e, carol, pic.ID),
		"trash":    e.svc.TrashFile(ctx, carol, pic.ID),
		"grant":    findGrantErr(e, carol, g.ID),
		"unshare":  removeErr(e, carol, g.ID, files.AsEither),
		"reshare":  shareErr(e, carol, files.ShareInput{FolderID: photos.ID, Email: bobEmail, Role: files.RoleEditor}),
		"by bob":   shareErr(e, bob, files.ShareInput{FolderID: photos.ID, Email: bobEmail, Role: files.RoleEditor}),
		"role set": roleErr(e, bob, g.ID),
	} {
		if !apperr.Is(err, apperr.NotFound) {
			t.Errorf("%s: %v, want NotFound", what, err)
		}
	}

	// Editor: the role change applies to the very next call.
	if g2, err := e.svc.SetGrantRole(ctx, alice, g.ID, files.RoleEditor); err != nil || g2.Role != files.RoleEditor {
		t.Fatalf("set role: %+v, %v", g2, err)
	}
	before := e.usage(t, alice)
	up := e.upload(t, bob, trips.ID, "from-bob.txt", []byte("hello alice"))
	if up.OwnerID != alice || up.FolderID != trips.ID {
		t.Fatalf("editor upload = %+v, want Alice's file in Trips", up)
	}
	if after := e.usage(t, alice); after.Used != before.Used+11 {
		t.Errorf("owner used %d → %d, want +11 (the editor's bytes count against the owner)", before.Used, after.Used)
	}
	if u := e.usage(t, bob); u.Used != 0 || u.Reserved != 0 {
		t.Errorf("editor usage = %+v, want nothing charged", u)
	}
	sub := e.folder(t, bob, photos.ID, "Sub")
	if sub.OwnerID != alice {
		t.Errorf("editor's folder owner = %s, want Alice", sub.OwnerID)
	}
	if _, err := e.svc.RenameFile(ctx, bob, up.ID, files.RenameInput{Name: "renamed.txt"}); err != nil {
		t.Fatalf("editor rename: %v", err)
	}
	if err := e.svc.Move(ctx, bob, files.Selection{Files: []string{up.ID}}, files.MoveInput{FolderID: sub.ID}); err != nil {
		t.Fatalf("editor move within the share: %v", err)
	}
	// Not out of the share, not the shared folder itself, not above it.
	svctest.WantCode(t, e.svc.Move(ctx, bob, files.Selection{Files: []string{up.ID}}, files.MoveInput{}), apperr.Invalid)
	svctest.WantCode(t, e.svc.Move(ctx, bob, files.Selection{Folders: []string{photos.ID}}, files.MoveInput{FolderID: sub.ID}), apperr.Forbidden)
	svctest.WantCode(t, e.svc.Move(ctx, bob, files.Selection{Files: []string{up.ID}}, files.MoveInput{FolderID: private.ID}), apperr.NotFound)
	svctest.WantCode(t, e.svc.TrashFolder(ctx, bob, photos.ID), apperr.Forbidden)
	_, err = e.svc.RenameFolder(ctx, bob, photos.ID, files.RenameInput{Name: "Pictures"})
	if err != nil {
		t.Fatalf("editor renames the shared folder: %v", err)
	}
	// A deletion goes to the owner's trash.
	if err := e.svc.TrashFile(ctx, bob, up.ID); err != nil {
		t.Fatalf("editor trash: %v", err)
	}
	tr, err := e.svc.ListTrash(ctx, alice)
	if err != nil || len(tr.Files) != 1 || tr.Files[0].ID != up.ID {
		t.Fatalf("owner's trash = %+v, %v", tr, err)
	}
	if tr, _ := e.svc.ListTrash(ctx, bob); len(tr.Files)+len(tr.Folders) != 0 {
		t.Errorf("editor's own trash holds %+v", tr)
	}

	// An upload in flight when access is removed is refused and released.
	urls := e.initiate(t, bob, files.InitiateInput{Name: "late.txt", Size: 4, ContentType: "text/plain", FolderID: trips.ID})
	if st := svctest.PutSingle(t, urls, []byte("late")); st != 200 {
		t.Fatalf("PUT: %d", st)
	}
	if got := e.usage(t, alice).Reserved; got != 4 {
		t.Fatalf("owner reserved = %d, want 4", got)
	}
	if err := removeErr(e, alice, g.ID, files.AsOwner); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.CompleteUpload(ctx, bob, urls.Upload.ID, files.CompleteInput{})
	svctest.WantCode(t, err, apperr.NotFound)
	if got := e.usage(t, alice).Reserved; got != 4 {
		t.Errorf("owner reserved after the refused complete = %d, want 4 until the URL expired", got)
	}
	e.pastURLs(t)
	if got := e.usage(t, alice).Reserved; got != 0 {
		t.Errorf("owner reserved once the URL expired = %d, want 0", got)
	}
	svctest.WantCode(t, listErr(e, bob, trips.ID), apperr.NotFound)
	svctest.WantCode(t, findFileErr(e, bob, pic.ID), apperr.NotFound)
	if gs, err := e.svc.SharedWithMe(ctx, bob); err != nil || len(gs) != 0 {
		t.Errorf("shared with Bob after removal = %+v, %v", gs, err)
	}
}

// TestShareFile checks a file shared on its own: readable, renamable by an
// editor, but its folder stays closed and it cannot be moved or deleted.
func TestShareFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk", testConfig())
	ctx := context.Background()
	alice, _ := e.person(t, "Alice")
	bob, bobEmail := e.person(t, "Bob")
	dir := e.folder(t, alice, "", "Docs")
	f := e.upload(t, alice, dir.ID, "report.pdf", []byte("%PDF"))
	other := e.upload(t, alice, dir.ID, "other.pdf", []byte("%PDF"))

	g := e.share(t, alice, files.ShareInput{FileID: f.ID, Email: bobEmail, Role: files.RoleEditor})
	if g.FileID != f.ID || g.Size != 4 {
		t.Fatalf("grant = %+v", g)
	}
	if _, body := e.download(t, bob, f.ID); string(body) != "%PDF" {
		t.Fatalf("download = %q", body)
	}
	if _, err := e.svc.RenameFile(ctx, bob, f.ID, files.RenameInput{Name: "final.pdf"}); err != nil {
		t.Fatalf("rename: %v", err)
	}
	svctest.WantCode(t, listErr(e, bob, dir.ID), apperr.NotFound)
	svctest.WantCode(t, findFileErr(e, bob, other.ID), apperr.NotFound)
	svctest.WantCode(t, e.svc.TrashFile(ctx, bob, f.ID), apperr.Forbidden)

	// Sharing again changes the role instead of adding a second grant.
	g2 := e.share(t, alice, files.ShareInput{FileID: f.ID, Email: bobEmail, Role: files.RoleViewer})
	if g2.ID != g.ID || g2.Role != files.RoleViewer {
		t.Fatalf("re-share = %+v, want grant %s as viewer", g2, g.ID)
	}
	gs, err := e.svc.SharedWithMe(ctx, bob)
	if err != nil || len(gs) != 1 || gs[0].Name != "final.pdf" || gs[0].OwnerName != "Alice" {
		t.Fatalf("shared with me = %+v, %v", gs, err)
	}
	// In the owner's trash: hidden from the grantee, back on restore.
	if err := e.svc.TrashFile(ctx, alice, f.ID); err != nil {
		t.Fatal(err)
	}
	svctest.WantCode(t, findFileErr(e, bob, f.ID), apperr.NotFound)
	if gs, _ := e.svc.SharedWithMe(ctx, bob); len(gs) != 0 {
		t.Errorf("a trashed share is still listed: %+v", gs)
	}
	if err := e.svc.Restore(ctx, alice, files.Selection{Files: []string{f.ID}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.FindFile(ctx, bob, f.ID); err != nil {
		t.Errorf("after restore: %v", err)
	}
	// The grantee may leave.
	// Only as the grantee: leaving is not removing someone else's access.
	svctest.WantCode(t, removeErr(e, bob, g.ID, files.AsOwner), apperr.NotFound)
	if err := removeErr(e, bob, g.ID, files.AsGrantee); err != nil {
		t.Fatalf("leave: %v", err)
	}
	svctest.WantCode(t, findFileErr(e, bob, f.ID), apperr.NotFound)
}

// TestShareValidation covers the refusals of Share, including the lookup
// limit that keeps it from being an account-enumeration oracle.
func TestShareValidation(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	e := newEnv(t, "disk", cfg)
	cfg.Limiter = ratelimit.New(e.Pool)
	cfg.GrantLookups = ratelimit.Rule{Limit: 3, Window: time.Hour}
	e.cfg = cfg
	e.svc = e.service(e.Store)
	alice, aliceEmail := e.person(t, "Alice")
	_, bobEmail := e.person(t, "Bob")
	dir := e.folder(t, alice, "", "Docs")

	for name, tc := range map[string]struct {
		in    files.ShareInput
		field string
	}{
		"no role":     {files.ShareInput{FolderID: dir.ID, Email: bobEmail}, "role"},
		"owner role":  {files.ShareInput{FolderID: dir.ID, Email: bobEmail, Role: files.RoleOwner}, "role"},
		"no email":    {files.ShareInput{FolderID: dir.ID, Role: files.RoleViewer}, "email"},
		"bad email":   {files.ShareInput{FolderID: dir.ID, Email: "bob", Role: files.RoleViewer}, "email"},
		"no entry":    {files.ShareInput{Email: bobEmail, Role: files.RoleViewer}, "folder_id"},
		"two entries": {files.ShareInput{FolderID: dir.ID, FileID: dir.ID, Email: bobEmail, Role: files.RoleViewer}, "folder_id"},
	} {
		err := shareErr(e, alice, tc.in)
		if ae := apperr.As(err); ae == nil || ae.Code != apperr.Invalid || ae.Fields[tc.field] == "" {
			t.Errorf("%s: %v, want Invalid on %s", name, err, tc.field)
		}
	}
	svctest.WantCode(t, shareErr(e, alice, files.ShareInput{FolderID: "not-a-uuid", Email: bobEmail, Role: files.RoleViewer}), apperr.NotFound)

	// Lookups: unknown user, oneself, then the limit.
	for _, email := range []string{"nobody@example.com", aliceEmail} {
		err := shareErr(e, alice, files.ShareInput{FolderID: dir.ID, Email: email, Role: files.RoleViewer})
		if ae := apperr.As(err); ae == nil || ae.Fields["email"] == "" {
			t.Errorf("share with %s: %v, want a message on email", email, err)
		}
	}
	e.share(t, alice, files.ShareInput{FolderID: dir.ID, Email: bobEmail, Role: files.RoleViewer})
	err := shareErr(e, alice, files.ShareInput{FolderID: dir.ID, Email: bobEmail, Role: files.RoleEditor})
	svctest.WantCode(t, err, apperr.TooMany)
}

func listErr(e *env, user, folder string) error {
	_, err := e.svc.List(context.Background(), user, files.ListInput{FolderID: folder})
	return err
}

func findFileErr(e *env, user, id string) error {
	_, err := e.svc.FindFile(context.Background(), user, id)
	return err
}

func findGrantErr(e *env, user, id string) error {
	_, err := e.svc.FindGrant(context.Background(), user, id)
	return err
}

func shareErr(e *env, user string, in files.ShareInput) error {
	_, err := e.svc.Share(context.Background(), user, in)
	return err
}

func removeErr(e *env, user, id string, as files.Party) error {
	_, err := e.svc.RemoveGrant(context.Background(), user, id, as)
	return err
}

func roleErr(e *env, user, id string) error {
	_, err := e.svc.SetGrantRole(context.Background(), user, id, files.RoleEditor)
	return err
}

// TestShareFiles shares a multi-selection with one person: every file or
// none (one of them someone else's), with one lookup counted.
func TestShareFiles(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	e := newEnv(t, "disk", cfg)
	cfg.Limiter = ratelimit.New(e.Pool)
	cfg.GrantLookups = ratelimit.Rule{Limit: 2, Window: time.Hour}
	e.cfg = cfg
	e.svc = e.service(e.Store)
	ctx := context.Background()
	alice, _ := e.person(t, "Alice")
	bob, bobEmail := e.person(t, "Bob")
	a := e.upload(t, alice, "", "a.txt", []byte("a"))
	b := e.upload(t, alice, "", "b.txt", []byte("b"))
	bobs := e.upload(t, bob, "", "bob.txt", []byte("mine"))

	_, err := e.svc.ShareFiles(ctx, alice, []string{a.ID, bobs.ID}, bobEmail, files.RoleViewer)
	svctest.WantCode(t, err, apperr.NotFound)
	if gs, _ := e.svc.SharedWithMe(ctx, bob); len(gs) != 0 {
		t.Fatalf("a refused multi-share left %d grants", len(gs))
	}
	_, err = e.svc.ShareFiles(ctx, alice, nil, bobEmail, files.RoleViewer)
	svctest.WantCode(t, err, apperr.Invalid)

	g, err := e.svc.ShareFiles(ctx, alice, []string{a.ID, b.ID, a.ID}, bobEmail, files.RoleEditor)
	if err != nil || g.GranteeID != bob || g.Role != files.RoleEditor {
		t.Fatalf("share files: %+v, %v", g, err)
	}
	gs, err := e.svc.SharedWithMe(ctx, bob)
	if err != nil || len(gs) != 2 {
		t.Fatalf("shared with Bob: %+v, %v", gs, err)
	}
	for _, id := range []string{a.ID, b.ID} {
		if _, err := e.svc.FindFile(ctx, bob, id); err != nil {
			t.Errorf("file %s: %v", id, err)
		}
	}
	// One lookup per call, however many files (the refused calls came
	// before the lookup): the second passes, the third is over the limit.
	if _, err := e.svc.ShareFiles(ctx, alice, []string{a.ID, b.ID}, bobEmail, files.RoleViewer); err != nil {
		t.Fatalf("second lookup: %v", err)
	}
	_, err = e.svc.ShareFiles(ctx, alice, []string{a.ID}, bobEmail, files.RoleViewer)
	svctest.WantCode(t, err, apperr.TooMany)
}

// TestShareFindsUnicodeEmail: an address typed in another Unicode form (NFD,
// upper case, spaces) finds the account, which is stored as NFC.
func TestShareFindsUnicodeEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "disk", testConfig())
	alice, _ := e.person(t, "Alice")
	var jose string
	nfc := "jos\u00e9-" + svctest.RandomHex(4) + "@example.com"
	if err := e.Pool.QueryRow(context.Background(),
		`INSERT INTO users (email, display_name, password_hash) VALUES ($1, 'José', 'x') RETURNING id`, nfc).Scan(&jose); err != nil {
		t.Fatal(err)
	}
	dir := e.folder(t, alice, "", "Docs")
	typed := "  " + strings.ToUpper(norm.NFD.String(nfc)) + " "
	g := e.share(t, alice, files.ShareInput{FolderID: dir.ID, Email: typed, Role: files.RoleViewer})
	if g.GranteeID != jose {
		t.Fatalf("grant to %s, want %s", g.GranteeID, jose)
	}
}
