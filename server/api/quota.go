package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"fhirlink/server"
	"fhirlink/server/metrics"
	"fhirlink/server/quota"
)

// retryAfter sets Retry-After to d in whole seconds, as quota's messages
// state it, and returns them.
func retryAfter(c echo.Context, d time.Duration) int {
	secs := quota.RetryAfter(d)
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	return secs
}

// quota admits a query under the integrator's daily quotas at the site
// (package quota). It runs after requirePairing.
func (s *Server) quota(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if strings.HasSuffix(c.Path(), "/metadata") {
			return next(c) // answered by the server alone
		}
		now := time.Now()
		counted, err := s.quotas.Admit(c.Request().Context(), integrator(c).ID, site(c).ID, now)
		if server.ErrorCode(err) == server.ERATELIMIT {
			retryAfter(c, quota.UntilReset(now))
			s.Metrics.QuotaRefused(integrator(c).ID, metrics.LimitDaily)
		}
		if err != nil {
			return err
		}
		n := noteOf(c)
		n.countable, n.counted = true, counted
		return next(c)
	}
}

// rateLimited admits a request under the integrator's rate limit. It runs
// after authenticate.
func (s *Server) rateLimited(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.rate == nil {
			return next(c)
		}
		if wait, err := s.rate.Allow(integrator(c).ID, time.Now()); err != nil {
			retryAfter(c, wait)
			s.Metrics.QuotaRefused(integrator(c).ID, metrics.LimitRate)
			return err
		}
		return next(c)
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
	resp := usageResponse{From: server.UsageDay(from), To: server.UsageDay(to), ResetsAt: now.Add(quota.UntilReset(now))}
	if resp.Days, err = s.Store.Usage(ctx, in.ID, siteID, resp.From, resp.To); err != nil {
		return err
	}
	for _, u := range resp.Days {
		u.IntegratorID = "" // the caller's own
	}
	if siteID != "" {
		q, b, err := s.quotas.Effective(ctx, in.ID, siteID)
		if err != nil {
			return err
		}
		resp.Limits = &usageLimits{DailyQueries: max(q, 0), DailyBytes: max(b, 0)}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, resp)
}
