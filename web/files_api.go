package main

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/files"
)

// JSON of files and folders. Ids of the root are null.

type fileJSON struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Size        int64      `json:"size"`
	ContentType string     `json:"content_type"`
	FolderID    *string    `json:"folder_id"`
	SHA256      *string    `json:"sha256"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	TrashedAt   *time.Time `json:"trashed_at,omitempty"`
	// ScanState is the virus scan's state; ScanSignature names what was
	// found in an infected file, for its owner only.
	ScanState     files.ScanState `json:"scan_state"`
	ScanSignature string          `json:"scan_signature,omitempty"`
}

// toFile is f as viewer (the signed-in user) sees it.
func toFile(f files.File, viewer string) fileJSON {
	j := fileJSON{
		ID: f.ID, Name: f.Name, Size: f.Size, ContentType: f.ContentType, FolderID: optional(f.FolderID),
		SHA256: optional(f.SHA256), CreatedAt: f.CreatedAt.UTC(), UpdatedAt: f.UpdatedAt.UTC(), TrashedAt: f.TrashedAt,
		ScanState: f.ScanState,
	}
	if f.OwnerID == viewer {
		j.ScanSignature = f.ScanSignature
	}
	return j
}

type folderJSON struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	ParentID  *string      `json:"parent_id"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
	TrashedAt *time.Time   `json:"trashed_at,omitempty"`
	Path      []folderJSON `json:"path,omitempty"`
}

func toFolder(f files.Folder) folderJSON {
	return folderJSON{ID: f.ID, Name: f.Name, ParentID: optional(f.ParentID), CreatedAt: f.CreatedAt.UTC(), UpdatedAt: f.UpdatedAt.UTC(), TrashedAt: f.TrashedAt}
}

// entriesJSON is a listing: folders, then files, and the next page's cursor.
type entriesJSON struct {
	Folders []folderJSON `json:"folders"`
	Files   []fileJSON   `json:"files"`
	Next    *string      `json:"next"`
}

func toEntries(folders []files.Folder, fs []files.File, next, viewer string) entriesJSON {
	out := entriesJSON{Folders: make([]folderJSON, len(folders)), Files: make([]fileJSON, len(fs)), Next: optional(next)}
	for i, f := range folders {
		out.Folders[i] = toFolder(f)
	}
	for i, f := range fs {
		out.Files[i] = toFile(f, viewer)
	}
	return out
}

// writeFile answers a file with its version as ETag.
func writeFile(w http.ResponseWriter, r *http.Request, status int, f files.File) {
	w.Header().Set("ETag", etag(f.UpdatedAt))
	writeJSON(w, status, toFile(f, currentUser(r).ID))
}

// writeFolder answers a folder (or a folder with its path) with its version
// as ETag.
func writeFolder(w http.ResponseWriter, status int, f folderJSON) {
	w.Header().Set("ETag", etag(f.UpdatedAt))
	writeJSON(w, status, f)
}

// etag is the entity tag of a version of a file or folder: its updated_at,
// which every rename, move and restore moves forward.
func etag(updatedAt time.Time) string {
	return `"` + strconv.FormatInt(updatedAt.UnixMicro(), 36) + `"`
}

// ifMatch reads If-Match into the versions a rename or move may apply to:
// none (no condition) when the header is absent or "*". A tag that is not
// one of ours, or weak (If-Match compares strongly), matches no version,
// so the update is refused (412).
func ifMatch(r *http.Request) []time.Time {
	var versions []time.Time
	for _, h := range r.Header.Values("If-Match") {
		for tag := range strings.SplitSeq(h, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" {
				return nil
			}
			body, ok := strings.CutPrefix(tag, `"`)
			body, ok2 := strings.CutSuffix(body, `"`)
			us, err := strconv.ParseInt(body, 36, 64)
			if !ok || !ok2 || err != nil {
				versions = append(versions, time.Time{}) // never an entry's version
				continue
			}
			versions = append(versions, time.UnixMicro(us))
		}
	}
	return versions
}

