package quota

import (
	"math"
	"sync"
	"time"

	"fhirlink/server"
)

// RateLimiter is a token bucket per key (an integrator): it holds Burst
// tokens at most and gains Rate of them a second.
type RateLimiter struct {
	rate, burst float64
	mu          sync.Mutex
	buckets     map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets bounds the limiter's memory; past it, full buckets (which
// behave as new ones) are forgotten.
const maxBuckets = 100000

// NewRateLimiter returns the limiter of l's rate and burst, or nil when l
// has no rate limit.
func NewRateLimiter(l Limits) *RateLimiter {
	if l.RatePerSecond <= 0 {
		return nil
	}
	burst := l.RateBurst
	if burst <= 0 {
		burst = max(1, int(math.Ceil(l.RatePerSecond)))
	}
	return &RateLimiter{rate: l.RatePerSecond, burst: float64(burst), buckets: map[string]*bucket{}}
}

// Allow takes a token from key's bucket at now, or refuses with
// [server.ERATELIMIT] and the wait until a token is there.
func (l *RateLimiter) Allow(key string, now time.Time) (wait time.Duration, err error) {
	if wait = l.take(key, now); wait == 0 {
		return 0, nil
	}
	return wait, server.Errorf(server.ERATELIMIT, "rate limit of %g requests per second (bursts of %d) reached; retry in %d s",
		l.rate, int(l.burst), RetryAfter(wait))
}

// take takes a token, or returns how long until one is there.
func (l *RateLimiter) take(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.evict(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(l.burst, b.tokens+el*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return max(time.Nanosecond, time.Duration((1-b.tokens)/l.rate*float64(time.Second)))
}

func (l *RateLimiter) evict(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}
