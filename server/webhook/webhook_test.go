package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"
)

// The signature is the documented HMAC: body, a dot, the timestamp.
func TestSign(t *testing.T) {
	secret, body, ts := []byte("k"), []byte(`{"id":"1"}`), "2026-03-01T09:00:00Z"
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(`{"id":"1"}.2026-03-01T09:00:00Z`))
	if got, want := Sign(secret, body, ts), hex.EncodeToString(m.Sum(nil)); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	if Sign(secret, body, "2026-03-01T09:00:01Z") == Sign(secret, body, ts) {
		t.Fatal("the timestamp is not signed")
	}
}

// Retries wait Backoff, doubling, within ±20% jitter, never over an hour.
func TestBackoff(t *testing.T) {
	o := Options{Backoff: time.Second}
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 13: time.Hour, 80: time.Hour} {
		for range 20 {
			if d := o.backoff(n); d < want*8/10 || d > want*12/10 {
				t.Fatalf("backoff(%d) = %v, want %v ±20%%", n, d, want)
			}
		}
	}
	if d := (&Options{}).backoff(1); d < 8*time.Second || d > 12*time.Second {
		t.Fatalf("default first backoff %v, want 10 s ±20%%", d)
	}
}