// folderRef is a folder named in a path or query: "root" and "" are the
// root.
func folderRef(id string) string {
	if id == "root" {
		return ""
	}
	return id
}

// folderParam is the {id} of a folder route; "root" is the root.
func folderParam(r *http.Request) string { return folderRef(chi.URLParam(r, "id")) }

// pageParams reads cursor and limit from the query.
func pageParams(r *http.Request) (cursor string, limit int, err error) {
	q := r.URL.Query()
	if s := q.Get("limit"); s != "" {
		limit, err = strconv.Atoi(s)
		if err != nil || limit < 1 {
			return "", 0, apperr.InvalidFields(map[string]string{"limit": "Give the page size as a whole number from 1 on."})
		}
	}
	return q.Get("cursor"), limit, nil
}

// listInput reads a folder listing's query: sort=name|size|date,
// order=asc|desc, cursor and limit.
func listInput(r *http.Request, folderID string) (files.ListInput, error) {
	cursor, limit, err := pageParams(r)
	if err != nil {
		return files.ListInput{}, err
	}
	in := files.ListInput{FolderID: folderID, Sort: files.Sort(r.URL.Query().Get("sort")), Cursor: cursor, Limit: limit}
	switch r.URL.Query().Get("order") {
	case "", "asc":
	case "desc":
		in.Desc = true
	default:
		return in, apperr.InvalidFields(map[string]string{"order": "Use asc or desc."})
	}
	return in, nil
}

// apiFolderItems lists a folder: GET /api/v1/folders/{id|root}/items
// ?sort=name|size|date&order=asc|desc&cursor=&limit=.
func (a *app) apiFolderItems(w http.ResponseWriter, r *http.Request) {
	a.listFolder(w, r, folderParam(r))
}

// apiFileList lists a folder, or searches every folder by name:
// GET /api/v1/files?folder_id=&sort=&order=&cursor=&limit= or ?q=&cursor=&limit=.
func (a *app) apiFileList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !q.Has("q") {
		a.listFolder(w, r, folderRef(q.Get("folder_id")))
		return
	}
	fields := map[string]string{}
	for _, k := range []string{"folder_id", "sort", "order"} {
		if q.Has(k) {
			fields[k] = "A search covers every folder, by name; leave " + k + " out."
		}
	}
	if len(fields) > 0 {
		a.error(w, r, apperr.InvalidFields(fields))
		return
	}
	a.apiSearch(w, r)
}

// listFolder answers a page of a folder's entries.
func (a *app) listFolder(w http.ResponseWriter, r *http.Request, folderID string) {
	p, err := a.folderPage(r, folderID)
	if err != nil {
		a.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toEntries(p.Folders, p.Files, p.Next, currentUser(r).ID))
}

// folderPage loads the page of a folder that the query asks for.
func (a *app) folderPage(r *http.Request, folderID string) (files.Page, error) {
	in, err := listInput(r, folderID)
	if err != nil {
		return files.Page{}, err
	}
	return a.files.List(r.Context(), currentUser(r).ID, in)
}

// apiSearch finds entries by name: GET /api/v1/search?q=&cursor=&limit=.
func (a *app) apiSearch(w http.ResponseWriter, r *http.Request) {
	cursor, limit, err := pageParams(r)
	if err != nil {
		a.error(w, r, err)
		return
	}
	p, err := a.files.Search(r.Context(), currentUser(r).ID, files.SearchInput{Query: r.URL.Query().Get("q"), Cursor: cursor, Limit: limit})
	if err != nil {
		a.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toEntries(p.Folders, p.Files, p.Next, currentUser(r).ID))
}

