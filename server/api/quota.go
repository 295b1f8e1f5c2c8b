package api

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"fhirlink/server"
)

// Quotas and rate limits.
//
// Daily quotas are per integrator per site and per UTC day (they reset at
// 00:00 UTC): a number of queries (FHIR reads and searches, passthrough
// queries; not metadata or site status) and a number of bytes returned. The
// server's defaults (Limits) apply unless the state store holds an override
// for the integrator, at that site or at every site. Usage lives in the
// state store, so every server node sharing it enforces the same count:
// where a query cap applies, a query is counted before it runs by one
// atomic conditional increment, so concurrent requests never exceed the
// cap; bytes are known only once the response is sent, so they are added
// afterwards and a request that crosses the byte cap completes, the next
// one is refused.
//
// The rate limit is a token bucket per integrator (all its sites), held in
// each server node's memory: behind a load balancer with k nodes an
// integrator may get up to k times the rate.

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

// retryAfter sets Retry-After to d rounded up to whole seconds (at least 1).
func retryAfter(c echo.Context, d time.Duration) int {
	secs := max(1, int(math.Ceil(d.Seconds())))
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	return secs
}

// untilTomorrow is the time left until the next UTC midnight.
func untilTomorrow(now time.Time) time.Duration {
	now = now.UTC()
	return time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC).Sub(now)
}

// quota admits a query under the integrator's daily quotas at the site. It
// runs after requirePairing.
func (s *Server) quota(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if strings.HasSuffix(c.Path(), "/metadata") {
			return next(c) // answered by the server alone
		}
		ctx := c.Request().Context()
		in, st := integrator(c), site(c)
		overrides, err := s.Store.Quotas(ctx, in.ID)
		if err != nil {
			return err
		}
		maxQ, maxB := server.EffectiveQuota(overrides, st.ID, s.Limits.DailyQueries, s.Limits.DailyBytes)
		n := noteOf(c)
		if maxQ > 0 || maxB > 0 {
			now := time.Now()
			ok, u, err := s.Store.CountQuery(ctx, in.ID, st.ID, server.UsageDay(now), maxQ, maxB)
			if err != nil {
				return err
			}
			if !ok {
				secs := retryAfter(c, untilTomorrow(now))
				what := fmt.Sprintf("the daily query quota (%d queries)", maxQ)
				if maxB > 0 && u.Bytes >= maxB {
					what = fmt.Sprintf("the daily data quota (%d bytes)", maxB)
				}
				return server.Errorf(server.ERATELIMIT, "%s at this site is used up for today (UTC); it resets at 00:00 UTC, in %d s", what, secs)
			}
			n.counted = true
		}
		n.countable = true
		return next(c)
	}
}

// rateLimited admits a request under the integrator's rate limit. It runs
// after authenticate.
func (s *Server) rateLimited(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.Limits.RatePerSecond <= 0 {
			return next(c)
		}
		s.rateOnce.Do(func() {
			burst := s.Limits.RateBurst
			if burst <= 0 {
				burst = max(1, int(math.Ceil(s.Limits.RatePerSecond)))
			}
			s.rate = &rateLimiter{rate: s.Limits.RatePerSecond, burst: float64(burst), buckets: map[string]*bucket{}}
		})
		ok, wait := s.rate.allow(integrator(c).ID, time.Now())
		if !ok {
			secs := retryAfter(c, wait)
			return server.Errorf(server.ERATELIMIT, "rate limit of %g requests per second (bursts of %d) reached; retry in %d s",
				s.Limits.RatePerSecond, int(s.rate.burst), secs)
		}
		return next(c)
	}
}

// rateLimiter is a token bucket per key.
type rateLimiter struct {
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

// allow takes a token from key's bucket, or says how long until one is
// there.
func (l *rateLimiter) allow(key string, now time.Time) (bool, time.Duration) {
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
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

func (l *rateLimiter) evict(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}

// usageResponse is the answer of GET /integrator/usage.
type usageResponse struct {
	From string          `json:"from"`
	To   string          `json:"to"`
	Days []*server.Usage `json:"days"`
	// Limits are today's effective daily limits at siteId (0: unlimited),
	// when siteId was given.
	Limits *usageLimits `json:"limits,omitempty"`
	// ResetsAt is when the daily counters start again (the next 00:00 UTC).
	ResetsAt time.Time `json:"resetsAt"`
}

type usageLimits struct {
	DailyQueries int64 `json:"dailyQueries"`
	DailyBytes   int64 `json:"dailyBytes"`
}

// GET /integrator/usage?siteId=&from=&to=: the caller's queries and bytes
// per site and UTC day, from and to being days (YYYY-MM-DD, inclusive;
// default the last 30 days, at most 366).
func (s *Server) usage(c echo.Context) error {
	now := time.Now().UTC()
	to, from := now, now.AddDate(0, 0, -29)
	var err error
	if v := c.QueryParam("to"); v != "" {
		if to, err = time.Parse(time.DateOnly, v); err != nil {
			return server.Errorf(server.EINVALID, "to %q: use a day, YYYY-MM-DD", v)
		}
		from = to.AddDate(0, 0, -29)
	}
	if v := c.QueryParam("from"); v != "" {
		if from, err = time.Parse(time.DateOnly, v); err != nil {
			return server.Errorf(server.EINVALID, "from %q: use a day, YYYY-MM-DD", v)
		}
	}
	if to.Before(from) || to.Sub(from) > 366*24*time.Hour {
		return server.Errorf(server.EINVALID, "from must not be after to, and the range at most 366 days")
	}
	siteID := c.QueryParam("siteId")
	if siteID != "" {
		if _, err := uuid.Parse(siteID); err != nil {
			return server.Errorf(server.EINVALID, "siteId %q is not a UUID", siteID)
		}
	}
	ctx := c.Request().Context()
	in := integrator(c)
	resp := usageResponse{From: server.UsageDay(from), To: server.UsageDay(to), ResetsAt: now.Add(untilTomorrow(now))}
	if resp.Days, err = s.Store.Usage(ctx, in.ID, siteID, resp.From, resp.To); err != nil {
		return err
	}
	for _, u := range resp.Days {
		u.IntegratorID = "" // the caller's own
	}
	if siteID != "" {
		overrides, err := s.Store.Quotas(ctx, in.ID)
		if err != nil {
			return err
		}
		q, b := server.EffectiveQuota(overrides, siteID, s.Limits.DailyQueries, s.Limits.DailyBytes)
		resp.Limits = &usageLimits{DailyQueries: max(q, 0), DailyBytes: max(b, 0)}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, resp)
}
