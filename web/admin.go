package main

import (
	"net/http"

	"github.com/weupload/weupload/views"
)

// adminScanListSize is how many flagged files the admins' page shows.
const adminScanListSize = 200

// handleAdminScans lists infected and failed files of every account, for
// admins (the service checks); anyone else gets the 404 of a page that does
// not exist.
func (a *app) handleAdminScans(w http.ResponseWriter, r *http.Request) {
	issues, err := a.files.ScanIssues(r.Context(), currentUser(r).ID, adminScanListSize)
	if err != nil {
		a.error(w, r, err)
		return
	}
	p := views.AdminScansPage{Shell: a.shellNav(r, "Virus scans", "admin")}
	for _, it := range issues {
		row := views.ScanIssueRow{ID: it.ID, Name: it.Name, Owner: it.OwnerEmail, Size: it.Size, State: string(it.ScanState), Signature: it.ScanSignature}
		if it.ScannedAt != nil {
			row.Scanned = *it.ScannedAt
		}
		p.Issues = append(p.Issues, row)
	}
	a.render(w, r, http.StatusOK, views.AdminScans(p))
}