// apiFolderList lists the subfolders of a folder: GET /api/v1/folders
// ?parent_id=&sort=&order=&cursor=&limit=. A listing has the folders before
// the files, so the page ends where the files begin.
func (a *app) apiFolderList(w http.ResponseWriter, r *http.Request) {
	p, err := a.folderPage(r, folderRef(r.URL.Query().Get("parent_id")))
	if err != nil {
		a.error(w, r, err)
		return
	}
	if len(p.Files) > 0 {
		p.Next = ""
	}
	out := toEntries(p.Folders, nil, p.Next, currentUser(r).ID)
	writeJSON(w, http.StatusOK, map[string]any{"items": out.Folders, "next": out.Next})
}

func (a *app) apiFolderCreate(w http.ResponseWriter, r *http.Request) {
	var in files.CreateFolderInput
	if err := decodeJSON(r, &in); err != nil {
		a.error(w, r, err)
		return
	}
	f, err := a.files.CreateFolder(r.Context(), currentUser(r).ID, in)
	if err != nil {
		a.error(w, r, err)
		return
	}
	writeFolder(w, http.StatusCreated, toFolder(f))
}

// apiFolderGet returns a folder with its path from the root (breadcrumbs).
func (a *app) apiFolderGet(w http.ResponseWriter, r *http.Request) {
	path, err := a.files.FolderPath(r.Context(), currentUser(r).ID, chi.URLParam(r, "id"))
	if err != nil {
		a.error(w, r, err)
		return
	}
	if len(path) == 0 {
		a.error(w, r, apperr.Errorf(apperr.NotFound, "Folder not found."))
		return
	}
	out := toFolder(path[len(path)-1])
	out.Path = make([]folderJSON, len(path))
	for i, f := range path {
		out.Path[i] = toFolder(f)
	}
	writeFolder(w, http.StatusOK, out)
}

// apiFolderRename renames a folder; If-Match makes it conditional.
func (a *app) apiFolderRename(w http.ResponseWriter, r *http.Request) {
	var in files.RenameInput
	if err := decodeJSON(r, &in); err != nil {
		a.error(w, r, err)
		return
	}
	in.IfUpdatedAt = ifMatch(r)
	f, err := a.files.RenameFolder(r.Context(), currentUser(r).ID, chi.URLParam(r, "id"), in)
	if err != nil {
		a.error(w, r, err)
		return
	}
	writeFolder(w, http.StatusOK, toFolder(f))
}

// apiFolderMove moves a folder; If-Match makes it conditional.
func (a *app) apiFolderMove(w http.ResponseWriter, r *http.Request) {
	var in files.MoveInput
	if err := decodeJSON(r, &in); err != nil {
		a.error(w, r, err)
		return
	}
	in.IfUpdatedAt = ifMatch(r)
	f, err := a.files.MoveFolder(r.Context(), currentUser(r).ID, chi.URLParam(r, "id"), in)
	if err != nil {
		a.error(w, r, err)
		return
	}
	writeFolder(w, http.StatusOK, toFolder(f))
}

