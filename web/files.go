package main

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/views"
)

// The file browser's pages and their htmx partials: a folder (or a search
// over all folders), the Trash, the details drawer and the dialogs. The
// page is one #browser region that htmx swaps to open another folder, so
// uploads keep running; HX-Target tells a handler which piece to render.

// browsePageSize is how many entries one listing page (and one infinite
// scroll step) shows.
const browsePageSize = 100

// movePickerSize is how many subfolders the move dialog lists.
const movePickerSize = 200

// htmxTarget is the id of the element an htmx request will swap, or "" for
// a full page (a plain request, or htmx restoring history after Back).
func htmxTarget(r *http.Request) string {
	if !isHTMX(r) || r.Header.Get("HX-History-Restore-Request") == "true" {
		return ""
	}
	return r.Header.Get("HX-Target")
}

// uploadLimits are the limits the upload module checks before it asks.
func (a *app) uploadLimits() views.UploadLimits {
	c := a.files.Config()
	return views.UploadLimits{MaxFileSize: c.MaxFileSize, MultipartThreshold: c.MultipartThreshold}
}

func (a *app) usage(r *http.Request) (views.Usage, error) {
	u, err := a.files.Usage(r.Context(), currentUser(r).ID)
	return views.Usage{Used: u.Used, Reserved: u.Reserved, Quota: u.Quota}, err
}

// listing reads a listing's query (q, sort, dir, cursor) and loads that
// page: a search over all folders when q is set, else the folder.
func (a *app) listing(r *http.Request, folderID string) (views.Listing, error) {
	q := r.URL.Query()
	l := views.Listing{FolderID: folderID, Query: q.Get("q"), Sort: q.Get("sort"), Desc: q.Get("dir") == "desc"}
	if l.Sort == "" {
		l.Sort = string(files.SortName)
	}
	var p files.Page
	var err error
	if l.Query != "" {
		l.Sort, l.Desc = string(files.SortName), false
		p, err = a.files.Search(r.Context(), currentUser(r).ID, files.SearchInput{Query: l.Query, Cursor: q.Get("cursor"), Limit: browsePageSize})
	} else {
		p, err = a.files.List(r.Context(), currentUser(r).ID, files.ListInput{
			FolderID: folderID, Sort: files.Sort(l.Sort), Desc: l.Desc, Cursor: q.Get("cursor"), Limit: browsePageSize,
		})
	}
	l.Folders, l.Files, l.Next = folderRows(p.Folders), a.fileRows(p.Files, currentUser(r).ID), p.Next
	l.Role, l.Owner = string(p.Access.Role), p.Access.OwnerName
	return l, err
}

func folderRows(fs []files.Folder) []views.FolderRow {
	rows := make([]views.FolderRow, len(fs))
	for i, f := range fs {
		rows[i] = views.FolderRow{ID: f.ID, Name: f.Name, Created: f.CreatedAt}
		if f.TrashedAt != nil {
			rows[i].Trashed = *f.TrashedAt
		}
	}
	return rows
}

func (a *app) fileRows(fs []files.File, viewer string) []views.FileRow {
	rows := make([]views.FileRow, len(fs))
	for i, f := range fs {
		rows[i] = a.fileRow(f, viewer)
	}
	return rows
}

// fileRow is f as viewer sees it in a listing: the signature of an
// infected file only for its owner.
func (a *app) fileRow(f files.File, viewer string) views.FileRow {
	row := views.FileRow{ID: f.ID, Name: f.Name, Size: f.Size, ContentType: f.ContentType, Created: f.CreatedAt}
	if f.TrashedAt != nil {
		row.Trashed = *f.TrashedAt
	}
	row.Scan = views.ScanBadge{
		State:    string(f.ScanState),
		Held:     a.files.Servable(f.ScanState) != nil,
		Scanning: a.files.Config().Scan.Enabled,
	}
	if f.OwnerID == viewer {
		row.Scan.Signature = f.ScanSignature
	}
	return row
}

func crumbs(path []files.Folder) []views.Crumb {
	out := make([]views.Crumb, len(path))
	for i, f := range path {
		out[i] = views.Crumb{ID: f.ID, Name: f.Name}
	}
	return out
}

