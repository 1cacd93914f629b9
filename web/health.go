package main

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// readiness caches the dependency check briefly, so frequent load-balancer
// probes from several targets cost one query a second at most.
type readiness struct {
	check func(context.Context) []string
	ttl   time.Duration

	mu      sync.Mutex
	at      time.Time
	failing []string
}

func newReadiness(check func(context.Context) []string) *readiness {
	return &readiness{check: check, ttl: time.Second}
}

func (rd *readiness) failingDeps(ctx context.Context) []string {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if time.Since(rd.at) < rd.ttl {
		return rd.failing
	}
	rd.failing = rd.check(ctx)
	rd.at = time.Now()
	return rd.failing
}

// checkDependencies names each dependency that does not answer within 2 s.
func (a *app) checkDependencies(ctx context.Context) []string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var failing []string
	if err := a.pool.Ping(ctx); err != nil {
		a.log.Warn("readiness: database", "err", err)
		failing = append(failing, "database")
	}
	if err := a.blob.Ping(ctx); err != nil {
		a.log.Warn("readiness: storage", "err", err)
		failing = append(failing, "storage")
	}
	return failing
}

// handleHealthz is liveness: the process answers. No dependencies.
func (a *app) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": version, "commit": commit})
}

// handleReadyz is readiness: 503 naming the failing dependencies.
func (a *app) handleReadyz(w http.ResponseWriter, r *http.Request) {
	failing := a.ready.failingDeps(r.Context())
	if len(failing) > 0 {
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "failing": failing})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
