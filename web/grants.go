package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"

	"github.com/weupload/weupload/internal/files"
	"github.com/weupload/weupload/views"
)

// Sharing with registered users in the web app: the People section of the
// share dialog (its forms answer with the dialog's body, like the link
// forms in web/links.go) and the "Shared with me" page. The files service
// enforces every role; these handlers only read forms and render.

func personRows(gs []files.Grant) []views.PersonRow {
	rows := make([]views.PersonRow, len(gs))
	for i, g := range gs {
		rows[i] = views.PersonRow{GrantID: g.ID, Name: g.GranteeName, Email: g.GranteeEmail, Role: string(g.Role)}
	}
	return rows
}

// people lists who has access to the dialog's one folder or file.
func (a *app) people(ctx context.Context, userID string, d *views.ShareDialog) error {
	if !d.CanSharePeople() || d.ManyFiles() {
		return nil
	}
	f := files.GrantFilter{FolderID: d.FolderID}
	if d.FolderID == "" {
		f.FileID = d.FileIDs[0]
	}
	gs, err := a.files.ListGrants(ctx, userID, f)
	d.People = personRows(gs)
	return err
}

// grantSubject is the share dialog's subject for a grant's entry.
func grantSubject(g files.Grant) (fileIDs []string, folderID string) {
	if g.FileID != "" {
		return []string{g.FileID}, ""
	}
	return nil, g.FolderID
}

// peopleDialog answers a change in the People section: the dialog again
// with a notice (htmx), or the dialog page (no script).
func (a *app) peopleDialog(w http.ResponseWriter, r *http.Request, fileIDs []string, folderID, notice string) {
	a.shareDialogChanged(w, r, fileIDs, folderID, "", "", func(d *views.ShareDialog) { d.PeopleNotice = notice })
}

// handleGrantCreate shares the dialog's folder or file with someone by email.
func (a *app) handleGrantCreate(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		a.error(w, r, err)
		return
	}
	in := files.ShareInput{FolderID: r.PostForm.Get("folder"), FileID: r.PostForm.Get("file"), Email: r.PostForm.Get("email"), Role: files.Role(r.PostForm.Get("role"))}
	fileIDs := r.PostForm["file"]
	var g files.Grant
	var err error
	if len(fileIDs) > 1 && in.FolderID == "" {
		g, err = a.files.ShareFiles(r.Context(), currentUser(r).ID, fileIDs, in.Email, in.Role)
	} else {
		g, err = a.files.Share(r.Context(), currentUser(r).ID, in)
	}
	if err != nil {
		a.shareDialogFailed(w, r, err, fileIDs, in.FolderID, "", func(d *views.ShareDialog) { d.PeopleForm = formOf(r, err, "email", "role") })
		return
	}
	what := "Shared"
	if len(fileIDs) > 1 {
		what += " " + plural(len(fileIDs), "file", "files")
	}
	a.peopleDialog(w, r, fileIDs, in.FolderID, fmt.Sprintf("%s with %s (%s) as %s. They find it under “Shared with me”.", what, g.GranteeName, g.GranteeEmail, g.Role))
}

// handleGrantUpdate changes someone's role from the dialog.
func (a *app) handleGrantUpdate(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		a.error(w, r, err)
		return
	}
	g, err := a.files.SetGrantRole(r.Context(), currentUser(r).ID, chi.URLParam(r, "id"), files.Role(r.PostForm.Get("role")))
	if err != nil {
		a.error(w, r, err)
		return
	}
	fileIDs, folderID := grantSubject(g)
	what := "can now view and download"
	if g.Role == files.RoleEditor {
		what = "can now also add and change files"
	}
	a.peopleDialog(w, r, fileIDs, folderID, g.GranteeName+" "+what+".")
}

// handleGrantDelete removes someone's access from the dialog.
func (a *app) handleGrantDelete(w http.ResponseWriter, r *http.Request) {
	g, err := a.files.RemoveGrant(r.Context(), currentUser(r).ID, chi.URLParam(r, "id"), files.AsOwner)
	if err != nil {
		a.error(w, r, err)
		return
	}
	fileIDs, folderID := grantSubject(g)
	a.peopleDialog(w, r, fileIDs, folderID, g.GranteeName+" no longer has access.")
}

func (a *app) sharedItems(gs []files.Grant) []views.SharedItem {
	items := make([]views.SharedItem, len(gs))
	for i, g := range gs {
		items[i] = views.SharedItem{
			GrantID: g.ID, ID: g.FolderID, Folder: g.FolderID != "", Name: g.Name, Size: g.Size,
			Owner: g.OwnerName, OwnerEmail: g.OwnerEmail, Role: string(g.Role), SharedAt: g.CreatedAt,
		}
		if g.FileID != "" {
			items[i].ID = g.FileID
			// A grantee is not the owner: no signature.
			items[i].Scan = views.ScanBadge{State: string(g.ScanState), Held: a.files.Servable(g.ScanState) != nil, Scanning: a.files.Config().Scan.Enabled}
		}
	}
	return items
}

// handleSharedWithMe serves "Shared with me": the full page, the #browser
// region, or the #listing card when it refreshes itself.
func (a *app) handleSharedWithMe(w http.ResponseWriter, r *http.Request) {
	gs, err := a.files.SharedWithMe(r.Context(), currentUser(r).ID)
	if err != nil {
		a.error(w, r, err)
		return
	}
	p := views.SharedWithMePage{Items: a.sharedItems(gs), Limits: a.uploadLimits()}
	a.renderBrowser(w, r, "Shared with me", views.SharedWithMeListing(p.Items), func(s views.Shell, u views.Usage) (templ.Component, templ.Component) {
		p.Shell, p.Usage = s, u
		return views.SharedWithMeFragment(p), views.SharedWithMe(p)
	})
}

// handleGrantLeave removes something shared with the user from their list.
func (a *app) handleGrantLeave(w http.ResponseWriter, r *http.Request) {
	g, err := a.files.RemoveGrant(r.Context(), currentUser(r).ID, chi.URLParam(r, "id"), files.AsGrantee)
	if err != nil {
		a.error(w, r, err)
		return
	}
	a.changed(w, r, views.ActionToast{Message: fmt.Sprintf("“%s” is no longer shared with you.", g.Name)}, "/shared-with-me")
}
