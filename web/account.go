package main

import (
	"net/http"

	"github.com/weupload/weupload/internal/auth"
	"github.com/weupload/weupload/views"
)

func (a *app) accountPage(r *http.Request) views.AccountPage {
	u := currentUser(r)
	return views.AccountPage{
		Shell:       a.shellNav(r, "Account", "account"),
		Email:       u.Email,
		MemberSince: u.CreatedAt.Format("January 2006"),
		Profile:     views.Form{Values: map[string]string{"display_name": u.DisplayName}},
	}
}

func (a *app) handleAccountPage(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, views.Account(a.accountPage(r)))
}

func (a *app) handleProfileUpdate(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		a.error(w, r, err)
		return
	}
	u, err := a.auth.UpdateProfile(r.Context(), currentUser(r).ID, auth.UpdateProfileInput{DisplayName: r.PostForm.Get("display_name")})
	p := a.accountPage(r)
	if err != nil {
		if !isFormError(err) {
			a.error(w, r, err)
			return
		}
		p.Profile = formOf(r, err, "display_name")
		a.renderForm(w, r, err, views.Account(p), views.ProfileForm(p))
		return
	}
	if !isHTMX(r) {
		a.flash(r, "success", "Profile saved.")
		redirect(w, r, "/account")
		return
	}
	p.Profile.Values["display_name"] = u.DisplayName
	p.ProfileSaved = true
	a.render(w, r, http.StatusOK, views.ProfileForm(p))
}

func (a *app) handlePasswordChange(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		a.error(w, r, err)
		return
	}
	in := auth.ChangePasswordInput{Current: r.PostForm.Get("current_password"), New: r.PostForm.Get("new_password")}
	u, err := a.auth.ChangePassword(r.Context(), currentUser(r).ID, in)
	if err != nil {
		if !isFormError(err) {
			a.error(w, r, err)
			return
		}
		p := a.accountPage(r)
		p.Password = formOf(r, err)
		a.renderForm(w, r, err, views.Account(p), views.PasswordForm(p))
		return
	}
	// A privilege change: new token, and this session moves to the new epoch
	// while every other session of the user is now stale.
	if err := a.startSession(r, &u); err != nil {
		a.error(w, r, err)
		return
	}
	a.flash(r, "success", "Password changed. You were logged out on your other devices.")
	redirect(w, r, "/account")
}

func (a *app) handleFilesPage(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, views.Files(views.FilesPage{Shell: a.shellNav(r, "My files", "files")}))
}
