package ratelimit_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/weupload/weupload/internal/apperr"
	"github.com/weupload/weupload/internal/database/dbtest"
	"github.com/weupload/weupload/internal/ratelimit"
)

func TestLimiter(t *testing.T) {
	l := ratelimit.New(dbtest.New(t))
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	l.Now = func() time.Time { return now }
	ctx := context.Background()
	rule := ratelimit.Rule{Limit: 3, Window: time.Minute}

	for i := 0; i < 3; i++ {
		if err := l.Check(ctx, "k", rule); err != nil {
			t.Fatalf("check %d: %v", i, err)
		}
		if err := l.Hit(ctx, "k", rule); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(20 * time.Second)
	err := l.Check(ctx, "k", rule)
	e := apperr.As(err)
	if e == nil || e.Code != apperr.TooMany {
		t.Fatalf("want TooMany after 3 hits, got %v", err)
	}
	if e.RetryAfter != 40*time.Second {
		t.Fatalf("retry after = %s, want 40s", e.RetryAfter)
	}
	if err := l.Check(ctx, "other", rule); err != nil {
		t.Fatalf("other key throttled: %v", err)
	}

	t.Run("window ends", func(t *testing.T) {
		now = now.Add(40 * time.Second)
		if err := l.Check(ctx, "k", rule); err != nil {
			t.Fatalf("after window: %v", err)
		}
	})
	t.Run("reset", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			_ = l.Hit(ctx, "r", rule)
		}
		if err := l.Reset(ctx, "r"); err != nil {
			t.Fatal(err)
		}
		if err := l.Check(ctx, "r", rule); err != nil {
			t.Fatalf("after reset: %v", err)
		}
	})
	t.Run("take", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			if err := l.Take(ctx, "t", rule); err != nil {
				t.Fatalf("take %d: %v", i, err)
			}
		}
		if err := l.Take(ctx, "t", rule); !apperr.Is(err, apperr.TooMany) {
			t.Fatalf("4th take: want TooMany, got %v", err)
		}
	})
	t.Run("sweep", func(t *testing.T) {
		now = now.Add(time.Hour)
		n, err := l.Sweep(ctx)
		if err != nil || n == 0 {
			t.Fatalf("sweep = %d, %v; want rows deleted", n, err)
		}
	})
}

// TestConcurrentTake checks the count is atomic: 20 parallel takes against a
// limit of 5 admit exactly 5.
func TestConcurrentTake(t *testing.T) {
	l := ratelimit.New(dbtest.New(t))
	rule := ratelimit.Rule{Limit: 5, Window: time.Minute}
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		go func() { errs <- l.Take(context.Background(), "c", rule) }()
	}
	ok := 0
	for i := 0; i < 20; i++ {
		if err := <-errs; err == nil {
			ok++
		} else if !apperr.Is(err, apperr.TooMany) {
			t.Fatal(err)
		}
	}
	if ok != 5 {
		t.Fatalf("%d takes admitted, want 5", ok)
	}
}

// TestTakeAll checks the take-before-work protocol: a burst admits exactly
// the limit on every key, a refusal on the second key gives the first back,
// and a refund makes room for one more.
func TestTakeAll(t *testing.T) {
	l := ratelimit.New(dbtest.New(t))
	ctx := context.Background()
	link := ratelimit.Attempt{Key: "link", Rule: ratelimit.Rule{Limit: 20, Window: time.Minute}}
	ip := ratelimit.Attempt{Key: "ip", Rule: ratelimit.Rule{Limit: 10, Window: time.Minute}}
	errs := make(chan error, 30)
	for range 30 {
		go func() { errs <- l.TakeAll(ctx, link, ip) }()
	}
	ok := 0
	for range 30 {
		if err := <-errs; err == nil {
			ok++
		} else if !apperr.Is(err, apperr.TooMany) {
			t.Fatal(err)
		}
	}
	if ok != 10 {
		t.Fatalf("%d admitted, want 10 (the IP limit)", ok)
	}
	// The link counted only the 10 admitted: 10 more from other IPs pass.
	for i := range 10 {
		if err := l.TakeAll(ctx, link, ratelimit.Attempt{Key: "other", Rule: ip.Rule}); err != nil {
			t.Fatalf("take %d on the link: %v", i, err)
		}
	}
	if err := l.TakeAll(ctx, link); !apperr.Is(err, apperr.TooMany) {
		t.Fatalf("21st on the link: want TooMany, got %v", err)
	}
	if err := l.Refund(ctx, link); err != nil {
		t.Fatal(err)
	}
	if err := l.TakeAll(ctx, link); err != nil {
		t.Fatalf("after a refund: %v", err)
	}
}

// TestLongKeys: keys are stored hashed, so a key far beyond an index
// entry's size (a 10 KB email) is counted like any other.
func TestLongKeys(t *testing.T) {
	l := ratelimit.New(dbtest.New(t))
	b := make([]byte, 5000)
	_, _ = rand.Read(b) // incompressible, so beyond the index limit as stored
	key := "login:account:" + hex.EncodeToString(b) + "@example.com"
	rule := ratelimit.Rule{Limit: 1, Window: time.Minute}
	if err := l.Take(context.Background(), key, rule); err != nil {
		t.Fatal(err)
	}
	if err := l.Take(context.Background(), key, rule); !apperr.Is(err, apperr.TooMany) {
		t.Fatalf("second take: want TooMany, got %v", err)
	}
}