// handleBrowse serves /files (the top folder) and /folders/{id}: the full
// page, the #browser region (htmx navigation), the #listing card (search,
// sort, refresh) or, with a cursor, the next rows.
func (a *app) handleBrowse(w http.ResponseWriter, r *http.Request) {
	folderID := chi.URLParam(r, "id")
	target := htmxTarget(r)
	if target == "listing" || (isHTMX(r) && target != "browser" && r.URL.Query().Get("cursor") != "") {
		l, err := a.listing(r, folderID)
		if err != nil {
			a.error(w, r, err)
			return
		}
		if target == "listing" {
			a.render(w, r, http.StatusOK, views.ListingCard(l))
		} else {
			a.render(w, r, http.StatusOK, views.ListingRows(l))
		}
		return
	}
	// FolderPath first: it also answers 404 for a folder that is not the user's.
	path, err := a.files.FolderPath(r.Context(), currentUser(r).ID, folderID)
	if err != nil {
		a.error(w, r, err)
		return
	}
	p := views.FilesPage{Path: crumbs(path), Limits: a.uploadLimits()}
	if p.Listing, err = a.listing(r, folderID); err != nil {
		a.error(w, r, err)
		return
	}
	if p.Usage, err = a.usage(r); err != nil {
		a.error(w, r, err)
		return
	}
	title := "My files"
	if len(path) > 0 {
		title = path[len(path)-1].Name
	}
	p.Shell = a.shellNav(r, title, "files")
	if target == "browser" {
		a.render(w, r, http.StatusOK, views.FilesFragment(p))
		return
	}
	a.render(w, r, http.StatusOK, views.Files(p))
}

// handleUsage is the storage meter, refreshed after uploads and deletes.
func (a *app) handleUsage(w http.ResponseWriter, r *http.Request) {
	u, err := a.usage(r)
	if err != nil {
		a.error(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, views.UsageMeter(u))
}

// handleFileDetails is the details drawer of a file.
func (a *app) handleFileDetails(w http.ResponseWriter, r *http.Request) {
	uid := currentUser(r).ID
	f, err := a.files.FindFile(r.Context(), uid, chi.URLParam(r, "id"))
	if err != nil {
		a.error(w, r, err)
		return
	}
	if !isHTMX(r) {
		// The drawer lives on the folder page.
		http.Redirect(w, r, folderPath(f.FolderID), http.StatusSeeOther)
		return
	}
	path, err := a.files.FolderPath(r.Context(), uid, f.FolderID)
	if apperr.Is(err, apperr.NotFound) {
		// A file shared on its own: its folder is not the user's to see.
		path, err = nil, nil
	}
	if err != nil {
		a.error(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, views.FileDetailsPanel(views.FileDetails{
		File: a.fileRow(f, uid), SHA256: f.SHA256, Modified: f.UpdatedAt, Path: crumbs(path),
	}))
}

// folderPath is the page of a folder ("" is the top).
func folderPath(id string) string {
	if id == "" {
		return "/files"
	}
	return "/folders/" + id
}

// changed answers a successful change. htmx gets a toast in #flash and two
// events: files-changed (the listing and the meter refresh themselves) and
// close-dialog. A plain form post goes back with a flash message.
func (a *app) changed(w http.ResponseWriter, r *http.Request, t views.ActionToast, back string) {
	if !isHTMX(r) {
		a.flash(r, "success", t.Message)
		redirect(w, r, back)
		return
	}
	w.Header().Set("HX-Trigger", `{"files-changed":true,"close-dialog":true}`)
	w.Header().Set("HX-Retarget", "#flash")
	w.Header().Set("HX-Reswap", "beforeend")
	a.render(w, r, http.StatusOK, views.ActionToastView(t))
}

func (a *app) handleFolderCreateDialog(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, views.NewFolderForm(views.NewFolderDialog{ParentID: r.URL.Query().Get("parent")}))
}

func (a *app) handleFolderCreate(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		a.error(w, r, err)
		return
	}
	in := files.CreateFolderInput{ParentID: r.PostForm.Get("parent_id"), Name: r.PostForm.Get("name")}
	f, err := a.files.CreateFolder(r.Context(), currentUser(r).ID, in)
	if err != nil {
		a.formFailed(w, r, err, func() (formView, error) {
			c := views.NewFolderForm(views.NewFolderDialog{ParentID: in.ParentID, Form: formOf(r, err, "name")})
			return formView{fragment: c, back: folderPath(in.ParentID)}, nil
		})
		return
	}
	a.changed(w, r, views.ActionToast{Message: fmt.Sprintf("Folder “%s” created.", f.Name)}, folderPath(in.ParentID))
}

// itemRef reads the one file or folder a rename names: ?file=id or ?folder=id.
func itemRef(v func(string) string) (kind, id string) {
	if id := v("file"); id != "" {
		return "file", id
	}
	if id := v("folder"); id != "" {
		return "folder", id
	}
	return v("kind"), v("id")
}

