package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/a-h/templ"

	"github.com/weupload/weupload/views"
)

// render writes a component with a status. It renders into a buffer first so
// a template error becomes a clean 500 instead of half a page.
func (a *app) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	var buf bytes.Buffer
	// Rendering is in memory: a request past its deadline (the answer may
	// be the 503 saying so) still gets its page.
	if err := c.Render(context.WithoutCancel(r.Context()), &buf); err != nil {
		a.log.Error("render", "request_id", info(r).id, "err", err)
		http.Error(w, "Internal error (request "+info(r).id+")", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// shell builds the layout data for a page: the user, pending flashes, assets.
func (a *app) shell(r *http.Request, title string) views.Shell {
	s := views.Shell{
		Title:       title,
		RequestID:   info(r).id,
		Static:      a.assets.URL,
		CanRegister: a.cfg.RegistrationOpen(),
		Flashes:     a.popFlashes(r),
	}
	if u := currentUser(r); u != nil {
		s.User = &views.User{DisplayName: u.DisplayName, Email: u.Email, IsAdmin: u.IsAdmin}
	}
	return s
}

// shellNav is shell for a page under a nav item.
func (a *app) shellNav(r *http.Request, title, nav string) views.Shell {
	s := a.shell(r, title)
	s.Nav = nav
	return s
}

// flash queues a message for the next page the user sees.
func (a *app) flash(r *http.Request, kind, msg string) {
	fs := a.peekFlashes(r)
	fs = append(fs, views.Flash{Kind: kind, Message: msg})
	b, _ := json.Marshal(fs)
	a.sessions.Put(r.Context(), sessFlash, string(b))
}

func (a *app) peekFlashes(r *http.Request) []views.Flash {
	var fs []views.Flash
	if !info(r).hasSession {
		return nil
	}
	if s := a.sessions.GetString(r.Context(), sessFlash); s != "" {
		_ = json.Unmarshal([]byte(s), &fs)
	}
	return fs
}

func (a *app) popFlashes(r *http.Request) []views.Flash {
	fs := a.peekFlashes(r)
	if len(fs) > 0 {
		a.sessions.Remove(r.Context(), sessFlash)
	}
	return fs
}