// apiFolderRestore takes a folder out of the trash, with its contents.
func (a *app) apiFolderRestore(w http.ResponseWriter, r *http.Request) {
	if err := a.files.Restore(r.Context(), currentUser(r).ID, files.Selection{Folders: []string{chi.URLParam(r, "id")}}); err != nil {
		a.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiFolderDelete moves a folder and its contents to the trash.
func (a *app) apiFolderDelete(w http.ResponseWriter, r *http.Request) {
	if err := a.files.TrashFolder(r.Context(), currentUser(r).ID, chi.URLParam(r, "id")); err != nil {
		a.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *app) apiFileGet(w http.ResponseWriter, r *http.Request) {
	f, err := a.files.FindFile(r.Context(), currentUser(r).ID, chi.URLParam(r, "id"))
	if err != nil {
		a.error(w, r, err)
		return
	}
	writeFile(w, r, http.StatusOK, f)
}

// apiFileRename renames a file; If-Match makes it conditional.
func (a *app) apiFileRename(w http.ResponseWriter, r *http.Request) {
	var in files.RenameInput
	if err := decodeJSON(r, &in); err != nil {
		a.error(w, r, err)
		return
	}
	in.IfUpdatedAt = ifMatch(r)
	f, err := a.files.RenameFile(r.Context(), currentUser(r).ID, chi.URLParam(r, "id"), in)
	if err != nil {
		a.error(w, r, err)
		return
	}
	writeFile(w, r, http.StatusOK, f)
}

// apiFileMove moves a file; If-Match makes it conditional.
func (a *app) apiFileMove(w http.ResponseWriter, r *http.Request) {
	var in files.MoveInput
	if err := decodeJSON(r, &in); err != nil {
		a.error(w, r, err)
		return
	}
	in.IfUpdatedAt = ifMatch(r)
	f, err := a.files.MoveFile(r.Context(), currentUser(r).ID, chi.URLParam(r, "id"), in)
	if err != nil {
		a.error(w, r, err)
		return
	}
	writeFile(w, r, http.StatusOK, f)
}

// apiFileRestore takes a file out of the trash.
func (a *app) apiFileRestore(w http.ResponseWriter, r *http.Request) {
	if err := a.files.Restore(r.Context(), currentUser(r).ID, files.Selection{Files: []string{chi.URLParam(r, "id")}}); err != nil {
		a.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiFileDelete moves a file to the trash.
func (a *app) apiFileDelete(w http.ResponseWriter, r *http.Request) {
	if err := a.files.TrashFile(r.Context(), currentUser(r).ID, chi.URLParam(r, "id")); err != nil {
		a.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiFileDownload returns a short-lived download URL (for scripts; the
// browser uses GET /files/{id}/download).
func (a *app) apiFileDownload(w http.ResponseWriter, r *http.Request) {
	d, err := a.files.DownloadURL(r.Context(), currentUser(r).ID, chi.URLParam(r, "id"))
	if err != nil {
		a.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"url": d.URL, "expires_at": d.ExpiresAt.UTC()})
}

// bulkMoveRequest moves a selection: {"files":[...],"folders":[...],
// "folder_id":..., "on_conflict":...}.
type bulkMoveRequest struct {
	files.Selection
	files.MoveInput
}

func (a *app) apiItemsMove(w http.ResponseWriter, r *http.Request) {
	var in bulkMoveRequest
	if err := decodeJSON(r, &in); err != nil {
		a.error(w, r, err)
		return
	}
	if err := a.files.Move(r.Context(), currentUser(r).ID, in.Selection, in.MoveInput); err != nil {
		a.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *app) apiItemsTrash(w http.ResponseWriter, r *http.Request) {
	var in files.Selection
	if err := decodeJSON(r, &in); err != nil {
		a.error(w, r, err)
		return
	}
	if err := a.files.Trash(r.Context(), currentUser(r).ID, in); err != nil {
		a.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *app) apiTrashList(w http.ResponseWriter, r *http.Request) {
	p, err := a.files.ListTrash(r.Context(), currentUser(r).ID)
	if err != nil {
		a.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toEntries(p.Folders, p.Files, "", currentUser(r).ID))
}

func (a *app) apiTrashRestore(w http.ResponseWriter, r *http.Request) {
	var in files.Selection
	if err := decodeJSON(r, &in); err != nil {
		a.error(w, r, err)
		return
	}
	if err := a.files.Restore(r.Context(), currentUser(r).ID, in); err != nil {
		a.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiTrashEmpty deletes everything in the trash for good.
func (a *app) apiTrashEmpty(w http.ResponseWriter, r *http.Request) {
	n, err := a.files.EmptyTrash(r.Context(), currentUser(r).ID)
	if err != nil {
		a.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"deleted": n})
}

func (a *app) apiUsage(w http.ResponseWriter, r *http.Request) {
	u, err := a.files.Usage(r.Context(), currentUser(r).ID)
	if err != nil {
		a.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, usageJSON{Used: u.Used, Reserved: u.Reserved, Quota: u.Quota})
}
