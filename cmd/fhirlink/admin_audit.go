package main

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"fhirlink/server"
)

// Audit and quota administration.

var auditCmd = admin("audit", "audit [--site ID] [--integrator ID] [--from T] [--to T] [--limit N]",
	`Prints audit records from the state store as JSON, oldest first: every
request to the integrator API, with its integrator, site, FHIR interaction or
SQL text, rows and bytes returned, status, duration and client address.
--from and --to are RFC 3339 times or days (YYYY-MM-DD, UTC); from is
inclusive, to exclusive.`,
	func(fs *flag.FlagSet) func(*cmdContext, server.Store) (any, error) {
		site := fs.String("site", "", "only this site's records")
		integrator := fs.String("integrator", "", "only this integrator's records")
		from := fs.String("from", "", "records from this time")
		to := fs.String("to", "", "records before this time")
		limit := fs.Int("limit", 1000, fmt.Sprintf("at most this many records (up to %d)", server.MaxAuditLimit))
		return func(c *cmdContext, st server.Store) (any, error) {
			f := server.AuditFilter{SiteID: *site, IntegratorID: *integrator, Limit: *limit}
			var err error
			if f.From, err = parseDay(*from, "--from"); err != nil {
				return nil, err
			}
			if f.To, err = parseDay(*to, "--to"); err != nil {
				return nil, err
			}
			if *limit < 1 || *limit > server.MaxAuditLimit {
				return nil, fmt.Errorf("--limit %d: use 1 to %d", *limit, server.MaxAuditLimit)
			}
			return st.Audit(c.ctx, f)
		}
	})

var quotaCmd = admin("quota", "quota --integrator ID [--site ID] [--daily-queries N] [--daily-bytes N]",
	`Sets an integrator's daily quotas at one site, or at every site without
--site (a site's own setting wins), overriding the server's defaults
(fhirlink server --quota-daily-queries, --quota-daily-bytes). A limit left
out, or -1, follows the server's default; 0 is unlimited. Days are UTC: the
counts reset at 00:00 UTC. Without either limit, prints the integrator's
settings.`,
	func(fs *flag.FlagSet) func(*cmdContext, server.Store) (any, error) {
		integrator := fs.String("integrator", "", "the integrator id")
		site := fs.String("site", "", "the site id (default: every site)")
		queries := fs.Int64("daily-queries", -1, "queries a day (FHIR reads and searches, passthrough queries)")
		bytes := fs.Int64("daily-bytes", -1, "bytes returned a day")
		return func(c *cmdContext, st server.Store) (any, error) {
			if *integrator == "" {
				return nil, errors.New("--integrator is required")
			}
			set := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
			if set["daily-queries"] || set["daily-bytes"] {
				if *queries < -1 || *bytes < -1 {
					return nil, errors.New("limits are -1 (the server's default), 0 (unlimited) or a positive number")
				}
				if err := st.SetQuota(c.ctx, &server.Quota{IntegratorID: *integrator, SiteID: *site, DailyQueries: *queries, DailyBytes: *bytes}); err != nil {
					return nil, err
				}
			}
			qs, err := st.Quotas(c.ctx, *integrator)
			if err != nil {
				return nil, err
			}
			if qs == nil {
				qs = []*server.Quota{}
			}
			return map[string]any{"integratorId": *integrator, "quotas": qs}, nil
		}
	})

// parseDay reads an RFC 3339 time or a YYYY-MM-DD day (its UTC midnight).
func parseDay(v, name string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%s %q: use an RFC 3339 time (2026-03-01T09:00:00Z) or a day (2026-03-01)", name, v)
}