func (a *app) handleItemRenameDialog(w http.ResponseWriter, r *http.Request) {
	kind, id := itemRef(r.URL.Query().Get)
	var name string
	var err error
	switch kind {
	case "file":
		var f files.File
		f, err = a.files.FindFile(r.Context(), currentUser(r).ID, id)
		name = f.Name
	case "folder":
		var f files.Folder
		f, err = a.files.FindFolder(r.Context(), currentUser(r).ID, id)
		name = f.Name
	default:
		err = apperr.Errorf(apperr.BadRequest, "Say which file or folder to rename.")
	}
	if err != nil {
		a.error(w, r, err)
		return
	}
	form := views.Form{Values: map[string]string{"name": name}}
	a.render(w, r, http.StatusOK, views.RenameForm(views.RenameDialog{Kind: kind, ID: id, Form: form}))
}

func (a *app) handleItemRename(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		a.error(w, r, err)
		return
	}
	kind, id := r.PostForm.Get("kind"), r.PostForm.Get("id")
	in := files.RenameInput{Name: r.PostForm.Get("name")}
	var name, back string
	var err error
	switch kind {
	case "file":
		var f files.File
		f, err = a.files.RenameFile(r.Context(), currentUser(r).ID, id, in)
		name, back = f.Name, folderPath(f.FolderID)
	case "folder":
		var f files.Folder
		f, err = a.files.RenameFolder(r.Context(), currentUser(r).ID, id, in)
		name, back = f.Name, folderPath(f.ParentID)
	default:
		err = apperr.Errorf(apperr.BadRequest, "Say which file or folder to rename.")
	}
	if err != nil {
		a.formFailed(w, r, err, func() (formView, error) {
			c := views.RenameForm(views.RenameDialog{Kind: kind, ID: id, Form: formOf(r, err, "name")})
			return formView{fragment: c, back: "/files"}, nil
		})
		return
	}
	a.changed(w, r, views.ActionToast{Message: fmt.Sprintf("Renamed to “%s”.", name)}, back)
}

// selection reads the files and folders a bulk action names (file=…&folder=…,
// in the query or the form).
func selection(r *http.Request) files.Selection {
	return files.Selection{Files: r.Form["file"], Folders: r.Form["folder"]}
}

func viewSelection(s files.Selection) views.Selection {
	return views.Selection{Files: s.Files, Folders: s.Folders}
}

// moveDialog loads the picker at folder at for a selection. Things shared
// with the user move only within the share, so their picker opens at the
// shared folder rather than at the user's own root.
func (a *app) moveDialog(r *http.Request, sel files.Selection, at string) (views.MoveDialog, error) {
	if at == "" {
		var acc files.Access
		var err error
		if len(sel.Folders) > 0 {
			acc, err = a.files.FolderAccess(r.Context(), currentUser(r).ID, sel.Folders[0])
		} else if len(sel.Files) > 0 {
			acc, err = a.files.FileAccess(r.Context(), currentUser(r).ID, sel.Files[0])
		}
		if err == nil && acc.Shared() && !acc.RootIsFile {
			at = acc.RootID
		}
	}
	d := views.MoveDialog{Selection: viewSelection(sel), At: at}
	path, err := a.files.FolderPath(r.Context(), currentUser(r).ID, at)
	if err != nil {
		return d, err
	}
	d.Path = crumbs(path)
	p, err := a.files.List(r.Context(), currentUser(r).ID, files.ListInput{FolderID: at, Limit: movePickerSize})
	d.Folders = folderRows(p.Folders)
	// Folders come first, so a next page that holds only files is no "more".
	d.More = p.Next != "" && len(p.Files) == 0
	return d, err
}

func (a *app) handleItemsMoveDialog(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		a.error(w, r, err)
		return
	}
	sel := selection(r)
	if len(sel.Files)+len(sel.Folders) == 0 {
		a.error(w, r, apperr.Errorf(apperr.Invalid, "Select at least one file or folder to move."))
		return
	}
	d, err := a.moveDialog(r, sel, r.Form.Get("at"))
	if err != nil {
		a.error(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, views.MoveForm(d))
}

func (a *app) handleItemsMove(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		a.error(w, r, err)
		return
	}
	sel := selection(r)
	in := files.MoveInput{FolderID: r.PostForm.Get("folder_id"), OnConflict: files.OnConflict(r.PostForm.Get("on_conflict"))}
	err := a.files.Move(r.Context(), currentUser(r).ID, sel, in)
	if err != nil {
		a.formFailed(w, r, err, func() (formView, error) {
			d, derr := a.moveDialog(r, sel, in.FolderID)
			d.Error = apperr.As(err).Message
			d.Conflict = apperr.CodeOf(err) == apperr.Conflict
			return formView{fragment: views.MoveForm(d), back: folderPath(in.FolderID)}, derr
		})
		return
	}
	to := "My files"
	if in.FolderID != "" {
		if f, err := a.files.FindFolder(r.Context(), currentUser(r).ID, in.FolderID); err == nil {
			to = f.Name
		}
	}
	a.changed(w, r, views.ActionToast{Message: fmt.Sprintf("Moved %s to “%s”.", countItems(sel), to)}, folderPath(in.FolderID))
}

