package quota

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"time"

	"fhirlink/server"
)

// TokenStore keeps token buckets shared by every server node: the
// PostgreSQL store implements it.
type TokenStore interface {
	// TakeRateTokens refills the bucket key (rate tokens a second, at most
	// burst; a new bucket is full) to now and takes up to n whole tokens
	// from it, in one transaction. It returns how many it took and the
	// tokens left (below 1 when it took none).
	TakeRateTokens(ctx context.Context, key string, rate, burst float64, n int, now time.Time) (taken int, left float64, err error)
}

// SharedRateLimiter is the rate limit of an integrator across every
// server node: one token bucket per integrator in the state store, from
// which each node takes tokens in batches of a tenth of a second's worth
// (at least one). A request costs a store round trip only when its node's
// batch is used up, so the store sees at most about ten takes a second per
// busy integrator, whatever the rate and the number of nodes; and a node
// refused by the bucket refuses locally until a batch is due, so a flood
// of refused requests costs no more.
//
// The trade-off: tokens a node took and has not used are lost to the other
// nodes; they are dropped a second after they were taken. So the cluster
// admits at most the limit (never more: every token admitted came out of
// the one bucket) and at least the limit less one batch per node, within
// 10% for any rate of ten a second or more on a few nodes. A node that
// cannot reach the store admits the request (the rate limit protects
// capacity; the store being down fails the request soon enough anyway).
type SharedRateLimiter struct {
	store TokenStore
	rate  float64
	burst float64
	batch int
	log   *slog.Logger

	mu   sync.Mutex
	keys map[string]*sharedKey
}

type sharedKey struct {
	mu         sync.Mutex // held across the store's round trip: one take at a time per key
	tokens     int
	takenAt    time.Time
	emptyUntil time.Time
}

// batchAge is how long a node keeps tokens it took and has not used.
const batchAge = time.Second

// NewSharedRateLimiter returns the limiter of l's rate and burst over
// store, or nil when l has no rate limit.
func NewSharedRateLimiter(l Limits, store TokenStore, log *slog.Logger) *SharedRateLimiter {
	local := NewRateLimiter(l)
	if local == nil {
		return nil
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	batch := max(1, int(math.Ceil(local.rate/10)))
	return &SharedRateLimiter{store: store, rate: local.rate, burst: local.burst, batch: min(batch, int(local.burst)), log: log,
		keys: map[string]*sharedKey{}}
}

// Allow takes a token of key at now, or refuses with [server.ERATELIMIT]
// and the wait until one is due.
func (l *SharedRateLimiter) Allow(key string, now time.Time) (time.Duration, error) {
	l.mu.Lock()
	k := l.keys[key]
	if k == nil {
		if len(l.keys) >= maxBuckets {
			for id, old := range l.keys {
				if old.mu.TryLock() {
					if old.tokens == 0 && now.After(old.emptyUntil) {
						delete(l.keys, id)
					}
					old.mu.Unlock()
				}
			}
		}
		k = &sharedKey{}
		l.keys[key] = k
	}
	l.mu.Unlock()

	k.mu.Lock()
	defer k.mu.Unlock()
	if k.tokens > 0 && now.Sub(k.takenAt) > batchAge {
		k.tokens = 0
	}
	if k.tokens == 0 {
		if now.Before(k.emptyUntil) {
			return l.refuse(k.emptyUntil.Sub(now))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		taken, left, err := l.store.TakeRateTokens(ctx, "rate:"+key, l.rate, l.burst, l.batch, now)
		cancel()
		if err != nil {
			l.log.Warn("rate limit: the shared bucket is unreachable; request admitted", "err", err)
			return 0, nil
		}
		if taken == 0 {
			// The caller is told when a token is due; this node asks again
			// once a batch is, so that nodes kept waiting take batches, not
			// single tokens.
			wait := max(time.Nanosecond, time.Duration((1-left)/l.rate*float64(time.Second)))
			k.emptyUntil = now.Add(time.Duration((float64(l.batch) - left) / l.rate * float64(time.Second)))
			return l.refuse(wait)
		}
		k.tokens, k.takenAt = taken, now
	}
	k.tokens--
	return 0, nil
}

func (l *SharedRateLimiter) refuse(wait time.Duration) (time.Duration, error) {
	return wait, server.Errorf(server.ERATELIMIT, "rate limit of %g requests per second (bursts of %d) reached; retry in %d s",
		l.rate, int(l.burst), RetryAfter(wait))
}
