package main

import (
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/auth"
	"github.com/weupload/weupload/views"
)

// parseForm reads a urlencoded form; a malformed or oversized body is a 400.
func parseForm(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return &apperr.Error{Code: apperr.BadRequest, Message: "The form could not be read. Please reload the page and try again.", Err: err}
	}
	return nil
}

// formOf copies submitted values (never passwords) back into a form with the
// error's field messages, for re-rendering with status 422.
func formOf(r *http.Request, err error, fields ...string) views.Form {
	f := views.Form{Values: map[string]string{}, Errors: map[string]string{}}
	for _, k := range fields {
		f.Values[k] = r.PostForm.Get(k)
	}
	if e := apperr.As(err); e != nil {
		for k, v := range e.Fields {
			f.Errors[k] = v
		}
		if len(e.Fields) == 0 {
			f.Message = e.Message
		}
	}
	return f
}

// safeNext keeps a post-login redirect on our own site: a path with no
// scheme or host. Browsers drop tabs and newlines and read "\\" as "/"
// before resolving a Location (htmx's HX-Redirect too), so "/\t/evil.example"
// would go to //evil.example: any control character or backslash refuses.
func safeNext(next string) string {
	const home = "/files"
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsRune(next, '\\') {
		return home
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f || unicode.IsControl(c) {
			return home
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return home
	}
	return next
}

// redirect sends the browser on after a successful form post, whether the
// form was posted by htmx or natively.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	if isHTMX(r) {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (a *app) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	p := views.LoginPage{Shell: a.shell(r, "Log in"), Next: r.URL.Query().Get("next")}
	switch {
	case r.URL.Query().Get("logged_out") == "1":
		p.Flashes = append(p.Flashes, views.Flash{Kind: "success", Message: "You have been logged out."})
	case r.URL.Query().Get("registered") == "1":
		p.Flashes = append(p.Flashes, views.Flash{Kind: "success", Message: registeredMessage})
	}
	a.render(w, r, http.StatusOK, views.Login(p))
}

func (a *app) handleLogin(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		a.error(w, r, err)
		return
	}
	in := auth.LoginInput{Email: r.PostForm.Get("email"), Password: r.PostForm.Get("password"), ClientIP: info(r).ipKey}
	u, err := a.auth.Authenticate(r.Context(), in)
	switch {
	case auth.IsBadCredentials(err):
		a.metrics.logins.WithLabelValues("failure").Inc()
	case apperr.Is(err, apperr.TooMany):
		a.metrics.logins.WithLabelValues("throttled").Inc()
	}
	if err != nil {
		a.formFailed(w, r, err, func() (formView, error) {
			p := views.LoginPage{Shell: a.shell(r, "Log in"), Form: formOf(r, err, "email"), Next: r.PostForm.Get("next")}
			return formView{fragment: views.LoginForm(p), page: views.Login(p)}, nil
		})
		return
	}
	if err := a.startSession(r, &u); err != nil {
		a.error(w, r, err)
		return
	}
	redirect(w, r, safeNext(r.PostForm.Get("next")))
}

// startSession renews the session token (no fixation) and binds it to the
// user and their current auth epoch.
func (a *app) startSession(r *http.Request, u *auth.User) error {
	if err := a.sessions.RenewToken(r.Context()); err != nil {
		return err
	}
	a.sessions.Put(r.Context(), sessUserID, u.ID)
	a.sessions.Put(r.Context(), sessEpoch, u.AuthEpoch)
	return nil
}

func (a *app) handleLogout(w http.ResponseWriter, r *http.Request) {
	if err := a.sessions.Destroy(r.Context()); err != nil {
		a.error(w, r, err)
		return
	}
	redirect(w, r, "/login?logged_out=1")
}

func (a *app) handleRegisterPage(w http.ResponseWriter, r *http.Request) {
	if !a.cfg.RegistrationOpen() {
		a.registrationClosed(w, r)
		return
	}
	a.render(w, r, http.StatusOK, views.Register(views.RegisterPage{Shell: a.shell(r, "Create account")}))
}

func (a *app) registrationClosed(w http.ResponseWriter, r *http.Request) {
	a.error(w, r, apperr.Errorf(apperr.NotFound, "Sign-up is closed on this server. Ask its administrator for an account."))
}

func (a *app) handleRegister(w http.ResponseWriter, r *http.Request) {
	if !a.cfg.RegistrationOpen() {
		a.registrationClosed(w, r)
		return
	}
	if err := parseForm(r); err != nil {
		a.error(w, r, err)
		return
	}
	in := auth.RegisterInput{Email: r.PostForm.Get("email"), DisplayName: r.PostForm.Get("display_name"), Password: r.PostForm.Get("password"), ClientIP: info(r).clientIP}
	err := a.auth.Register(r.Context(), in)
	if err != nil {
		a.formFailed(w, r, err, func() (formView, error) {
			p := views.RegisterPage{Shell: a.shell(r, "Create account"), Form: formOf(r, err, "email", "display_name")}
			return formView{fragment: views.RegisterForm(p), page: views.Register(p)}, nil
		})
		return
	}
	// The same answer whether the email was new or already had an account
	// (Register does not say), so sign-up cannot be used to find accounts:
	// no session, but the sign-in page.
	redirect(w, r, "/login?registered=1")
}

// registeredMessage is shown after every accepted sign-up. It must read
// right both for a new account and for an email that already had one.
const registeredMessage = "Your account is ready: sign in with your email and password. If you already had an account with this email, sign in with the password you set then."
