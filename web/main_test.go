package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func runCmd(t *testing.T, env map[string]string, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &out)
	return out.String(), err
}

func TestRunConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"missing DATABASE_URL", map[string]string{}, "DATABASE_URL is required"},
		{"malformed DATABASE_URL", map[string]string{"DATABASE_URL": "postgres://a b@:x/"}, "DATABASE_URL is not a valid PostgreSQL connection string"},
		{"unreachable database", map[string]string{"DATABASE_URL": "postgres://u:hunter22@127.0.0.1:1/db", "DB_CONNECT_WAIT": "1ms"}, "cannot reach 127.0.0.1:1"},
		{"bad listen addr", map[string]string{"DATABASE_URL": "postgres://u@localhost/db", "LISTEN_ADDR": "8080"}, "LISTEN_ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runCmd(t, tt.env, "", "serve")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "hunter22") {
				t.Fatalf("want one line without secrets, got %q", err)
			}
		})
	}
	if _, err := runCmd(t, nil, "", "frobnicate"); err == nil {
		t.Fatal("unknown command accepted")
	}
}

func TestExpiryAndRetentionConfig(t *testing.T) {
	ta := newTestApp(t, map[string]string{"UPLOAD_EXPIRY": "6h", "TRASH_RETENTION": "168h"})
	if c := ta.files.Config(); c.UploadExpiry != 6*time.Hour || c.TrashRetention != 7*24*time.Hour {
		t.Errorf("files config: upload expiry %s, trash retention %s; want 6h, 168h", c.UploadExpiry, c.TrashRetention)
	}
	if got, want := ta.files.MinOrphanAge(), 13*time.Hour; got != want {
		t.Errorf("orphans are deleted after %s, want %s", got, want)
	}
}
