package password

import (
	"strings"
	"testing"
	"time"

	"github.com/weupload/weupload/internal/apperr"
)

func TestHash(t *testing.T) {
	long := strings.Repeat("é", 1024)
	tests := []struct {
		name     string
		password string
		try      string
		want     bool
	}{
		{"match", "correct horse", "correct horse", true},
		{"mismatch", "correct horse", "correct horsE", false},
		{"empty try", "correct horse", "", false},
		// A 1024-character password must be compared whole: changing only its
		// last character must fail (bcrypt would truncate at 72 bytes).
		{"no truncation", long, long[:len(long)-2] + "e", false},
		{"long match", long, long, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := Hash(tt.password, Default)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
				t.Fatalf("unexpected hash format %q", h)
			}
			got, err := Verify(tt.try, h)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("VerifyPassword = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHashesAreSalted(t *testing.T) {
	a, _ := Hash("same password", Default)
	b, _ := Hash("same password", Default)
	if a == b {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
}

func TestVerifyPasswordBadHash(t *testing.T) {
	for _, h := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA", "$argon2id$v=18$m=1,t=1,p=1$AA$AA"} {
		if ok, err := Verify("x", h); ok || err == nil {
			t.Errorf("Verify(%q) = %v, %v; want false and an error", h, ok, err)
		}
	}
}

// TestHasherBound runs more verifications at once than the hasher has
// slots: without waiting, the surplus is refused with Unavailable and a
// Retry-After; with a wait, all of them finish.
func TestHasherBound(t *testing.T) {
	cheap := Params{Memory: 8 * 1024, Time: 4, Threads: 1}
	h := NewHasher(cheap, 2)
	hash, err := h.Hash(t.Context(), "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	run := func(n int) (ok, busy int) {
		errs := make(chan error, n)
		for range n {
			go func() {
				_, err := h.Verify(t.Context(), "correct horse", hash)
				errs <- err
			}()
		}
		for range n {
			err := <-errs
			switch e := apperr.As(err); {
			case err == nil:
				ok++
			case e != nil && e.Code == apperr.Unavailable && e.RetryAfter > 0:
				busy++
			default:
				t.Fatal(err)
			}
		}
		return ok, busy
	}
	h.Wait = 0
	if ok, busy := run(20); busy == 0 || ok < 1 {
		t.Fatalf("no wait: %d ok, %d busy; want some ok and some refused", ok, busy)
	}
	h.Wait = time.Minute
	if ok, busy := run(20); ok != 20 {
		t.Fatalf("with a wait: %d ok, %d busy; want all 20", ok, busy)
	}
}
