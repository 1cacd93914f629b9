package main

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/weupload/weupload/internal/apperr"
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
	p := a.accountPage(r)
	tokens, err := a.tokensSection(r)
	if err != nil {
		a.error(w, r, err)
		return
	}
	p.Tokens = tokens
	a.render(w, r, http.StatusOK, views.Account(p))
}

func (a *app) handleProfileUpdate(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		a.error(w, r, err)
		return
	}
	u, err := a.auth.UpdateProfile(r.Context(), currentUser(r).ID, auth.UpdateProfileInput{DisplayName: r.PostForm.Get("display_name")})
	if err != nil {
		a.formFailed(w, r, err, func() (formView, error) {
			p := a.accountPage(r)
			p.Profile = formOf(r, err, "display_name")
			return formView{fragment: views.ProfileForm(p), page: views.Account(p)}, nil
		})
		return
	}
	p := a.accountPage(r)
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
	in := auth.ChangePasswordInput{Current: r.PostForm.Get("current_password"), New: r.PostForm.Get("new_password"), RevokeTokens: r.PostForm.Get("revoke_tokens") != ""}
	u, err := a.auth.ChangePassword(r.Context(), currentUser(r).ID, in)
	if err != nil {
		a.formFailed(w, r, err, func() (formView, error) {
			p := a.accountPage(r)
			p.Password = formOf(r, err, "revoke_tokens")
			return formView{fragment: views.PasswordForm(p), page: views.Account(p)}, nil
		})
		return
	}
	// A privilege change: new token, and this session moves to the new epoch
	// while every other session of the user is now stale.
	if err := a.startSession(r, &u); err != nil {
		a.error(w, r, err)
		return
	}
	msg := "Password changed. You were logged out on your other devices."
	if in.RevokeTokens {
		msg += " Your API tokens were revoked."
	}
	a.flash(r, "success", msg)
	redirect(w, r, "/account")
}

// tokensSection loads the user's tokens for the account page.
func (a *app) tokensSection(r *http.Request) (views.TokensSection, error) {
	tokens, err := a.auth.ListTokens(r.Context(), currentUser(r).ID)
	if err != nil {
		return views.TokensSection{}, err
	}
	s := views.TokensSection{Scopes: auth.Scopes}
	now := time.Now()
	for _, t := range tokens {
		row := views.TokenRow{ID: t.ID, Name: t.Name, Prefix: t.Prefix, Scopes: t.Scopes, CreatedAt: t.CreatedAt.Format("Jan 2, 2006"), LastUsed: "never used", Expires: "no expiry"}
		if t.LastUsedAt != nil {
			row.LastUsed = "last used " + t.LastUsedAt.Format("Jan 2, 2006")
		}
		if t.ExpiresAt != nil {
			row.Expires = "expires " + t.ExpiresAt.Format("Jan 2, 2006")
			if !t.ExpiresAt.After(now) {
				row.Expires = "expired"
			}
		}
		s.Tokens = append(s.Tokens, row)
	}
	return s, nil
}

func (a *app) handleTokenCreate(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		a.error(w, r, err)
		return
	}
	in := auth.CreateTokenInput{Name: r.PostForm.Get("name"), Scopes: r.PostForm["scopes"]}
	var dateErr error
	if d := r.PostForm.Get("expires_at"); d != "" {
		day, err := time.Parse("2006-01-02", d)
		if err != nil {
			dateErr = apperr.InvalidFields(map[string]string{"expires_at": "Pick a date."})
		}
		end := day.Add(24*time.Hour - time.Second) // valid through the whole chosen day (UTC)
		in.ExpiresAt = &end
	}
	var secret string
	err := dateErr
	if err == nil {
		_, secret, err = a.auth.CreateToken(r.Context(), currentUser(r).ID, nil, in)
	}
	if err != nil {
		a.formFailed(w, r, err, func() (formView, error) {
			s, lerr := a.tokensSection(r)
			s.Form = formOf(r, err, "name", "expires_at")
			p := a.accountPage(r)
			p.Tokens = s
			return formView{fragment: views.Tokens(s), page: views.Account(p)}, lerr
		})
		return
	}
	s, err := a.tokensSection(r)
	if err != nil {
		a.error(w, r, err)
		return
	}
	if !isHTMX(r) {
		// Without htmx the secret must still be shown once: render the page.
		p := a.accountPage(r)
		s.NewSecret = secret
		p.Tokens = s
		a.render(w, r, http.StatusCreated, views.Account(p))
		return
	}
	s.NewSecret = secret
	a.render(w, r, http.StatusOK, views.Tokens(s))
}

func (a *app) handleTokenRevoke(w http.ResponseWriter, r *http.Request) {
	if err := a.auth.RevokeToken(r.Context(), currentUser(r).ID, nil, chi.URLParam(r, "id")); err != nil {
		a.error(w, r, err)
		return
	}
	if !isHTMX(r) {
		a.flash(r, "success", "Token revoked.")
		redirect(w, r, "/account")
		return
	}
	s, err := a.tokensSection(r)
	if err != nil {
		a.error(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, views.Tokens(s))
}
