package server

import (
	"context"
	"time"
)

// Quota is an override of the server's default daily limits for one
// integrator at one site, or at every site when SiteID is empty (a
// site-specific override wins). For each limit a value below zero means
// "the server's default", zero means unlimited.
type Quota struct {
	IntegratorID string `json:"integratorId"`
	SiteID       string `json:"siteId,omitempty"`
	DailyQueries int64  `json:"dailyQueries"`
	DailyBytes   int64  `json:"dailyBytes"`
}

// Usage is what an integrator did at a site on one UTC day: queries run
// (FHIR reads and searches, passthrough queries) and bytes returned.
type Usage struct {
	IntegratorID string `json:"integratorId,omitempty"`
	SiteID       string `json:"siteId"`
	Day          string `json:"day"` // YYYY-MM-DD, UTC
	Queries      int64  `json:"queries"`
	Bytes        int64  `json:"bytes"`
}

// UsageDay is t's UTC day as [Usage.Day] writes it. Quotas are daily per
// UTC day: they reset at 00:00 UTC (10:00 or 11:00 in Sydney).
func UsageDay(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// QuotaStore is the part of the [Store] keeping quota overrides and usage
// counters. Counters change only by atomic increments, so several server
// nodes sharing the store agree.
type QuotaStore interface {
	// SetQuota creates or replaces the override for (IntegratorID, SiteID);
	// [ENOTFOUND] when the integrator, or a non-empty site, does not exist.
	SetQuota(ctx context.Context, q *Quota) error
	// Quotas returns an integrator's overrides, the every-site one (SiteID
	// empty) first.
	Quotas(ctx context.Context, integratorID string) ([]*Quota, error)

	// CountQuery adds one query to the day's usage of (integratorID,
	// siteID) unless the day already has maxQueries queries or maxBytes
	// bytes (a maximum of zero or less is no limit). It reports whether it
	// counted, and the usage as it is after the call.
	CountQuery(ctx context.Context, integratorID, siteID, day string, maxQueries, maxBytes int64) (bool, *Usage, error)
	// AddUsage adds each entry's Queries and Bytes to its day's counters,
	// in one transaction.
	AddUsage(ctx context.Context, deltas []Usage) error
	// Usage returns an integrator's usage from day from to day to
	// (inclusive, YYYY-MM-DD), at one site or every site when siteID is
	// empty, ordered by day then site.
	Usage(ctx context.Context, integratorID, siteID, from, to string) ([]*Usage, error)
}

// EffectiveQuota resolves the limits for siteID from an integrator's
// overrides and the server's defaults: the site's override, else the
// every-site one, else the default, limit by limit.
func EffectiveQuota(overrides []*Quota, siteID string, defQueries, defBytes int64) (queries, bytes int64) {
	queries, bytes = defQueries, defBytes
	for _, pass := range []string{"", siteID} { // the site-specific override last, so it wins
		for _, q := range overrides {
			if q.SiteID != pass {
				continue
			}
			if q.DailyQueries >= 0 {
				queries = q.DailyQueries
			}
			if q.DailyBytes >= 0 {
				bytes = q.DailyBytes
			}
		}
	}
	return queries, bytes
}