func countItems(s files.Selection) string {
	n := len(s.Files) + len(s.Folders)
	if n == 1 {
		if len(s.Files) == 1 {
			return "1 file"
		}
		return "1 folder"
	}
	return strconv.Itoa(n) + " items"
}

func (a *app) handleItemsTrash(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		a.error(w, r, err)
		return
	}
	sel := selection(r)
	if err := a.files.Trash(r.Context(), currentUser(r).ID, sel); err != nil {
		a.error(w, r, err)
		return
	}
	undo := viewSelection(sel)
	a.changed(w, r, views.ActionToast{Message: "Moved " + countItems(sel) + " to the Trash.", Undo: &undo}, "/files")
}

// trashPage loads the Trash.
func (a *app) trashPage(r *http.Request) (views.TrashPage, error) {
	t, err := a.files.ListTrash(r.Context(), currentUser(r).ID)
	if err != nil {
		return views.TrashPage{}, err
	}
	return views.TrashPage{
		Folders:   folderRows(t.Folders),
		Files:     a.fileRows(t.Files, currentUser(r).ID),
		Retention: a.files.Config().TrashRetention,
		Limits:    a.uploadLimits(),
	}, nil
}

// handleTrashPage serves the Trash: full page, #browser region, or the
// #listing card when it refreshes itself.
func (a *app) handleTrashPage(w http.ResponseWriter, r *http.Request) {
	p, err := a.trashPage(r)
	if err != nil {
		a.error(w, r, err)
		return
	}
	a.renderBrowser(w, r, "Trash", views.TrashListing(p), func(s views.Shell, u views.Usage) (templ.Component, templ.Component) {
		p.Shell, p.Usage = s, u
		return views.TrashFragment(p), views.Trash(p)
	})
}

// renderBrowser answers a page of the file browser for what htmx swaps:
// the #listing card alone (it refreshes itself), the #browser region, or
// the whole page. page builds the last two from the layout and the usage
// meter, which the listing does not need.
func (a *app) renderBrowser(w http.ResponseWriter, r *http.Request, title string, listing templ.Component,
	page func(views.Shell, views.Usage) (region, full templ.Component)) {
	target := htmxTarget(r)
	if target == "listing" {
		a.render(w, r, http.StatusOK, listing)
		return
	}
	u, err := a.usage(r)
	if err != nil {
		a.error(w, r, err)
		return
	}
	region, full := page(a.shellNav(r, title, "files"), u)
	if target == "browser" {
		a.render(w, r, http.StatusOK, region)
		return
	}
	a.render(w, r, http.StatusOK, full)
}

func (a *app) handleTrashRestore(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		a.error(w, r, err)
		return
	}
	sel := selection(r)
	if err := a.files.Restore(r.Context(), currentUser(r).ID, sel); err != nil {
		a.error(w, r, err)
		return
	}
	a.changed(w, r, views.ActionToast{Message: "Restored " + countItems(sel) + "."}, "/trash")
}

func (a *app) handleTrashEmptyDialog(w http.ResponseWriter, r *http.Request) {
	t, err := a.files.ListTrash(r.Context(), currentUser(r).ID)
	if err != nil {
		a.error(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, views.EmptyTrashForm(len(t.Folders)+len(t.Files)))
}

func (a *app) handleTrashEmpty(w http.ResponseWriter, r *http.Request) {
	n, err := a.files.EmptyTrash(r.Context(), currentUser(r).ID)
	if err != nil {
		a.error(w, r, err)
		return
	}
	msg := "Deleted " + strconv.Itoa(n) + " items for good."
	if n == 1 {
		msg = "Deleted 1 item for good."
	}
	a.changed(w, r, views.ActionToast{Message: msg}, "/trash")
}

// handleFileScan is polled by a file row while its virus scan runs: 204
// while it waits, then an empty 200 with the files-changed event, which
// refreshes the listing (and so ends the polling).
func (a *app) handleFileScan(w http.ResponseWriter, r *http.Request) {
	f, err := a.files.FindFile(r.Context(), currentUser(r).ID, chi.URLParam(r, "id"))
	if err != nil {
		a.error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if !f.ScanState.Done() {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("HX-Trigger", "files-changed")
	w.WriteHeader(http.StatusOK)
}

// handleFileDownload checks that the signed-in user may read the file, then
// redirects (303) to a short-lived presigned URL that answers with an
// attachment disposition and a safe content type, so the bytes never come
// from this origin inline.
func (a *app) handleFileDownload(w http.ResponseWriter, r *http.Request) {
	d, err := a.files.DownloadURL(r.Context(), currentUser(r).ID, chi.URLParam(r, "id"))
	if err != nil {
		a.error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, d.URL, http.StatusSeeOther)
}
