package quota

import (
	"testing"
	"time"

	"fhirlink/server"
)

// A bucket gives its burst at once, then one token every 1/rate seconds;
// each key has its own.
func TestRateLimiterBurstAndRefill(t *testing.T) {
	l := NewRateLimiter(Limits{RatePerSecond: 0.5, RateBurst: 3})
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range 3 {
		if _, err := l.Allow("a", now); err != nil {
			t.Fatalf("request %d of the burst: %v", i+1, err)
		}
	}
	wait, err := l.Allow("a", now)
	if server.ErrorCode(err) != server.ERATELIMIT || wait != 2*time.Second || RetryAfter(wait) != 2 {
		t.Fatalf("past the burst: wait %v, %v", wait, err)
	}
	if _, err := l.Allow("b", now); err != nil {
		t.Fatalf("another key: %v", err)
	}
	if wait, err := l.Allow("a", now.Add(1500*time.Millisecond)); err == nil || wait != 500*time.Millisecond {
		t.Fatalf("before the refill: wait %v, %v", wait, err)
	}
	if _, err := l.Allow("a", now.Add(2*time.Second)); err != nil {
		t.Fatalf("after the refill: %v", err)
	}
	if _, err := l.Allow("a", now.Add(2*time.Second)); err == nil {
		t.Fatal("the refill gave more than one token")
	}
}

// No rate means no limiter; no burst means one second's worth.
func TestNewRateLimiterDefaults(t *testing.T) {
	if l := NewRateLimiter(Limits{}); l != nil {
		t.Fatal("a limiter without a rate")
	}
	if l := NewRateLimiter(Limits{RatePerSecond: 2.5}); l.burst != 3 {
		t.Fatalf("default burst %v, want 3", l.burst)
	}
}

func TestUntilReset(t *testing.T) {
	syd, err := time.LoadLocation("Australia/Sydney")
	if err != nil {
		t.Skip(err)
	}
	// 09:00 in Sydney on 1 March (AEDT, +11) is 22:00 UTC the day before.
	if d := UntilReset(time.Date(2026, 3, 1, 9, 0, 0, 0, syd)); d != 2*time.Hour {
		t.Fatalf("until reset %v, want 2h", d)
	}
	if n := RetryAfter(1500 * time.Millisecond); n != 2 {
		t.Fatalf("RetryAfter rounds up: %d", n)
	}
	if n := RetryAfter(0); n != 1 {
		t.Fatalf("RetryAfter is at least 1: %d", n)
	}
}
