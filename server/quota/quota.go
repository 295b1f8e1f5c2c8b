// Package quota enforces integrators' daily quotas and their request rate.
//
// Daily quotas are per integrator per site and per UTC day (they reset at
// 00:00 UTC): a number of queries (FHIR reads and searches, passthrough
// queries; not metadata or site status) and a number of bytes returned. The
// server's defaults ([Limits]) apply unless the state store holds an
// override for the integrator, at that site or at every site. Usage lives
// in the state store, so every server node sharing it enforces the same
// count: where a query cap applies, a query is counted before it runs by
// one atomic conditional increment, so concurrent requests never exceed the
// cap; bytes are known only once the response is sent, so they are added
// afterwards (through the audit writer) and a request that crosses the byte
// cap completes, the next one is refused.
//
// The rate limit is a token bucket per integrator (all its sites). A lone
// node holds it in memory ([RateLimiter]); nodes sharing a PostgreSQL store
// share one bucket per integrator in it, taken from in batches
// ([SharedRateLimiter]), so the limit is the cluster's, not each node's.
package quota

import (
	"context"
	"fmt"
	"math"
	"time"

	"fhirlink/server"
)

// Limits are the server's default quotas and rate limit; zero values mean
// unlimited.
type Limits struct {
	DailyQueries int64
	DailyBytes   int64
	// RatePerSecond is the sustained request rate per integrator; RateBurst
	// the requests it may make at once (default: one second's worth).
	RatePerSecond float64
	RateBurst     int
}

// Quotas enforces the daily quotas: Limits' defaults, overridden per
// integrator by what Store holds.
type Quotas struct {
	Store  server.QuotaStore
	Limits Limits
}

// Effective returns the daily limits of integratorID at siteID (0 or less:
// unlimited).
func (q *Quotas) Effective(ctx context.Context, integratorID, siteID string) (queries, bytes int64, err error) {
	overrides, err := q.Store.Quotas(ctx, integratorID)
	if err != nil {
		return 0, 0, err
	}
	queries, bytes = server.EffectiveQuota(overrides, siteID, q.Limits.DailyQueries, q.Limits.DailyBytes)
	return queries, bytes, nil
}

// Admit lets one query of integratorID at siteID through, or refuses it
// with [server.ERATELIMIT] when the day's quota there is used up (retry
// after [UntilReset]). Where a cap applies the query is counted now, and
// counted is true; otherwise the caller adds it to the usage later, with
// the bytes it returned.
func (q *Quotas) Admit(ctx context.Context, integratorID, siteID string, now time.Time) (counted bool, err error) {
	maxQ, maxB, err := q.Effective(ctx, integratorID, siteID)
	if err != nil {
		return false, err
	}
	if maxQ <= 0 && maxB <= 0 {
		return false, nil
	}
	ok, u, err := q.Store.CountQuery(ctx, integratorID, siteID, server.UsageDay(now), maxQ, maxB)
	if err != nil {
		return false, err
	}
	if !ok {
		what := fmt.Sprintf("the daily query quota (%d queries)", maxQ)
		if maxB > 0 && u.Bytes >= maxB {
			what = fmt.Sprintf("the daily data quota (%d bytes)", maxB)
		}
		return false, server.Errorf(server.ERATELIMIT, "%s at this site is used up for today (UTC); it resets at 00:00 UTC, in %d s",
			what, RetryAfter(UntilReset(now)))
	}
	return true, nil
}

// UntilReset is the time left until the daily counters start again (the
// next UTC midnight).
func UntilReset(now time.Time) time.Duration {
	now = now.UTC()
	return time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC).Sub(now)
}

// RetryAfter is d in whole seconds, rounded up and at least 1: the
// Retry-After of a refusal, as its message states it.
func RetryAfter(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
