package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/auth"
)

type ctxKey int

const (
	reqInfoKey ctxKey = iota
	userKey
)

// reqInfo is per-request state that the outermost middleware logs once the
// request is done; inner middleware fills in what it learns (the user).
type reqInfo struct {
	id         string
	clientIP   string
	ipKey      string // clientIP as per-IP throttles count it (throttleKey)
	userID     string
	hasSession bool // the session middleware ran (not for static or health)
	json       bool // the route group answers JSON (jsonResponses)
}

func info(r *http.Request) *reqInfo {
	if ri, ok := r.Context().Value(reqInfoKey).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{}
}

// currentUser returns the signed-in user, or nil.
func currentUser(r *http.Request) *auth.User {
	u, _ := r.Context().Value(userKey).(*auth.User)
	return u
}

var requestIDEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func newRequestID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return strings.ToLower(requestIDEncoding.EncodeToString(b))
}

// observe is the outermost middleware: it assigns the request id, resolves
// the client IP, turns a panic into a 500 page, and logs one line per
// request with the route pattern (not the raw path, which may hold tokens).
func (a *app) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &reqInfo{id: newRequestID(), clientIP: clientIP(r, a.cfg.TrustedProxies)}
		ri.ipKey = throttleKey(ri.clientIP)
		r = r.WithContext(context.WithValue(r.Context(), reqInfoKey, ri))
		w.Header().Set("X-Request-Id", ri.id)
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				a.log.Error("panic", "request_id", ri.id, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if ww.Status() == 0 {
					a.error(ww, r, fmt.Errorf("panic: %v", p))
				}
			}
			route := "unmatched"
			if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
				route = rc.RoutePattern()
			}
			status := ww.Status()
			if status == 0 {
				status = http.StatusOK
			}
			elapsed := time.Since(start)
			a.metrics.observeRequest(route, r.Method, status, elapsed.Seconds())
			a.log.LogAttrs(r.Context(), levelFor(status), "request",
				slog.String("request_id", ri.id),
				slog.String("method", r.Method),
				slog.String("route", route),
				slog.Int("status", status),
				slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
				slog.Int("bytes", ww.BytesWritten()),
				slog.String("user_id", ri.userID),
				slog.String("client_ip", ri.clientIP),
			)
		}()
		next.ServeHTTP(ww, r)
	})
}

// clientIP is the peer address, or, when the peer is a trusted proxy, the
// right-most X-Forwarded-For entry that is not itself a trusted proxy.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	ip := peer.Addr().Unmap()
	if !inPrefixes(ip, trusted) {
		return ip.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // garbage: trust nothing further left
		}
		hop = hop.Unmap().WithZone("")
		if !inPrefixes(hop, trusted) {
			return hop.String()
		}
		ip = hop
	}
	return ip.String()
}

func inPrefixes(ip netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// securityHeaders sets the headers every response carries, errors included.
func (a *app) securityHeaders(next http.Handler) http.Handler {
	csp := strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data:",
		"font-src 'self'",
		"connect-src 'self'" + a.storageOrigin(),
		"form-action 'self'",
		"frame-ancestors 'none'",
		"base-uri 'none'",
	}, "; ")
	hsts := a.cfg.SessionSecure && a.cfg.BaseURL.Scheme == "https"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
		if hsts {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// storageOrigin is the object store's origin that browsers PUT to directly,
// added to connect-src; empty for the disk store, which is same-origin.
func (a *app) storageOrigin() string {
	s := a.cfg.Storage
	if s.Backend != "s3" {
		return ""
	}
	ep := s.S3PublicEndpoint
	if ep == "" {
		ep = s.S3Endpoint
	}
	if ep == "" {
		// AWS S3: virtual-hosted bucket endpoint in the region.
		return fmt.Sprintf(" https://%s.s3.%s.amazonaws.com", s.S3Bucket, s.S3Region)
	}
	u, err := url.Parse(ep)
	if err != nil {
		return ""
	}
	if !s.S3PathStyle {
		return " " + u.Scheme + "://" + s.S3Bucket + "." + u.Host
	}
	return " " + u.Scheme + "://" + u.Host
}

// crossOrigin refuses state-changing requests from other origins (CSRF),
// using Sec-Fetch-Site and Origin as Go's CrossOriginProtection does.
func (a *app) crossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.error(w, r, apperr.Errorf(apperr.Forbidden, "This request came from another site and was refused."))
	}))
	return cop.Handler(next)
}

// limitBody caps request bodies: forms and JSON are small, and uploads never
// pass through these routes.
// deadline bounds a request's work by twice the statement timeout: waiting
// for a pool connection (pgx has no acquire timeout of its own), a lock and
// the statements together. When every connection is held, the request
// answers 503 with Retry-After (the context's deadline is an unreachable
// dependency to apperr) instead of queueing until the client gives up, so
// a burst that starves the pool cannot stall the instance for long. Routes
// that stream (the zip, the disk store's blob URLs) set their own.
func (a *app) deadline(next http.Handler) http.Handler {
	d := 2 * a.cfg.DBStatementTimeout
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func limitBody(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, n)
			next.ServeHTTP(w, r)
		})
	}
}

const (
	sessUserID = "user_id"
	sessEpoch  = "auth_epoch"
	sessFlash  = "flash"
)

// loadUser puts the signed-in user into the context. A session whose epoch
// is older than the user's (the password changed elsewhere) is ended.
func (a *app) loadUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info(r).hasSession = true
		id := a.sessions.GetString(r.Context(), sessUserID)
		if id == "" {
			next.ServeHTTP(w, r)
			return
		}
		u, err := a.auth.FindUserByID(r.Context(), id)
		if apperr.Is(err, apperr.NotFound) || (err == nil && u.AuthEpoch != a.sessions.GetInt(r.Context(), sessEpoch)) {
			if err := a.sessions.Destroy(r.Context()); err != nil {
				a.error(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if err != nil {
			a.error(w, r, err)
			return
		}
		info(r).userID = u.ID
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey, &u)))
	})
}

// requireUser sends anonymous visitors to the login page (htmx requests via
// HX-Redirect, so the whole page changes, not a fragment).
func (a *app) requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if currentUser(r) != nil {
			next.ServeHTTP(w, r)
			return
		}
		target := "/login"
		if r.Method == http.MethodGet {
			target += "?next=" + url.QueryEscape(r.URL.RequestURI())
		}
		if isHTMX(r) {
			w.Header().Set("HX-Redirect", target)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
	})
}

// redirectSignedIn sends a signed-in user away from the login and sign-up pages.
func redirectSignedIn(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if currentUser(r) != nil && r.Method == http.MethodGet {
			http.Redirect(w, r, "/files", http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }
