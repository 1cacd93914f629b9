package main

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/weupload/weupload/internal/database/dbtest"
)

func TestUserQuotaCommand(t *testing.T) {
	url := dbtest.NewURL(t)
	env := map[string]string{"DATABASE_URL": url, "DEFAULT_QUOTA": "2GiB"}
	if out, err := runCmd(t, env, "s3cret password\n", "user", "create", "--email", "q@example.com", "--password-stdin"); err != nil {
		t.Fatalf("user create: %v\n%s", err, out)
	}
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	// override returns the quota column as the command left it (NULL: the default).
	override := func() *int64 {
		t.Helper()
		var q *int64
		err := pool.QueryRow(context.Background(),
			`SELECT q.quota_bytes FROM users u LEFT JOIN quotas q ON q.user_id = u.id WHERE u.email = 'q@example.com'`).Scan(&q)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}

	tests := []struct {
		name string
		args []string
		out  string
		want int64 // -1: no override
	}{
		{"with units", []string{"Q@Example.com ", "50GiB"}, "q@example.com: own quota 50 GiB, 0 bytes stored", 50 << 30},
		{"decimal units", []string{"q@example.com", "500MB"}, "own quota 476.8 MiB", 500e6},
		{"zero", []string{"q@example.com", "0"}, "own quota 0 bytes", 0},
		{"back to the default", []string{"q@example.com", "default"}, "q@example.com: default quota 2 GiB", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runCmd(t, env, "", append([]string{"user", "quota"}, tt.args...)...)
			if err != nil || !strings.Contains(out, tt.out) {
				t.Fatalf("user quota %v: %v\n%s, want %q", tt.args, err, out, tt.out)
			}
			got := override()
			if (got == nil) != (tt.want < 0) || (got != nil && *got != tt.want) {
				t.Errorf("quota_bytes = %v, want %d", got, tt.want)
			}
		})
	}

	errs := []struct {
		name string
		args []string
		want string
	}{
		{"unknown user", []string{"nobody@example.com", "1GiB"}, "No user has the email nobody@example.com."},
		{"bad size", []string{"q@example.com", "5 parsecs"}, `quota "5 parsecs": unknown unit`},
		{"negative", []string{"q@example.com", "-1"}, `quota "-1"`},
		{"missing size", []string{"q@example.com"}, "usage: weupload user quota EMAIL SIZE|default"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runCmd(t, env, "", append([]string{"user", "quota"}, tt.args...)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("user quota %v: %v, want an error with %q", tt.args, err, tt.want)
			}
		})
	}
	if override() != nil {
		t.Error("a refused command changed the quota")
	}
}

func TestUserCreateAndMigrateCommands(t *testing.T) {
	env := map[string]string{"DATABASE_URL": dbtest.NewURL(t)}
	out, err := runCmd(t, env, "s3cret password\n", "user", "create", "--email", "Admin@Example.com", "--admin", "--password-stdin")
	if err != nil || !strings.Contains(out, "created admin admin@example.com") {
		t.Fatalf("user create: %v\n%s", err, out)
	}
	_, err = runCmd(t, env, "short\n", "user", "create", "--email", "b@example.com", "--password-stdin")
	if err == nil || !strings.Contains(err.Error(), "password: Use at least 8 characters.") {
		t.Fatalf("short password: %v", err)
	}
	_, err = runCmd(t, env, "s3cret password\n", "user", "create", "--email", "admin@example.com", "--password-stdin")
	if err == nil || !strings.Contains(err.Error(), "already registered") {
		t.Fatalf("duplicate: %v", err)
	}
	out, err = runCmd(t, env, "", "migrate", "status")
	if err != nil || !strings.Contains(out, "00001_accounts.sql") || !strings.Contains(out, "applied") {
		t.Fatalf("migrate status: %v\n%s", err, out)
	}
}
