package main

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/weupload/weupload/internal/files"
)

// JSON of the upload protocol. Scripts and the upload page depend on these
// shapes, so they change only with a new API version: single {"id","mode","expires_at","url","headers"}, multipart {"id","mode",
// "part_size","expires_at","parts":[{"number","url","headers"}]}.

type uploadURLsJSON struct {
	ID        string            `json:"id"`
	Mode      string            `json:"mode"`
	PartSize  int64             `json:"part_size,omitempty"`
	ExpiresAt time.Time         `json:"expires_at"`
	URL       string            `json:"url,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
	Parts     []partURLJSON     `json:"parts,omitempty"`
}

type partURLJSON struct {
	Number  int32             `json:"number"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
}

func toUploadURLs(u files.UploadURLs) uploadURLsJSON {
	out := uploadURLsJSON{ID: u.Upload.ID, Mode: u.Upload.Mode, ExpiresAt: u.ExpiresAt.UTC()}
	if u.Upload.Mode == files.ModeSingle {
		out.URL, out.Headers = u.URL, nonNil(u.Header)
		return out
	}
	out.PartSize = u.Upload.PartSize
	out.Parts = make([]partURLJSON, len(u.Parts))
	for i, p := range u.Parts {
		out.Parts[i] = partURLJSON{Number: p.Number, URL: p.URL, Headers: nonNil(p.Header)}
	}
	return out
}

// nonNil makes "headers" an object even when there are none to send.
func nonNil(h map[string]string) map[string]string {
	if h == nil {
		return map[string]string{}
	}
	return h
}

type uploadJSON struct {
	ID          string    `json:"id"`
	State       string    `json:"state"`
	Mode        string    `json:"mode"`
	Name        string    `json:"name"`
	Size        int64     `json:"size"`
	ContentType string    `json:"content_type"`
	FolderID    *string   `json:"folder_id"`
	SHA256      *string   `json:"sha256"`
	PartSize    int64     `json:"part_size,omitempty"`
	PartsTotal  int32     `json:"parts_total,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	FileID      *string   `json:"file_id"`
	// Parts are the parts stored so far (pending multipart only).
	Parts []storedPartJSON `json:"parts,omitempty"`
}

type storedPartJSON struct {
	Number int32  `json:"number"`
	Size   int64  `json:"size"`
	ETag   string `json:"etag"`
}

func toUpload(u files.Upload) uploadJSON {
	return uploadJSON{
		ID: u.ID, State: u.State, Mode: u.Mode, Name: u.Name, Size: u.Size, ContentType: u.ContentType,
		FolderID: optional(u.FolderID), SHA256: optional(u.SHA256), PartSize: u.PartSize, PartsTotal: u.Parts(),
		CreatedAt: u.CreatedAt.UTC(), ExpiresAt: u.ExpiresAt.UTC(), FileID: optional(u.FileID),
	}
}

// optional is null in JSON for "".
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// apiUploadCreate starts an upload: the pending row and the quota
// reservation are committed before the URLs are returned.
func (a *app) apiUploadCreate(w http.ResponseWriter, r *http.Request) {
	var in files.InitiateInput
	if err := decodeJSON(r, &in); err != nil {
		a.error(w, r, err)
		return
	}
	urls, err := a.files.InitiateUpload(r.Context(), currentUser(r).ID, in)
	if err != nil {
		a.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toUploadURLs(urls))
}

// apiUploadList lists the caller's pending uploads (for resume).
func (a *app) apiUploadList(w http.ResponseWriter, r *http.Request) {
	ups, err := a.files.ListUploads(r.Context(), currentUser(r).ID)
	if err != nil {
		a.error(w, r, err)
		return
	}
	items := make([]uploadJSON, len(ups))
	for i, u := range ups {
		items[i] = toUpload(u)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next": nil})
}

// apiUploadGet returns an upload's state and the parts already stored.
func (a *app) apiUploadGet(w http.ResponseWriter, r *http.Request) {
	st, err := a.files.FindUpload(r.Context(), currentUser(r).ID, chi.URLParam(r, "id"))
	if err != nil {
		a.error(w, r, err)
		return
	}
	out := toUpload(st.Upload)
	for _, p := range st.Parts {
		out.Parts = append(out.Parts, storedPartJSON{Number: p.Number, Size: p.Size, ETag: p.ETag})
	}
	writeJSON(w, http.StatusOK, out)
}

// partsRequest asks for more URLs: part numbers (multipart), none (single).
type partsRequest struct {
	Numbers []int32 `json:"numbers"`
}

// apiUploadParts returns fresh URLs for a pending upload.
func (a *app) apiUploadParts(w http.ResponseWriter, r *http.Request) {
	var in partsRequest
	if err := decodeJSON(r, &in); err != nil {
		a.error(w, r, err)
		return
	}
	urls, err := a.files.UploadURLs(r.Context(), currentUser(r).ID, chi.URLParam(r, "id"), in.Numbers)
	if err != nil {
		a.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toUploadURLs(urls))
}

// apiUploadComplete verifies the stored bytes and makes the file; calling
// it again returns the same file.
func (a *app) apiUploadComplete(w http.ResponseWriter, r *http.Request) {
	var in files.CompleteInput
	if r.ContentLength != 0 { // an empty body completes a single upload
		if err := decodeJSON(r, &in); err != nil {
			a.error(w, r, err)
			return
		}
	}
	f, err := a.files.CompleteUpload(r.Context(), currentUser(r).ID, chi.URLParam(r, "id"), in)
	if err != nil {
		a.error(w, r, err)
		return
	}
	writeFile(w, r, http.StatusOK, f)
}

// apiUploadAbort cancels a pending upload and releases its quota.
func (a *app) apiUploadAbort(w http.ResponseWriter, r *http.Request) {
	if err := a.files.AbortUpload(r.Context(), currentUser(r).ID, chi.URLParam(r, "id")); err != nil {
		a.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
